package enrich

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

// The tally's counts before it was one pass over a table: scriptLang and
// scriptCounts as they were, kept to check that the table gives the same
// answers on every character.
func oldScriptLang(text string) (string, float64) {
	var counts [16]int
	letters, kana := 0, 0
	for _, r := range text {
		if r < 0x370 || !unicode.IsLetter(r) {
			if unicode.IsLetter(r) {
				letters++
			}
			continue
		}
		letters++
		for i, s := range scriptLangs {
			if unicode.Is(s.table, r) {
				counts[i]++
				if s.lang == "ja" {
					kana++
				}
				break
			}
		}
	}
	if letters == 0 {
		return "", 0
	}
	if kana > 0 {
		han := 0
		for _, r := range text {
			if unicode.Is(unicode.Han, r) {
				han++
			}
		}
		if kana+han >= letters/2 {
			return "ja", float64(kana+han) / float64(letters)
		}
	}
	best := -1
	for i := range scriptLangs {
		if best < 0 || counts[i] > counts[best] {
			best = i
		}
	}
	if counts[best]*2 > letters {
		return scriptLangs[best].lang, float64(counts[best]) / float64(letters)
	}
	return "", 0
}

func oldScriptCounts(text string) (letters, known, han int) {
	for _, r := range text {
		if r < 0x80 {
			if r|0x20 >= 'a' && r|0x20 <= 'z' {
				letters++
				known++
			}
			continue
		}
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			known++
		case unicode.In(r, unicode.Latin, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew, unicode.Devanagari):
			known++
		}
	}
	return letters, known, han
}

// TestTallyScriptsMatchesUnicode: the one-pass tally counts what the
// Unicode tables say, for every character of the Basic Multilingual Plane
// (alone and after a kana, which turns on the Japanese rule), for
// characters beyond it, and for random mixed texts.
func TestTallyScriptsMatchesUnicode(t *testing.T) {
	check := func(s string) {
		t.Helper()
		tl := tallyScripts(s)
		l, share := tl.scriptLang()
		ol, oshare := oldScriptLang(s)
		letters, known, han := oldScriptCounts(s)
		if l != ol || share != oshare || tl.letters != letters || tl.known != known || tl.hanLetters != han {
			t.Fatalf("%+q: tally %s %v %d %d %d, want %s %v %d %d %d", s, l, share, tl.letters, tl.known, tl.hanLetters, ol, oshare, letters, known, han)
		}
	}
	for r := rune(0); r < 0x10000; r++ {
		check(string(r))
		check("カ" + string(r) + string(r))
	}
	for _, r := range []rune{0x10000, 0x1F389, 0x20000, 0x2A6DF, 0x16FE0, 0x1B001, 0x10FFFF, 0xFFFD} {
		check(string(r) + "ab")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	blocks := []rune{0, 0x370, 0x400, 0x590, 0x600, 0x900, 0xE00, 0x3040, 0x30A0, 0x4E00, 0xAC00, 0x1F300, 0x20000}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteRune(blocks[rng.IntN(len(blocks))] + rune(rng.IntN(0x100)))
		}
		check(b.String())
	}
}
