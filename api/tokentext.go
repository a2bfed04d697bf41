package api

import (
	"encoding/json"
	"fmt"
	"io"
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
