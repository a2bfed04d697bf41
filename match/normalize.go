package match

import (
	"unicode"
	"unicode/utf8"
)

// normalize appends the matching form of s to dst: lower case, every run of
// characters that are not letters, digits or marks folded to one space, and
// a space at both ends, so that a keyword " ford " matches whole words only
// and never inside "affordable". Characters of scripts written without
// spaces (Han, kana, Hangul, Thai) each stand alone, so keywords in those
// scripts match as substrings.
func normalize(dst []byte, s string) []byte {
	dst = append(dst, ' ')
	space := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				if !space {
					dst = append(dst, ' ')
					space = true
				}
				continue
			}
			dst = append(dst, c)
			space = false
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case unspaced(r):
			if !space {
				dst = append(dst, ' ')
			}
			dst = utf8.AppendRune(dst, r)
			dst = append(dst, ' ')
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
			space = false
		case !space:
			dst = append(dst, ' ')
			space = true
		}
	}
	if !space {
		dst = append(dst, ' ')
	}
	return dst
}

func unspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai)
}
