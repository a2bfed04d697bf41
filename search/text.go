package search

import (
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/termtext"
)

// WriteText writes the result of q for a terminal, highlights in
// [brackets], facets last; days are the index's (Index.Days). What came
// from posts is printed through termtext.Line: a post cannot drive the
// terminal.
func (res *Result) WriteText(w io.Writer, q Query, days []string) {
	shown := ""
	if len(res.Hits) > 0 {
		shown = fmt.Sprintf(", showing %d–%d", q.From+1, q.From+len(res.Hits))
	}
	window := "no shards"
	if len(days) > 0 {
		window = days[0] + " to " + days[len(days)-1]
	}
	total := fmt.Sprint(res.Total)
	if res.Partial {
		// The newest days held search.hit_budget hits: the older ones were
		// not searched.
		total = "at least " + total
		window = res.SearchedFrom + " to " + days[len(days)-1] + " of " + window + "; --exhaustive for every day"
	}
	fmt.Fprintf(w, "%s posts%s (%s, index %s)\n", total, shown, res.Took.Round(time.Microsecond), window)
	mark := strings.NewReplacer("<mark>", "[", "</mark>", "]")
	for i, h := range res.Hits {
		text := h.Text
		if fr := h.Highlights["text"]; len(fr) > 0 {
			text = html.UnescapeString(mark.Replace(fr[0]))
		}
		fmt.Fprintf(w, "\n%d. %s  %s  @%s  %s/%s/%s  %v  score %.2f\n   %s\n", q.From+i+1, termtext.Line(h.Key), h.CreatedAt.Format("2006-01-02 15:04"),
			termtext.Line(strings.TrimPrefix(h.Author, "@")), orDash(h.Lang), orDash(h.Region), orDash(h.Sentiment), lines(h.Watchlists), h.Score, termtext.Line(text))
	}
	if res.Total == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, name := range []string{"watchlist", "region", "sentiment", "lang"} {
		var parts []string
		for _, f := range res.Facets[name] {
			parts = append(parts, fmt.Sprintf("%s %d", termtext.Line(f.Term), f.Count))
		}
		fmt.Fprintf(w, "%-10s %s\n", name+":", strings.Join(parts, ", "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return termtext.Line(s)
}

// lines is ss through termtext.Line, printed as a Go slice is.
func lines(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = termtext.Line(s)
	}
	return out
}
