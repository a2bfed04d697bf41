package search

import (
	"bytes"
	"strings"
	"testing"
)

// A partial result says the total is a lower bound, which days were
// searched, and how to search them all.
func TestPrintPartialResult(t *testing.T) {
	var b bytes.Buffer
	res := &Result{Total: 1200000, Partial: true, SearchedFrom: "2026-11-21"}
	res.WriteText(&b, Query{}, []string{"2026-11-16", "2026-11-21", "2026-11-22"})
	want := "at least 1200000 posts (0s, index 2026-11-21 to 2026-11-22 of 2026-11-16 to 2026-11-22; --exhaustive for every day)"
	if got := strings.SplitN(b.String(), "\n", 2)[0]; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// A hostile post's terminal controls (ESC sequences, C1 CSI, bidi
// overrides, CR) are shown escaped, not acted on by the terminal: in the
// text, the highlight, the author and the facets.
func TestPrintEscapesTerminalControls(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\r"
	res := &Result{Total: 2, Hits: []Hit{
		{Key: "x:1", Author: "@" + evil, Text: evil, Watchlists: []string{evil}},
		{Key: "x:2", Author: "a", Text: "t", Highlights: map[string][]string{"text": {"<mark>" + evil + "</mark>"}}},
	}, Facets: map[string][]Facet{"lang": {{Term: evil, Count: 1}}}}
	var b bytes.Buffer
	res.WriteText(&b, Query{}, []string{"2026-12-07"})
	for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\x07", "\r"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("output holds %q:\n%q", bad, b.String())
		}
	}
	if !strings.Contains(b.String(), `\x1b]0;pwned`) || !strings.Contains(b.String(), `\u202eevil`) {
		t.Errorf("the controls are not shown escaped:\n%s", b.String())
	}
}
