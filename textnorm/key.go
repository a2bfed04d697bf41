package textnorm

import (
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Level is how far Key folds.
type Level uint8

const (
	// Canon folds compatibility forms, composes combining marks (NFKC),
	// folds case and drops invisible characters; it keeps diacritics and
	// scripts.
	Canon Level = iota
	// Plain also drops diacritics: what a term marked ^ reads.
	Plain
	// Full also maps letters that imitate Latin ones to them: what rule
	// keywords read.
	Full
)

// AppendKey appends s folded to level l, a character at a time: the
// characters of words fold (at Full, exactly as Tokenize folds them),
// invisible characters are dropped, and every other character (spaces,
// punctuation) is kept, lower-cased. A key of a single word at Full is
// the word as Tokenize makes it.
func (f *Folder) AppendKey(dst []byte, s string, l Level) []byte {
	if l == Canon {
		return appendCanon(dst, s)
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		switch f.classOf(r) {
		case clInvisible:
		case clSep:
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		default:
			switch {
			case l == Full:
				dst = f.fold(dst, r)
			case r < 1<<16:
				dst = append(dst, plainBMP()[r]...)
			case !isEnclosed(r) && (0x1F000 <= r && r <= 0x1FAFF || unicode.Is(unicode.So, r)):
				dst = utf8.AppendRune(dst, r) // emoji fold to themselves (as in fold)
			default:
				dst = foldRuneAs(dst, r, false)
			}
		}
	}
	return dst
}

// appendCanon appends s at level Canon.
func appendCanon(dst []byte, s string) []byte {
	f := sharedFolder()
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if !ascii && norm.NFKC.QuickSpanString(s) != len(s) {
		s = norm.NFKC.String(s) // combining marks to compose, or compatibility forms: rare
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		if f.classOf(r) == clInvisible {
			continue
		}
		switch r {
		case 'ß', 'ẞ':
			dst = append(dst, "ss"...)
			continue
		case 'ı', 'İ':
			r = 'i'
		case 'ς':
			r = 'σ'
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(unicode.ToUpper(r)))
	}
	return dst
}

// Key is s folded to level l. It returns s itself when folding changes
// nothing (lower-case ASCII words), without allocating.
func Key(s string, l Level) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := sharedFolder().AppendKey(nil, s, l)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Words returns the folded words of text, as the matcher reads them.
func Words(text string) []string {
	var t Tokens
	sharedFolder().Tokenize(&t, text)
	w := make([]string, len(t.Toks))
	for i := range t.Toks {
		w[i] = string(t.Word(i))
	}
	return w
}

// IsInvisible reports whether r is dropped from words without breaking
// them: a default-ignorable code point, a blank filler or an emoji skin
// tone.
func IsInvisible(r rune) bool {
	if r < utf8.RuneSelf {
		return false
	}
	return sharedFolder().classOf(r) == clInvisible
}

// FoldRune is r folded at level Plain when that is one rune (case and
// diacritics: "É" is "e", "ά" is "α", "Ａ" is "a"), and whether it is; a
// rune that folds to nothing or to several ("ß", "ﬁ") is not. It reads a
// table (built on first use), for per-rune loops of lexicons and features.
func FoldRune(r rune) (rune, bool) {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A', true
		}
		return r, true
	}
	if r < 1<<16 {
		d := plainRunes()[r]
		return d, d >= 0
	}
	return foldOne(r)
}

func foldOne(r rune) (rune, bool) {
	var buf [16]byte
	b := foldRuneAs(buf[:0], r, false)
	d, n := utf8.DecodeRune(b)
	if n == 0 || n != len(b) {
		return r, false
	}
	return d, true
}

// plainRunes is FoldRune of each rune of the Basic Multilingual Plane, -1
// where it is not one rune.
var plainRunes = sync.OnceValue(func() *[1 << 16]rune {
	t := new([1 << 16]rune)
	for r := range rune(1 << 16) {
		if d, ok := foldOne(r); ok {
			t[r] = d
		} else {
			t[r] = -1
		}
	}
	return t
})

// plainBMP is the Plain fold of each letter, digit or mark of the Basic
// Multilingual Plane, built on first use (only lexicons read Plain keys).
var plainBMP = sync.OnceValue(func() *[1 << 16]string {
	f := sharedFolder()
	t := new([1 << 16]string)
	for r := rune(0x80); r < 1<<16; r++ {
		if c := f.class[r]; c == clWord || c == clAlone {
			t[r] = string(foldRuneAs(nil, r, false))
		}
	}
	return t
})
