package watchlist

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/strictyaml"

	"github.com/earshot-dev/earshot/internal/termtext"
)

// ValidStatus reports whether s is a status a record can have.
func ValidStatus(s Status) bool {
	switch s {
	case Draft, Pending, Approved, Live, Paused, Rejected:
		return true
	}
	return false
}

// Describe is one line about a record: its version, status and what is live.
func Describe(r Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: version %d, %s", r.ID, r.Version, r.Status)
	switch {
	case r.Live == nil:
		b.WriteString("; nothing live")
	case r.LiveVersion != r.Version || r.Paused:
		fmt.Fprintf(&b, "; live: version %d", r.LiveVersion)
		if r.Paused {
			b.WriteString(" (paused)")
		}
	}
	switch r.Status {
	case Draft, Rejected:
		fmt.Fprintf(&b, "; next: earshot watchlist submit %s", r.ID)
	case Pending:
		fmt.Fprintf(&b, "; next: approval by someone other than %s", r.UpdatedBy)
	}
	return b.String()
}

// applyFile is a watchlist file as ReadSpecFile reads it: the
// spec, and the status and version a file kept in git may carry, which the
// store sets itself.
type applyFile struct {
	Spec    `yaml:",inline"`
	Status  string `yaml:"status"`
	Version int    `yaml:"version"`
}

// ReadSpecFile reads a watchlist file as a change to apply (earshot
// watchlist apply): the status and version a file kept in git may carry
// are the store's to set, so they are ignored, with a warning on warn.
func ReadSpecFile(path string, warn io.Writer) (Spec, error) {
	var f applyFile
	if err := strictyaml.File(path, &f); err != nil {
		return Spec{}, err
	}
	if f.Status != "" || f.Version != 0 {
		fmt.Fprintf(warn, "%s: status and version are the store's to set; ignored (the change becomes a draft with the next version)\n", path)
	}
	return f.Spec, nil
}

// WriteList writes records as a table: id, team, brand, status, version,
// what is live, and who changed it last, when.
func WriteList(w io.Writer, recs []Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTEAM\tBRAND\tSTATUS\tVERSION\tLIVE\tUPDATED BY\tUPDATED")
	for _, r := range recs {
		live := "-"
		if r.Live != nil {
			live = fmt.Sprintf("v%d", r.LiveVersion)
			if r.Paused {
				live += " (paused)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tv%d\t%s\t%s\t%s\n", r.ID, r.Team, r.Brand, r.Status, r.Version, live, r.UpdatedBy, r.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// WriteHistory writes a watchlist's changes as a table, actors and notes
// (free text) through termtext.Line so that they cannot drive the terminal.
func WriteHistory(w io.Writer, h []Change) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tVERSION\tSTATUS\tNOTE")
	for _, c := range h {
		st := "deleted"
		if c.After != nil {
			st = string(c.After.Status)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\tv%d\t%s\t%s\n", c.Seq, c.At.Format(time.RFC3339), termtext.Line(c.Actor), c.Action, c.Version, st, termtext.Line(c.Note))
	}
	return tw.Flush()
}

// UsageError is a store command used wrongly (a flag it needs is
// missing): bad usage, which the CLI reports as it is with exit code 2,
// not a configuration problem.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// CommandOptions are the options of the store's commands (earshot
// watchlist list|show|apply|…).
type CommandOptions struct {
	Actor, Note, Status, Team string
	History                   bool
	IfVersion                 int
}

// Command runs one of the store's commands (list, show, apply, submit,
// approve, reject, pause, resume, delete, import, sync) on the argument of
// pos, as o.Actor, and writes its outcome for a terminal on stdout;
// warnings go to warn. Misuse (an approval that names no version reviewed,
// a rejection without a reason) is a *UsageError.
func (s *Store) Command(ctx context.Context, o CommandOptions, cmd string, pos []string, stdout, warn io.Writer) error {
	switch {
	case cmd == "approve" && o.IfVersion < 1:
		// four eyes: the approver names what they reviewed, so that an edit
		// made since is not approved unread
		return &UsageError{"watchlist approve: name the version you reviewed with --if-version N (the version of earshot watchlist show ID)"}
	case cmd == "reject" && strings.TrimSpace(o.Note) == "":
		return &UsageError{"watchlist reject: say why with --note"}
	case cmd != "list" && cmd != "show" && cmd != "sync" && strings.TrimSpace(o.Actor) == "":
		return &UsageError{"--actor: who makes the change is needed ($USER is not set)"}
	}
	var err error
	arg := ""
	if len(pos) > 0 {
		arg = pos[0]
	}
	var r Record
	switch cmd {
	case "list":
		wf := Filter{Status: Status(o.Status)}
		if o.Team != "" {
			wf.Teams = []string{o.Team}
		}
		return WriteList(stdout, s.List(wf))
	case "show":
		if o.History {
			h, err := s.History(arg)
			if err != nil {
				return err
			}
			return WriteHistory(stdout, h)
		}
		if r, err = s.Get(arg); err != nil {
			return err
		}
		return writeJSON(stdout, r)
	case "apply":
		var sp Spec
		if sp, err = ReadSpecFile(arg, warn); err != nil {
			return err
		}
		r, err = s.Apply(ctx, o.Actor, sp, o.IfVersion)
	case "submit":
		r, err = s.Submit(ctx, o.Actor, arg, o.Note)
	case "approve":
		r, err = s.ApproveVersion(ctx, o.Actor, arg, o.IfVersion, o.Note)
	case "reject":
		r, err = s.Reject(ctx, o.Actor, arg, o.Note)
	case "pause":
		r, err = s.Pause(ctx, o.Actor, arg, o.Note)
	case "resume":
		r, err = s.Resume(ctx, o.Actor, arg, o.Note)
	case "delete":
		if err := s.Delete(ctx, o.Actor, arg, o.Note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: deleted\n", arg)
		return nil
	case "import":
		recs, err := s.Import(ctx, o.Actor, arg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			fmt.Fprintln(stdout, Describe(r))
		}
		fmt.Fprintf(stdout, "%d watchlists imported from %s\n", len(recs), arg)
		return nil
	case "sync":
		n, err := s.Sync(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d watchlists live\n", n)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, Describe(r))
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
