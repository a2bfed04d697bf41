package enrich

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps accented letters of the Latin, Greek and Cyrillic blocks
// to their base letter ("é" → "e", "ά" → "α", final "ς" → "σ"). Built once;
// read-only after.
var foldTable = func() map[rune]rune {
	m := map[rune]rune{'ς': 'σ'}
	for _, rg := range [][2]rune{{0xC0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x1E00, 0x1FFF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			d := []rune(norm.NFD.String(string(r)))
			if len(d) > 1 && !unicode.Is(unicode.Mn, d[0]) && unicode.Is(unicode.Mn, d[1]) {
				m[r] = d[0]
			}
		}
	}
	return m
}()

// foldAccents removes accents and diacritics, since posts often drop them
// ("pésimo" → "pesimo", "καλό" → "καλο"). It allocates only when something
// changes.
func foldAccents(s string) string {
	i := 0
	for i < len(s) {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		if _, ok := foldTable[r]; ok || unicode.Is(unicode.Mn, r) {
			break
		}
		i += utf8.RuneLen(r)
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if f, ok := foldTable[r]; ok {
			b.WriteRune(f)
		} else if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
