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
