package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/pipeline"
)

const tokenUsage = `usage:
  earshot token create --name N --role R [--teams a,b] [--brands x] [--regions EMEA] [--expires 30d] [--by YOU] [--config F]
  earshot token list   [--config F]
  earshot token revoke ID [--by YOU] [--config F]

Tokens live hashed in api.state_dir/tokens.json (or api.tokens_file); the
secret is printed once, by create. Every create and revoke is written to the
audit log. Roles: admin, coach, gatherer, analyst, responder, ingest, viewer.
`

// tokenTool is `earshot token create|list|revoke`.
func tokenTool(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || helpWanted(args) {
		fmt.Fprint(stderr, tokenUsage)
		if len(args) == 0 {
			return exitError{2, errors.New("token: create, list or revoke?")}
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("earshot token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "deploy/examples/embedded.yaml", "configuration file (its api section says where tokens live)")
	tokensFile := fs.String("tokens", "", "the tokens file, overriding the config")
	stateDir := fs.String("state-dir", "", "the API's state directory, overriding the config")
	by := fs.String("by", os.Getenv("USER"), "who is making the change, for the audit log")
	var name, role, teams, brands, regions, expires string
	if sub == "create" {
		fs.StringVar(&name, "name", "", "who or what the token is for (required)")
		fs.StringVar(&role, "role", "", "admin, coach, gatherer, analyst, responder, ingest or viewer (required)")
		fs.StringVar(&teams, "teams", "", "narrow to these teams (comma-separated)")
		fs.StringVar(&brands, "brands", "", "narrow to these brands")
		fs.StringVar(&regions, "regions", "", "narrow to these regions")
		fs.StringVar(&expires, "expires", "90d", "expire after this long (e.g. 30d, 12h; 0 never)")
	}
	// An id may come before or after the flags.
	var id string
	if sub == "revoke" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2, err}
	}
	if sub == "revoke" && id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("unexpected arguments %v\n%s", fs.Args(), tokenUsage)}
	}
	if sub != "list" && strings.TrimSpace(*by) == "" {
		return exitError{2, errors.New("--by: who makes the change is needed for the audit log ($USER is not set)")}
	}
	if sub != "list" {
		if err := api.CheckActor(*by); err != nil {
			return exitError{2, fmt.Errorf("--by %q: %w", *by, err)}
		}
	}
	acfg := api.DefaultConfig()
	if *tokensFile == "" || *stateDir == "" {
		cfg, err := pipeline.Load(*config)
		if err != nil {
			return err
		}
		acfg = cfg.API
	}
	if *stateDir != "" {
		acfg.StateDir = *stateDir
	}
	if *tokensFile != "" {
		acfg.TokensFile = *tokensFile
	}
	store, err := api.OpenTokens(acfg.Tokens(), nil)
	if err != nil {
		return err
	}
	audit := func(action string, tokID string, before, after any) error {
		a, err := api.OpenAudit(acfg.StateDir)
		if err != nil {
			return err
		}
		defer a.Close()
		rec := api.AuditRecord{Actor: *by, Role: "cli", Action: action, ObjectType: "token", ObjectID: tokID}
		if before != nil {
			rec.Before = jsonOf(before)
		}
		if after != nil {
			rec.After = jsonOf(after)
		}
		return a.Write(rec)
	}
	switch sub {
	case "create":
		if name == "" || role == "" {
			return exitError{2, fmt.Errorf("--name and --role are required\n%s", tokenUsage)}
		}
		r, err := api.ParseRole(role)
		if err != nil {
			return exitError{2, err}
		}
		ttl := time.Duration(0)
		if expires != "0" {
			if ttl, err = api.ParseDuration(expires); err != nil || ttl <= 0 {
				return exitError{2, fmt.Errorf("--expires %q: want e.g. 30d or 12h, or 0 for never", expires)}
			}
		}
		t, secret, err := store.Create(api.NewToken{Name: name, Role: r, Scope: api.Scope{Teams: splitList(teams), Brands: splitList(brands), Regions: splitList(regions)}, TTL: ttl, CreatedBy: *by})
		if err != nil {
			return exitError{2, err}
		}
		if err := audit("token.create", t.ID, nil, t.Public()); err != nil {
			return fmt.Errorf("token %s created, but its audit record was not written: %w", t.ID, err)
		}
		fmt.Fprintf(stderr, "token %s for %s (%s) created; it is shown this once:\n", t.ID, t.Name, t.Role)
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		ts, err := store.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSCOPE\tCREATED\tEXPIRES\tSTATE")
		now := time.Now()
		for _, t := range ts {
			state := "active"
			switch {
			case !t.RevokedAt.IsZero():
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
				state = "expired"
			}
			exp := "never"
			if !t.ExpiresAt.IsZero() {
				exp = t.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, scopeText(t.Scope), t.CreatedAt.Format(time.RFC3339), exp, state)
		}
		return tw.Flush()
	case "revoke":
		if id == "" {
			return exitError{2, fmt.Errorf("which token? earshot token revoke ID\n%s", tokenUsage)}
		}
		before, after, err := store.Revoke(id, *by)
		if err != nil {
			if errors.Is(err, api.ErrTokenUnknown) || errors.Is(err, api.ErrTokenRevoked) {
				return exitError{2, err}
			}
			return err
		}
		if err := audit("token.revoke", id, before, after); err != nil {
			return fmt.Errorf("token %s revoked, but its audit record was not written: %w", id, err)
		}
		fmt.Fprintf(stdout, "token %s (%s) revoked\n", id, before.Name)
		return nil
	}
	fmt.Fprint(stderr, tokenUsage)
	return exitError{2, fmt.Errorf("token: unknown subcommand %q", sub)}
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// scopeText is the scope as the token list shows it: api.Scope's own text,
// with "-" for an unscoped token.
func scopeText(s api.Scope) string {
	if s.Unscoped() {
		return "-"
	}
	return s.String()
}

func jsonOf(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
