// Package termtext makes untrusted text (a post, an author's name, a note)
// safe to print on a terminal in human-readable output. A terminal acts on
// some characters instead of showing them: ESC and the C1 CSI start escape
// sequences that move the cursor, recolour, clear the screen or set the
// window title; CR and backspace overwrite what was printed; bidi controls
// (U+202E and friends) reorder the rest of the line. Line shows each such
// character as a visible escape (\x1b, \u202e), so the reader sees that
// the post holds one and nothing acts on it.
//
// Machine-readable output (--json, CSV) must stay exact: use Line only on
// what is printed for a person.
package termtext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Line is s for one line of a terminal: tabs, line and paragraph breaks
// become spaces, other control characters (C0, DEL, C1) and bidi controls
// become visible escapes, invalid UTF-8 becomes U+FFFD. Everything else,
// emoji joiners included, is kept. It returns s itself when there is
// nothing to change, which is nearly always.
func Line(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || special(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] { // invalid bytes come as utf8.RuneError, written as U+FFFD
		switch {
		case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			b.WriteString(`\x`)
			if r < 0x10 {
				b.WriteByte('0')
			}
			b.WriteString(strconv.FormatInt(int64(r), 16))
		case bidi(r):
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(`\u` + strings.Repeat("0", 4-len(h)) + h)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// special is a rune at or above U+0080 that Line changes.
func special(r rune) bool {
	return r < 0xa0 || r == 0x2028 || r == 0x2029 || bidi(r)
}

// bidi is a bidirectional formatting character: marks, embeddings,
// overrides and isolates (Unicode UAX #9), which reorder what follows.
func bidi(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}
