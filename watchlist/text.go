package watchlist

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/strictyaml"
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

// WriteHistory writes a watchlist's changes as a table.
func WriteHistory(w io.Writer, h []Change) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tVERSION\tSTATUS\tNOTE")
	for _, c := range h {
		st := "deleted"
		if c.After != nil {
			st = string(c.After.Status)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\tv%d\t%s\t%s\n", c.Seq, c.At.Format(time.RFC3339), c.Actor, c.Action, c.Version, st, c.Note)
	}
	return tw.Flush()
}
