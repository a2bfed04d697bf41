package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTokens writes tokens as a table (earshot token list): id, name,
// role, scope ("-" for none), when created and when they expire, and
// whether active, expired or revoked at now.
func WriteTokens(w io.Writer, ts []Token, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSCOPE\tCREATED\tEXPIRES\tSTATE")
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
		scope := "-"
		if !t.Scope.Unscoped() {
			scope = t.Scope.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, scope, t.CreatedAt.Format(time.RFC3339), exp, state)
	}
	return tw.Flush()
}

// CreateAudited creates a token, as the local operator n.CreatedBy (role
// "cli"), and writes the creation to the audit log of stateDir.
func (s *TokenStore) CreateAudited(stateDir string, n NewToken) (Token, string, error) {
	t, secret, err := s.Create(n)
	if err != nil {
		return t, "", err
	}
	if err := AuditTokenChange(stateDir, n.CreatedBy, "token.create", t.ID, nil, t.Public()); err != nil {
		return t, "", fmt.Errorf("token %s created, but its audit record was not written: %w", t.ID, err)
	}
	return t, secret, nil
}

// RevokeAudited revokes a token, as the local operator by (role "cli"),
// and writes the revocation to the audit log of stateDir.
func (s *TokenStore) RevokeAudited(stateDir, id, by string) (Token, error) {
	before, after, err := s.Revoke(id, by)
	if err != nil {
		return before, err
	}
	if err := AuditTokenChange(stateDir, by, "token.revoke", id, before, after); err != nil {
		return before, fmt.Errorf("token %s revoked, but its audit record was not written: %w", id, err)
	}
	return before, nil
}

// ParseTTL is a token's lifetime as the CLI takes it: 30d, 12h, or 0 for
// never (a zero TTL).
func ParseTTL(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	ttl, err := ParseDuration(s)
	if err != nil || ttl <= 0 {
		return 0, fmt.Errorf("%q: want e.g. 30d or 12h, or 0 for never", s)
	}
	return ttl, nil
}

// AuditTokenChange writes a token's creation or revocation by the local
// operator by (role "cli") to the audit log of stateDir.
func AuditTokenChange(stateDir, by, action, id string, before, after any) error {
	a, err := OpenAudit(stateDir)
	if err != nil {
		return err
	}
	defer a.Close()
	rec := AuditRecord{Actor: by, Role: "cli", Action: action, ObjectType: "token", ObjectID: id}
	if before != nil {
		rec.Before, _ = json.Marshal(before)
	}
	if after != nil {
		rec.After, _ = json.Marshal(after)
	}
	return a.Write(rec)
}

// ErrTokenRequest is what a TokenAdmin refuses as asked wrongly: a
// missing or bad name, role, scope, expiry or actor, an unknown or revoked
// token (the CLI exits 2 on it).
var ErrTokenRequest = errors.New("bad token request")

type requestError struct{ err error }

func (e requestError) Error() string        { return e.err.Error() }
func (e requestError) Unwrap() error        { return e.err }
func (e requestError) Is(target error) bool { return target == ErrTokenRequest }

func badRequest(format string, args ...any) error { return requestError{fmt.Errorf(format, args...)} }

// TokenRequest is a token to create as the command line gives it: the
// scope's lists comma-separated, the lifetime as text (ParseTTL).
type TokenRequest struct {
	Name, Role, Teams, Brands, Regions, Markets, Expires string
	// Given reports whether a flag was given, even empty: `--teams "$T"`
	// with T unset is a scope that names nothing, not no scope. Nil: a
	// flag is given when its value is not empty.
	Given func(flag string) bool
}

// TokenAdmin manages the tokens of an API configuration from the command
// line (earshot token list|create|revoke), as the local operator By,
// writing every change to the audit log.
type TokenAdmin struct {
	Config Config
	By     string
	// Names are the teams, regions and markets a new token's scope must
	// name (compared without regard to case, stored as spelt there); a
	// list not known (no configuration read) is taken as given, with a
	// warning, and token list then warns of nothing in it.
	Names ScopeNames
}

