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
