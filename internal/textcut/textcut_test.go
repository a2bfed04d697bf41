package textcut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const family, flag = "👨\u200d👩\u200d👧\u200d👦", "🇬🇷"

// Chars is notify's excerpt cut; its cases are in notify/grapheme_test.go.
// Bytes is the same cut counted in bytes: a family emoji, a flag or a
// letter with its accent is dropped whole, never split; one cluster longer
// than the limit is cut at a code point, so the cut stays bounded; invalid
// UTF-8 never splits further.
func TestBytes(t *testing.T) {
	const n = 20
	for name, c := range map[string]struct{ in, want string }{
		"short":   {"abc", "abc"},
		"exact":   {strings.Repeat("a", n), strings.Repeat("a", n)},
		"ascii":   {strings.Repeat("a", n+5), strings.Repeat("a", n)},
		"family":  {strings.Repeat("a", n-3) + family, strings.Repeat("a", n-3)},
		"flags":   {strings.Repeat("a", n-6) + flag + flag, strings.Repeat("a", n-6)},
		"accent":  {strings.Repeat("a", n-2) + "e\u0301z", strings.Repeat("a", n-2)},
		"rune":    {strings.Repeat("a", n-1) + "é", strings.Repeat("a", n-1)},
		"invalid": {strings.Repeat("a", n-1) + "\xff\xfe", strings.Repeat("a", n-1) + "\xff"},
	} {
		if got := Bytes(c.in, n); got != c.want {
			t.Errorf("%s: Bytes(%q, %d) = %q, want %q", name, c.in, n, got, c.want)
		}
	}
	zalgo := "e" + strings.Repeat("\u0301", 5000)
	if got := Bytes(zalgo, 101); len(got) != 101 || !utf8.ValidString(got) {
		t.Errorf("one cluster of 5,001 code points cut to %d bytes (valid %v), want 101", len(got), utf8.ValidString(got))
	}
	if got := Bytes(strings.Repeat(family, 1<<16), 8<<10); len(got) > 8<<10 || len(got)%len(family) != 0 {
		t.Errorf("a run of families cut to %d bytes, not at a family's end", len(got))
	}
}
