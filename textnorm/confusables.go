package textnorm

import "unicode"

// The confusables tables say which characters are invisible and which
// letters of other scripts imitate Latin ones, so that "ac\u200Bme",
// "\u0430cme" (a Cyrillic а) and "ᴀᴄᴍᴇ" (small capitals) can be read as
// the "acme" they pretend to be: the first piece of the one normaliser.
//
// Two sets:
//
//   - Ignorable: Unicode's Default_Ignorable_Code_Point property
//     (DerivedCoreProperties.txt, Unicode 15.1), plus the blank fillers
//     that render as nothing and are not in it: U+2800 BRAILLE PATTERN
//     BLANK. (The Hangul fillers U+115F, U+1160, U+3164 and U+FFA0 are in
//     it.) A word with one of them inside is the word without it.
//   - Latin: a restriction of Unicode TR39's confusables.txt to the
//     characters that imitate one basic Latin letter: Cyrillic and Greek
//     letters, Latin small capitals and a few IPA letters, and the
//     enclosed (circled, parenthesized, squared) Latin letters. Cyrillic
//     and Greek letters are given in lower case and map to the Latin
//     letter that the letter's own form or its capital imitates, so that
//     the mapping keeps case-insensitive matching intact ("ΝΙΚΗ" and
//     "νίκη" both read "nikh"); where the small and the capital imitate
//     different letters (Greek ν looks like v, Ν like N) the capital wins,
//     as all-capital look-alikes are the commoner trick.
//
// The mapping is per character, so it keeps prefixes: a stem maps to the
// prefix of the words it begins. Its cost is that a genuine Cyrillic or
// Greek word made only of look-alikes reads like a Latin word ("сок" and
// "cok", "και" and "kai" become the same word); a rule term marked ^ opts out (Plain).

// Ignorable reports whether r is invisible: a default-ignorable code point
// or a blank filler.
func Ignorable(r rune) bool {
	switch {
	case r < 0xAD:
		return false
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		0x180B <= r && r <= 0x180F, 0x200B <= r && r <= 0x200F, 0x202A <= r && r <= 0x202E,
		0x2060 <= r && r <= 0x206F, r == 0x2800, r == 0x3164, 0xFE00 <= r && r <= 0xFE0F, r == 0xFEFF, r == 0xFFA0, 0xFFF0 <= r && r <= 0xFFF8,
		0x1BCA0 <= r && r <= 0x1BCA3, 0x1D173 <= r && r <= 0x1D17A, 0xE0000 <= r && r <= 0xE0FFF:
		return true
	}
	return false
}

// Latin returns the lower-case basic Latin letter r imitates, and whether
// it imitates one. r is a character as written (an enclosed letter, a
// small capital) or a Cyrillic or Greek letter in lower case (fold case
// first: "М" is "м", which imitates "m").
func Latin(r rune) (rune, bool) {
	switch {
	case r < 0x250:
		return 0, false
	case 0x24B6 <= r && r <= 0x24CF: // Ⓐ…Ⓩ
		return 'a' + r - 0x24B6, true
	case 0x24D0 <= r && r <= 0x24E9: // ⓐ…ⓩ
		return 'a' + r - 0x24D0, true
	case 0x249C <= r && r <= 0x24B5: // ⒜…⒵
		return 'a' + r - 0x249C, true
	case 0x1F130 <= r && r <= 0x1F149: // 🄰…🅉 squared
		return 'a' + r - 0x1F130, true
	case 0x1F150 <= r && r <= 0x1F169: // 🅐…🅩 negative circled
		return 'a' + r - 0x1F150, true
	case 0x1F170 <= r && r <= 0x1F189: // 🅰…🆉 negative squared
		return 'a' + r - 0x1F170, true
	}
	l, ok := table[r]
	return l, ok
}

// table maps single characters to the Latin letter they imitate.
var table = map[rune]rune{
	// Cyrillic, lower case (the capital folds to it).
	'а': 'a', 'в': 'b', 'г': 'r', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ј': 'j', 'һ': 'h', 'ү': 'y', 'ӏ': 'l', 'ԁ': 'd',
	'ԛ': 'q', 'ԝ': 'w',
	// Greek, lower case.
	'α': 'a', 'β': 'b', 'γ': 'y', 'ε': 'e', 'ζ': 'z', 'η': 'h', 'ι': 'i', 'κ': 'k', 'μ': 'm', 'ν': 'n',
	'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ϲ': 'c', 'ϳ': 'j',
	// Latin small capitals and IPA letters.
	'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ꜰ': 'f', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j',
	'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ꞯ': 'q', 'ʀ': 'r', 'ꜱ': 's', 'ᴛ': 't',
	'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z', 'ɑ': 'a', 'ɡ': 'g', 'ɩ': 'i',
}

// WordScripts is what a word is written in, as the mixed-script and
// whole-script confusable checks see it: basic or extended Latin
// letters, letters of another script that imitate Latin ones (Latin
// above), and other letters.
type WordScripts struct{ Latin, LookAlike, Other bool }

// Scripts says which of the three a word holds. Marks, digits and
// punctuation count as none: the caller decides where words end (the
// desk at any non-letter, an email domain at its dots).
func Scripts(word string) WordScripts {
	var s WordScripts
	for _, r := range word {
		_, imitates := Latin(unicode.ToLower(r))
		switch {
		case unicode.Is(unicode.Latin, r):
			s.Latin = true
		case imitates:
			s.LookAlike = true
		case unicode.IsLetter(r):
			s.Other = true
		}
	}
	return s
}
