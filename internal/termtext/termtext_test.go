package termtext

import (
	"strings"
	"testing"
	"unicode"
)

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text, émoji 👩‍👩‍👧 and 日本語", "plain text, émoji 👩‍👩‍👧 and 日本語"},
		{"a\tb\nc\r\nd\u2028e", "a b c  d e"},
		{"\x1b]0;owned\x07title", `\x1b]0;owned\x07title`},
		{"\x1b[2J\x1b[Hclear", `\x1b[2J\x1b[Hclear`},
		{"csi \u009b31m red", `csi \x9b31m red`},
		{"back\bspace\x7f", `back\x08space\x7f`},
		{"nul\x00", `nul\x00`},
		{"evil \u202egnp.exe", `evil \u202egnp.exe`},
		{"\u2066iso\u2069 \u200fmark \u061c", `\u2066iso\u2069 \u200fmark \u061c`},
		{"bad \xff\x9b utf8", "bad \ufffd\ufffd utf8"},
		{"", ""},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Whatever the input, the output holds no rune a terminal acts on.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"x", "\x1b[31m", "\u202e", "\xc2\x9b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		for _, r := range out {
			if unicode.IsControl(r) || bidi(r) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("Line(%q) = %q holds %U", s, out, r)
			}
		}
		if !strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || bidi(r) || r == unicode.ReplacementChar || r >= 0x2028 && r <= 0x2029
		}) && out != s {
			t.Fatalf("Line changed clean text %q to %q", s, out)
		}
	})
}

func BenchmarkLineClean(b *testing.B) {
	s := strings.Repeat("an ordinary post about a refund 🙂 ", 20)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		Line(s)
	}
}
