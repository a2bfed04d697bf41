package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/watchlist"
)

// watchlistCommands is `earshot watchlist …`: files checked, rules
// converted, the published set, backtests, and the store (drafts,
// approval, history: docs/watchlists.md).
func watchlistCommands(stdout, stderr io.Writer) *cobra.Command {
	var config string
	validate := &cobra.Command{Use: "validate DIR", Short: "check the watchlist files of DIR (with --config: its enrich.regions and route.org)", Args: nArgs(1, 1, "one DIR"),
		RunE: func(_ *cobra.Command, args []string) error {
			var cfg *pipeline.Config
			if config != "" {
				c, err := pipeline.Load(config)
				if err != nil {
					return err
				}
				cfg = &c
			}
			n, keywords, err := pipeline.ValidateWatchlists(args[0], cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%d watchlists, %d distinct keywords: ok\n", n, keywords)
			return nil
		}}
	validate.Flags().StringVar(&config, "config", "", "configuration file: its enrich.regions and route.org (owned accounts, for to:@owned) apply")
	var pubConfig, dir string
	publish := &cobra.Command{Use: "publish", Short: "make the watchlists topic hold exactly a directory's watchlists (match.follow: kafka)", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := pipeline.Load(pubConfig)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			log, _ := pipeline.NewLogger("warn", stderr)
			return pipeline.PublishWatchlists(ctx, cfg, dir, stdout, log)
		}}
	publish.Flags().StringVar(&pubConfig, "config", "deploy/examples/distributed.yaml", "configuration file (for Kafka and the topic prefix)")
	publish.Flags().StringVar(&dir, "dir", "", "watchlists directory (default: match.watchlists of the config)")
	g := group("watchlist", "watchlist files, the published set and the store (docs/watchlists.md)", validate, publish, backtestCommand(stdout))
	for _, name := range []string{"list", "show", "apply", "submit", "approve", "reject", "pause", "resume", "delete", "import", "sync"} {
		g.AddCommand(storeCommand(name, stdout, stderr))
	}
	return g
}

// storeUse are the store commands: their arguments and what they do.
var storeUse = map[string][2]string{
	"list":    {"list", "the store's watchlists [--status S] [--team T]"},
	"show":    {"show ID", "one watchlist (JSON), or its history (--history)"},
	"apply":   {"apply FILE.yaml", "create or edit a watchlist: a new draft version [--if-version N]"},
	"submit":  {"submit ID", "ask for approval [--note TEXT]"},
	"approve": {"approve ID --if-version N", "make the submitted version N, the one reviewed, live (not by its editor)"},
	"reject":  {"reject ID --note TEXT", "send the submitted version back"},
	"pause":   {"pause ID", "take the live version out of the live set"},
	"resume":  {"resume ID", "put the live version back"},
	"delete":  {"delete ID", "remove a watchlist (its history stays)"},
	"import":  {"import DIR | import powertrack|brandwatch RULE", "bring a directory of watchlist files (reviewed in git) in, live; or convert a rule from another tool"},
	"sync":    {"sync", "write and publish the live set again"},
}

// storeFlags are the flags of every store command.
type storeFlags struct {
	store, config string
	watchlist.CommandOptions
}

// storeCommand is one `earshot watchlist` command on the store, in local
// mode, acting on the store directory as the operator named by --actor.
// The store is --store DIR, or match.store of --config FILE; with
// transport.kind: kafka in the configuration, changes to the live set are
// published to <prefix>.watchlists.
func storeCommand(name string, stdout, stderr io.Writer) *cobra.Command {
	var f storeFlags
	args := nArgs(1, 1, "one argument")
	switch name {
	case "list", "sync":
		args = noArgs
	case "import":
		args = nArgs(1, 2, "DIR, or powertrack|brandwatch RULE")
	}
	c := &cobra.Command{Use: storeUse[name][0], Short: storeUse[name][1], Args: args,
		RunE: func(_ *cobra.Command, args []string) error {
			if name == "import" && len(args) == 2 {
				if args[0] != "powertrack" && args[0] != "brandwatch" {
					return usageError("watchlist import: want DIR, or powertrack|brandwatch RULE, got %q", args)
				}
				rule, err := match.ImportRule(args[0], args[1])
				if err != nil {
					return exitError{2, err}
				}
				fmt.Fprintln(stdout, rule)
				return nil
			}
			return storeRun(name, args, f, stdout, stderr)
		}}
	fs := c.Flags()
	fs.StringVar(&f.store, "store", "", "watchlist store directory (default: match.store of --config)")
	fs.StringVar(&f.config, "config", "", "configuration file: match.store, match.team_quota, and Kafka for publishing")
	fs.StringVar(&f.Actor, "actor", os.Getenv("USER"), "who makes the change (recorded in the history)")
	fs.StringVar(&f.Note, "note", "", "a note for the history (a reason for a rejection)")
	fs.StringVar(&f.Status, "status", "", "list: only this status (draft, pending, approved, live, paused, rejected)")
	fs.StringVar(&f.Team, "team", "", "list: only this team's watchlists")
	fs.BoolVar(&f.History, "history", false, "show: the watchlist's history instead of its record")
	fs.IntVar(&f.IfVersion, "if-version", -1, "apply: refuse unless the stored version is N (0: create only); approve (required): the version reviewed, refused unless it is the one submitted")
	return c
}

