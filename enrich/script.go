package enrich

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// scriptLangs maps scripts used by one language only (among those we
// detect) to that language: a post in them needs no statistics.
var scriptLangs = []struct {
	table *unicode.RangeTable
	lang  string
}{
	{unicode.Greek, "el"}, {unicode.Hangul, "ko"}, {unicode.Hiragana, "ja"}, {unicode.Katakana, "ja"},
	{unicode.Thai, "th"}, {unicode.Khmer, "km"}, {unicode.Georgian, "ka"}, {unicode.Armenian, "hy"},
	{unicode.Ethiopic, "am"}, {unicode.Tamil, "ta"}, {unicode.Telugu, "te"}, {unicode.Malayalam, "ml"},
	{unicode.Bengali, "bn"},
}

// What the detector needs to know of a character, one byte of flags:
// runeClass computes it, classOf reads it from a table for the Basic
// Multilingual Plane (a lookup instead of up to 19 Unicode table searches
// per character).
const (
	rcLetter = 1 << 0 // unicode.IsLetter
	rcKnown  = 1 << 1 // a letter in a script the model was trained on (Latin, Cyrillic, Arabic, Hebrew, Devanagari, Han)
	rcHan    = 1 << 2 // unicode.Han, letter or not
	rcScript = 4      // bits 4–7: 1 + the index in scriptLangs of a letter from U+0370 up, 0 for none
)

func runeClass(r rune) uint8 {
	var c uint8
	if unicode.Is(unicode.Han, r) {
		c |= rcHan
	}
	if !unicode.IsLetter(r) {
		return c
	}
	c |= rcLetter
	if c&rcHan != 0 || unicode.In(r, unicode.Latin, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew, unicode.Devanagari) {
		c |= rcKnown
	}
	if r >= 0x370 {
		for i, s := range scriptLangs {
			if unicode.Is(s.table, r) {
				c |= uint8(i+1) << rcScript
				break
			}
		}
	}
	return c
}

var bmpClass = sync.OnceValue(func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := range rune(len(t)) {
		t[r] = runeClass(r)
	}
	return &t
})

// scriptTally is what one pass over a text counts for the detector.
type scriptTally struct {
	letters    int
	known      int     // letters in a script the model was trained on
	han        int     // Chinese characters (letters or not)
	hanLetters int     // Chinese letters
	kana       int     // letters in Hiragana or Katakana
	single     [16]int // letters from U+0370 up per scriptLangs entry
}

// tallyScripts counts the letters of text by script.
func tallyScripts(text string) scriptTally {
	var t scriptTally
	table := bmpClass()
	for i := 0; i < len(text); {
		var c uint8
		if b := text[i]; b < utf8.RuneSelf {
			i++
			if b|0x20 >= 'a' && b|0x20 <= 'z' {
				t.letters++
				t.known++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r < 0x10000 {
			c = table[r]
		} else {
			c = runeClass(r)
		}
		if c&rcHan != 0 {
			t.han++
		}
		if c&rcLetter == 0 {
			continue
		}
		t.letters++
		if c&rcKnown != 0 {
			t.known++
		}
		if c&rcHan != 0 {
			t.hanLetters++
		}
		if s := c >> rcScript; s > 0 {
			t.single[s-1]++
			if scriptLangs[s-1].lang == "ja" {
				t.kana++
			}
		}
	}
	return t
}

// scriptLang returns the language of the tallied text when most of its
// letters are in a single-language script, with the share of letters in
// it. Japanese is recognised by any kana among Chinese characters.
func (t *scriptTally) scriptLang() (string, float64) {
	if t.letters == 0 {
		return "", 0
	}
	if t.kana > 0 && t.kana+t.han >= t.letters/2 {
		return "ja", float64(t.kana+t.han) / float64(t.letters)
	}
	best := 0
	for i := range scriptLangs {
		if t.single[i] > t.single[best] {
			best = i
		}
	}
	if t.single[best]*2 > t.letters {
		return scriptLangs[best].lang, float64(t.single[best]) / float64(t.letters)
	}
	return "", 0
}

// langSample is the part of text the detector reads: the first
// langSampleBytes, cut back to the start of a character.
func langSample(text string) string {
	if len(text) <= langSampleBytes {
		return text
	}
	i := langSampleBytes
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	return text[:i]
}
