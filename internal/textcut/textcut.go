// Package textcut cuts untrusted text (a post, a handle) to a bound at a
// grapheme cluster boundary: a cut never leaves a lone man of a family
// emoji, half a flag or a letter without its accent. notify's messages,
// the digests and the API's alert excerpts all cut with it, so that one
// post reads the same everywhere.
package textcut

import (
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Chars cuts s to at most n characters (runes), ending with "…" when it
// cut, at a grapheme cluster boundary. Invalid UTF-8 is replaced.
func Chars(s string, n int) string {
	cut := false
	if len(s) > 4*n { // n runes take at most 4n bytes: look no further (a 1 MiB post costs as a short one)
		s, cut = s[:4*n], true
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !cut && utf8.RuneCountInString(s) <= n {
		return s
	}
	if utf8.RuneCountInString(s) < n {
		return s + "…"
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return s[:Boundary(s, i)] + "…"
}

// Bytes cuts s to at most n bytes at a grapheme cluster boundary, with no
// mark: for text held in memory, whose reader shows an excerpt of it.
// Invalid UTF-8 is kept as it is.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:Boundary(s, i)]
}

// Boundary is the last grapheme cluster boundary of s at or before byte i
// (a rune boundary), so that a cut there does not split a family emoji, a
// flag or a letter from its accents; i itself when the first cluster runs
// past it (one letter with thousands of accents), so the cut stays within
// its bound. Only a cut pays: it segments s from the last pair of ASCII
// characters before i (there is a boundary between two, CR LF aside, and
// no cluster rule looks back across it), or from the start when there is
// none (a run of emoji).
func Boundary(s string, i int) int {
	start := 0
	for k := i - 1; k > 0; k-- {
		if s[k] < utf8.RuneSelf && s[k-1] < utf8.RuneSelf && !(s[k-1] == '\r' && s[k] == '\n') {
			start = k
			break
		}
	}
	last, pos, state := start, start, -1
	for pos < i {
		var cluster string
		cluster, _, _, state = uniseg.FirstGraphemeClusterInString(s[pos:], state)
		if pos+len(cluster) > i {
			break
		}
		pos += len(cluster)
		last = pos
	}
	if last == 0 {
		return i
	}
	return last
}