func storeRun(cmd string, pos []string, f storeFlags, stdout, stderr io.Writer) error {
	if f.Status != "" && !watchlist.ValidStatus(watchlist.Status(f.Status)) {
		return usageError("--status %q: want draft, pending, approved, live, paused or rejected", f.Status)
	}
	if f.store == "" && f.config == "" {
		return usageError("the watchlist store: --store DIR, or --config FILE with match.store, is needed")
	}
	log, _ := pipeline.NewLogger("warn", stderr)
	s, closeStore, err := pipeline.OpenStoreFor(f.store, f.config, log)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = s.Command(ctx, f.CommandOptions, cmd, pos, stdout, stderr)
	if ue := (*watchlist.UsageError)(nil); errors.As(err, &ue) {
		return exitError{2, err}
	}
	return pipeline.Classify(err)
}

// tokenCommands is `earshot token create|list|revoke`. Tokens live hashed
// in api.state_dir/tokens.json (or api.tokens_file); the secret is printed
// once, by create. Every create and revoke is written to the audit log.
func tokenCommands(stdout, stderr io.Writer) *cobra.Command {
	g := group("token", "API tokens, hashed in api.state_dir/tokens.json; the secret is shown once, by create")
	for _, sub := range []struct{ use, short string }{
		{"create", "a token: --name N --role R (admin, coach, gatherer, analyst, responder, ingest, viewer) [--teams a,b] [--expires 30d]"},
		{"list", "the tokens, their scope and state"},
		{"revoke ID", "revoke a token"},
	} {
		var f pipeline.TokenFlags
		name, _, _ := strings.Cut(sub.use, " ")
		args := noArgs
		if name == "revoke" {
			args = nArgs(1, 1, "which token? earshot token revoke ID")
		}
		c := &cobra.Command{Use: sub.use, Short: sub.short, Args: args,
			RunE: func(c *cobra.Command, args []string) error {
				f.Req.Given = c.Flags().Changed
				err := pipeline.TokenCommand(name, args, f, stdout, stderr)
				if errors.Is(err, api.ErrTokenRequest) {
					return exitError{2, err}
				}
				return err
			}}
		fs := c.Flags()
		fs.StringVar(&f.Config, "config", "deploy/examples/embedded.yaml", "configuration file (its api section says where tokens live)")
		fs.StringVar(&f.Tokens, "tokens", "", "the tokens file, overriding the config")
		fs.StringVar(&f.StateDir, "state-dir", "", "the API's state directory, overriding the config")
		fs.StringVar(&f.By, "by", os.Getenv("USER"), "who is making the change, for the audit log")
		if name == "create" {
			fs.StringVar(&f.Req.Name, "name", "", "who or what the token is for (required)")
			fs.StringVar(&f.Req.Role, "role", "", "admin, coach, gatherer, analyst, responder, ingest or viewer (required)")
			fs.StringVar(&f.Req.Teams, "teams", "", "narrow to these teams (comma-separated)")
			fs.StringVar(&f.Req.Brands, "brands", "", "narrow to these brands")
			fs.StringVar(&f.Req.Regions, "regions", "", "narrow to these regions")
			fs.StringVar(&f.Req.Markets, "markets", "", "narrow to these markets (org.yaml markets): their alerts, posts and search results")
			fs.StringVar(&f.Req.Expires, "expires", "90d", "expire after this long (e.g. 30d, 12h; 0 never)")
		}
		g.AddCommand(c)
	}
	return g
}
