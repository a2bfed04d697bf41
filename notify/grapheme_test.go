package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCutKeepsGraphemesWhole: an excerpt cut before "…" drops a family
// emoji (seven code points joined by ZWJ), a flag (two regional
// indicators) or a letter with its accent whole, rather than showing a
// lone man, a lone regional indicator or a bare letter; a single cluster
// longer than the limit (a letter with 5,000 accents) is still cut by
// code point, so the cut stays bounded.
func TestCutKeepsGraphemesWhole(t *testing.T) {
	const n = 20
	family, flag := "👨\u200d👩\u200d👧\u200d👦", "🇬🇷"
	for name, c := range map[string]struct{ in, want string }{
		"family": {strings.Repeat("a", n-3) + family + "tail", strings.Repeat("a", n-3) + "…"},
		"flag":   {strings.Repeat("a", n-2) + flag + flag, strings.Repeat("a", n-2) + "…"},
		"accent": {strings.Repeat("a", n-2) + "e\u0301\u0301xyz", strings.Repeat("a", n-2) + "…"},
	} {
		for fname, f := range map[string]func(string, int) string{"truncate": truncate, "slackCut": slackCut} {
			if got := f(c.in, n); got != c.want {
				t.Errorf("%s %s: %q, want %q", fname, name, got, c.want)
			}
		}
	}
	// 20 code points, but 24 UTF-16 units: truncate keeps it, slackCut drops the family whole.
	fits := strings.Repeat("a", n-7) + family
	if got := truncate(fits, n); got != fits {
		t.Errorf("truncate of %q: %q", fits, got)
	}
	if got := slackCut(fits, n); got != strings.Repeat("a", n-7)+"…" {
		t.Errorf("slackCut of %q: %q", fits, got)
	}
	// slackCut counts UTF-16 units: 12 flags are 24 characters and 48 units.
	if got := slackCut(strings.Repeat(flag, 12), n); got != strings.Repeat(flag, 4)+"…" {
		t.Errorf("slackCut of 12 flags to %d: %q", n, got)
	}
	zalgo := "e" + strings.Repeat("\u0301", 5000)
	for fname, f := range map[string]func(string, int) string{"truncate": truncate, "slackCut": slackCut} {
		got := f(zalgo, n)
		if c := utf8.RuneCountInString(got); c != n || !strings.HasSuffix(got, "…") {
			t.Errorf("%s of one cluster of 5,001 code points: %d code points, want %d ending in …", fname, c, n)
		}
	}
}
