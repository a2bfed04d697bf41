package match

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Folding makes spelling variants one: compatibility forms (NFKC: "ﬁ" is
// "fi", fullwidth "Ａ" is "a"), case ("Ω" is "ω", "ς" is "σ", "ß" is
// "ss") and diacritics ("é" is "e", "ά" is "α"). Invisible characters
// (zero-width spaces and joiners, soft hyphens, bidi controls, variation
// selectors) are dropped without breaking a word: they are a common way to
// slip past keyword filters.

// folder maps each rune of the Basic Multilingual Plane to its folded form;
// it is built once per engine and never changes.
type folder struct {
	bmp   [1 << 16]string
	class [1 << 16]uint8
	ascii [256]byte // the folded byte of an ASCII letter or digit; 0 for other ASCII; 0xFF for bytes of multi-byte runes
}

// Rune classes, for the tokenizer.
const (
	clSep       = iota // separates words
	clWord             // part of a word
	clInvisible        // ignored
	clAlone            // a word by itself: ideographs, kana, Hangul, Thai, emoji
)

// sharedFolder is built on first use and never changes, so every engine
// shares one table instead of building its own (it takes ~30 ms).
var sharedFolder = sync.OnceValue(newFolder)

func newFolder() *folder {
	f := &folder{}
	for c := 0x80; c < 0x100; c++ {
		f.ascii[c] = 0xFF
	}
	for c := byte('0'); c <= '9'; c++ {
		f.ascii[c] = c
	}
	for c := byte('a'); c <= 'z'; c++ {
		f.ascii[c], f.ascii[c-'a'+'A'] = c, c
	}
	var buf []byte
	for r := rune(0); r < 1<<16; r++ {
		f.class[r] = uint8(classOf(r))
		if r >= utf8.RuneSelf && classOf(r) != clSep && classOf(r) != clInvisible {
			buf = foldRune(buf[:0], r)
			f.bmp[r] = string(buf)
		}
	}
	return f
}

// fold appends the folded form of r.
func (f *folder) fold(dst []byte, r rune) []byte {
	if r < 1<<16 {
		return append(dst, f.bmp[r]...)
	}
	if 0x1F000 <= r && r <= 0x1FAFF || unicode.Is(unicode.So, r) {
		return utf8.AppendRune(dst, r) // emoji fold to themselves
	}
	return foldRune(dst, r)
}

func (f *folder) classOf(r rune) int {
	if r < 1<<16 {
		return int(f.class[r])
	}
	if 0x1F000 <= r && r <= 0x1FAFF {
		if 0x1F3FB <= r && r <= 0x1F3FF {
			return clInvisible // skin tones
		}
		return clAlone // emoji, without a trip through the Unicode tables
	}
	return classOf(r)
}

func foldRune(dst []byte, r rune) []byte {
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	for _, d := range norm.NFKD.String(string(tmp[:n])) {
		if unicode.Is(unicode.Mn, d) {
			continue // a diacritic
		}
		switch d {
		case 'ß', 'ẞ':
			dst = append(dst, "ss"...)
			continue
		case 'ı':
			d = 'i'
		}
		d = unicode.ToLower(unicode.ToUpper(d))
		if d == 'ς' {
			d = 'σ'
		}
		dst = utf8.AppendRune(dst, d)
	}
	return dst
}

func classOf(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return clWord
		}
		return clSep
	case r == 0x00AD || r == 0x034F || r == 0x180E || (0x200B <= r && r <= 0x200F) || (0x202A <= r && r <= 0x202E) ||
		(0x2060 <= r && r <= 0x2064) || (0x2066 <= r && r <= 0x2069) || r == 0xFEFF || (0xFE00 <= r && r <= 0xFE0F) ||
		(0xE0100 <= r && r <= 0xE01EF) || (0x1F3FB <= r && r <= 0x1F3FF):
		return clInvisible // incl. emoji skin tones, which vary an emoji without changing it
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar):
		return clAlone
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
		return clWord
	case unicode.Is(unicode.So, r):
		return clAlone // emoji and other symbols
	}
	return clSep
}

// Token kinds: a word written as a hashtag or a mention.
const (
	kindWord    uint8 = 0
	kindHashtag uint8 = 1
	kindMention uint8 = 2
)

// token is one word of a text: its folded form is buf[from:to] of the
// tokenizer, its place in the text is text[start:end], and hash is the
// FNV-1a hash of its folded form (see fnv).
type token struct {
	from, to   int32
	start, end int32
	kind       uint8
	hash       uint64
}

// tokens is reusable tokenizer output.
type tokens struct {
	buf  []byte
	toks []token
}

func (t *tokens) word(i int) []byte { return t.buf[t.toks[i].from:t.toks[i].to] }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// tokenize splits text into folded words, hashing each as it is built. ASCII
// takes a fast path through a table; other runes go through the folder's.
func (f *folder) tokenize(t *tokens, text string) {
	buf, toks := t.buf[:0], t.toks[:0]
	kind := kindWord
	for i := 0; i < len(text); {
		if f.ascii[text[i]] == 0 {
			switch text[i] {
			case '#':
				kind = kindHashtag
			case '@':
				kind = kindMention
			default:
				kind = kindWord
			}
			i++
			continue
		}
		start, from := i, len(buf)
		h := uint64(fnvOffset)
	word:
		for i < len(text) {
			lc := f.ascii[text[i]]
			if lc == 0 {
				break
			}
			if lc != 0xFF {
				buf = append(buf, lc)
				h = (h ^ uint64(lc)) * fnvPrime
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[i:])
			switch f.classOf(r) {
			case clInvisible:
				i += n
				continue
			case clSep:
				break word
			case clAlone:
				if len(buf) > from {
					break word // ends the word before it; it is the next
				}
				buf = f.fold(buf, r)
				for _, b := range buf[from:] {
					h = (h ^ uint64(b)) * fnvPrime
				}
				i += n
				break word
			}
			m := len(buf)
			buf = f.fold(buf, r)
			for _, b := range buf[m:] {
				h = (h ^ uint64(b)) * fnvPrime
			}
			i += n
		}
		if len(buf) > from {
			if h == 0 {
				h = 1
			}
			toks = append(toks, token{from: int32(from), to: int32(len(buf)), start: int32(start), end: int32(i), kind: kind, hash: h})
		}
		kind = kindWord
		if i == start { // a separator outside ASCII
			_, n := utf8.DecodeRuneInString(text[i:])
			i += n
		}
	}
	t.buf, t.toks = buf, toks
}
