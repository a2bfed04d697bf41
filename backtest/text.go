package backtest

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/termtext"
)

// WriteText writes the report for a terminal: the totals, notes, matches
// per day, overlap with the live watchlists and the sample. What came from
// posts is printed through termtext.Line: a post cannot drive the terminal.
func (rep *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "backtest of %s from %s to %s: %d of %d indexed posts matched (%s)\n", rep.Watchlist,
		rep.Since.Format("2006-01-02 15:04"), rep.Until.Format("2006-01-02 15:04"), rep.Matched, rep.Scanned, rep.Took.Round(time.Millisecond))
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", termtext.Line(n))
	}
	fmt.Fprintln(w, "\nper day (UTC)   matched / indexed")
	for _, d := range rep.PerDay {
		fmt.Fprintf(w, "  %s  %7d / %d\n", d.Day, d.Matched, d.Scanned)
	}
	fmt.Fprintln(w, "\noverlap with the live watchlists (of the draft's matches, how many each also matched)")
	if len(rep.Overlap) == 0 {
		fmt.Fprintln(w, "  no live watchlists")
	}
	for _, o := range rep.Overlap {
		fmt.Fprintf(w, "  %-24s %7d  %5.1f%%\n", o.Watchlist, o.Both, 100*o.Share)
	}
	fmt.Fprintf(w, "\nsample (%d)\n", len(rep.Sample))
	for _, s := range rep.Sample {
		kw := make([]string, len(s.Keywords))
		for i, k := range s.Keywords {
			kw[i] = termtext.Line(k)
		}
		fmt.Fprintf(w, "  %s  %s  @%s  %v\n    %s\n", s.CreatedAt.Format("2006-01-02 15:04"), termtext.Line(s.Key), termtext.Line(strings.TrimPrefix(s.Author, "@")), kw, termtext.Line(s.Text))
	}
}
