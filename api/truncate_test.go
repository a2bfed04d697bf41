package api

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// truncate cuts what an error echoes of a request (a path id, a query
// value) without splitting a character or a grapheme cluster: a cut
// mid-sequence became U+FFFD in the JSON answer.
func TestTruncateKeepsCharactersWhole(t *testing.T) {
	family := "👨\u200d👩\u200d👧\u200d👦"
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{strings.Repeat("é", 100), 81, strings.Repeat("é", 80) + "…"},
		{"ab" + family + "cd", 4, "ab…"},
		{"short", 80, "short"},
	} {
		got := truncate(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
