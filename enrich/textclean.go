package enrich

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// skipToken reports the length in bytes of a token at the start of s that
// carries no language or sentiment evidence of its own: a URL, an @mention
// or a #hashtag. It returns 0 when s does not start with one.
func skipToken(s string) int {
	switch {
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "www."):
	case len(s) > 1 && (s[0] == '@' || s[0] == '#'):
		r, _ := utf8.DecodeRuneInString(s[1:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return 0
		}
	default:
		return 0
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return i
	}
	return len(s)
}

// letterWords calls yield with each run of letters (and combining marks) of
// text, lower-cased, skipping URLs, mentions and hashtags. Everything else —
// digits, punctuation, emoji — separates words. buf is reused between
// words; yield must not keep it. It stops early when yield returns false.
func letterWords(text string, buf []rune, yield func(w []rune) bool) {
	w := buf[:0]
	atStart := true // at the start of a whitespace-separated token
	for i := 0; i < len(text); {
		if atStart {
			if n := skipToken(text[i:]); n > 0 {
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		atStart = unicode.IsSpace(r)
		if unicode.Is(unicode.Han, r) {
			// Chinese characters are written without spaces: each one is a
			// word of its own, which keeps trigram profiles small.
			if len(w) > 0 && !yield(w) {
				return
			}
			w = append(w[:0], r)
			if !yield(w) {
				return
			}
			w = w[:0]
			continue
		}
		if unicode.IsLetter(r) || (len(w) > 0 && unicode.Is(unicode.M, r)) {
			w = append(w, unicode.ToLower(r))
			continue
		}
		if len(w) > 0 {
			if !yield(w) {
				return
			}
			w = w[:0]
		}
	}
	if len(w) > 0 {
		yield(w)
	}
}
