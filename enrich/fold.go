package enrich

import (
	"sync"

	"github.com/earshot-dev/earshot/textnorm"
)

// foldAccents is s as a lexicon that ignores accents reads it: textnorm's
// Plain key (case, diacritics, compatibility forms and invisible
// characters folded: "pésimo" → "pesimo", "καλό" → "καλο"). It allocates
// only when something changes.
func foldAccents(s string) string { return textnorm.Key(s, textnorm.Plain) }

// foldRune is the feature hashing's fold of a lower-case rune: textnorm's
// (textnorm.FoldRune) over the blocks the trained models were fitted with
// (Latin, Greek and Cyrillic letters with diacritics), the rune itself
// elsewhere. Widening it changes the features of the embedded models, so
// it waits for their retraining.
func foldRune(r rune) (rune, bool) {
	if r < 0x80 || r >= 0x2000 {
		return r, false
	}
	d := featureFold()[r]
	return d, d != 0
}

var featureFold = sync.OnceValue(func() *[0x2000]rune {
	t := new([0x2000]rune)
	for _, rg := range [][2]rune{{0xC0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x1E00, 0x1FFF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			if d, ok := textnorm.FoldRune(r); ok && d != r {
				t[r] = d
			}
		}
	}
	return t
})