func (a TokenAdmin) open(change bool) (*TokenStore, error) {
	if change && strings.TrimSpace(a.By) == "" {
		return nil, badRequest("--by: who makes the change is needed for the audit log ($USER is not set)")
	}
	if change {
		if err := CheckActor(a.By); err != nil {
			return nil, badRequest("--by %q: %w", a.By, err)
		}
	}
	return OpenTokens(a.Config.Tokens(), nil)
}

// List writes the tokens as a table (WriteTokens).
func (a TokenAdmin) List(w, stderr io.Writer) error {
	s, err := a.open(false)
	if err != nil {
		return err
	}
	ts, err := s.List()
	if err != nil {
		return err
	}
	if err := WriteTokens(w, ts, time.Now()); err != nil {
		return err
	}
	for _, msg := range UnknownScopes(ts, a.Names, time.Now()) {
		fmt.Fprintln(stderr, "warning:", msg)
	}
	return nil
}

// UnknownScopes says, for each active token whose scope names a team,
// region or market that names does not know exactly (made before names
// were checked, or the org file changed since), what it names: it sees
// nothing of it. The tokens are left as they are, for an operator to
// revoke and create again (token list and the API's start warn).
func UnknownScopes(ts []Token, names ScopeNames, now time.Time) []string {
	var out []string
	for _, t := range ts {
		if !t.RevokedAt.IsZero() || !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
			continue
		}
		if u := names.Unknown(t.Scope); len(u) > 0 {
			out = append(out, fmt.Sprintf("token %s (%s) names %s, which the organisation does not: it sees nothing of it (revoke it and create it again)", t.ID, t.Name, strings.Join(u, ", ")))
		}
	}
	return out
}

// Revoke revokes the token id and says so on w.
func (a TokenAdmin) Revoke(id string, w io.Writer) error {
	s, err := a.open(true)
	if err != nil {
		return err
	}
	before, err := s.RevokeAudited(a.Config.StateDir, id, a.By)
	if errors.Is(err, ErrTokenUnknown) || errors.Is(err, ErrTokenRevoked) {
		return requestError{err}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(w, "token %s (%s) revoked\n", id, before.Name)
	return nil
}

// Create creates a token and prints its secret, this once, on stdout
// (what it is on stderr).
func (a TokenAdmin) Create(r TokenRequest, stdout, stderr io.Writer) error {
	if r.Name == "" || r.Role == "" {
		return badRequest("--name and --role are required (earshot token create -h)")
	}
	role, err := ParseRole(r.Role)
	if err != nil {
		return requestError{err}
	}
	ttl, err := ParseTTL(r.Expires)
	if err != nil {
		return badRequest("--expires %w", err)
	}
	s, err := a.open(true)
	if err != nil {
		return err
	}
	scope := Scope{Teams: splitList(r.Teams), Brands: splitList(r.Brands), Regions: splitList(r.Regions), Markets: splitList(r.Markets)}
	// An empty scope narrows nothing: a flag given with nothing in it (a
	// shell variable that came out empty) must not make a token of the
	// whole organisation.
	for _, f := range []struct {
		flag, raw string
		list      []string
	}{{"teams", r.Teams, scope.Teams}, {"brands", r.Brands, scope.Brands}, {"regions", r.Regions, scope.Regions}, {"markets", r.Markets, scope.Markets}} {
		if (f.raw != "" || r.Given != nil && r.Given(f.flag)) && len(f.list) == 0 {
			return badRequest("--%s %q names nothing; leave the flag out for a token of the whole organisation", f.flag, f.raw)
		}
	}
	// A name the organisation does not know makes a token that sees
	// nothing and looks as if it worked; a name in another case would too,
	// for the stores compare exactly: it takes the organisation's spelling.
	scope, notChecked, err := a.Names.Canonical(scope)
	if err != nil {
		return requestError{err}
	}
	for _, d := range notChecked {
		fmt.Fprintf(stderr, "warning: --%s not checked: no org file (route.org) is known, so a misspelt name makes a token that sees nothing\n", d)
	}
	t, secret, err := s.CreateAudited(a.Config.StateDir, NewToken{Name: r.Name, Role: role, Scope: scope, TTL: ttl, CreatedBy: a.By})
	if err != nil && t.ID == "" {
		return requestError{err}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "token %s for %s (%s) created; it is shown this once:\n", t.ID, t.Name, t.Role)
	fmt.Fprintln(stdout, secret)
	return nil
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
