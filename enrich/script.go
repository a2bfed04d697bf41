package enrich

import "unicode"

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

// scriptLang returns the language of text when most of its letters are in
// a single-language script, with the share of letters in it. Japanese is
// recognised by any kana among Chinese characters.
func scriptLang(text string) (string, float64) {
	var counts [16]int
	letters, kana := 0, 0
	for _, r := range text {
		if r < 0x370 || !unicode.IsLetter(r) { // Latin and below: the statistical model's job
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
