// Package lid is the language identifier's feature extractor and model
// format, shared by the detector in package enrich and its training
// command (enrich/train/langid), so that training and detection see the
// same features byte for byte.
package lid

import (
	"unicode"
	"unicode/utf8"
)

const (
	// MaxN is the longest character n-gram.
	MaxN = 4
	// MaxFeatures bounds the features taken from one post: enough evidence
	// for any language, and a bounded cost on a 1 MB post.
	MaxFeatures = 480
	maxWord     = 24 // runes of a word looked at; longer words are cut
	wordSeed    = 0x9e3779b9
	gramSeed    = 2166136261
	fnvPrime    = 16777619
)

// Features appends to dst the hashed features of text: character 1..MaxN
// grams of each word (with a word boundary on both sides) and the word
// itself. Hashtags are read only when the rest of the post gives few
// features (fewFeatures). What is not language is left out on purpose: URLs, @mentions
// (and the masked "@user"), the retweet mark "RT", HTML entities
// ("&amp;"), digits, punctuation and emoji. Literal "\uXXXX" escapes (as
// in the SemEval text) are decoded; hashtags, when read, are split at
// camelCase ("#BuenosDías" -> "buenos", "días"); letters repeated three
// times or more ("soooo") count twice; everything is lower-cased. It
// returns how many features it wrote to dst (never allocates).
func Features(text string, dst *[MaxFeatures]uint32) int {
	n := features(text, dst, false)
	if n < fewFeatures {
		// little text besides hashtags: the hashtags are the evidence
		n = features(text, dst, true)
	}
	return n
}

// fewFeatures: below this many features from the text outside hashtags,
// the hashtags are read too (a hashtag-only post); above it they are not,
// so that "#ichliebees" does not make an English post German.
const fewFeatures = 24

func features(text string, dst *[MaxFeatures]uint32, withTags bool) int {
	x := extractor{out: dst}
	atStart := true
	hashtag := false
	for i := 0; i < len(text) && x.nout < MaxFeatures; {
		if atStart {
			if n := skipToken(text[i:]); n > 0 {
				i += n
				continue
			}
			if text[i] == '#' && len(text) > i+1 {
				if !withTags {
					i += tokenEnd(text[i:])
					continue
				}
				hashtag = true
				i++
				atStart = false
				continue
			}
		}
		if b := text[i]; b < utf8.RuneSelf && b != '\\' && b != '&' {
			// ASCII, as the general path below takes it, without the
			// Unicode tables
			i++
			switch {
			case 'a' <= b && b <= 'z':
				atStart = false
				x.last = rune(b)
				x.add(rune(b))
			case 'A' <= b && b <= 'Z':
				atStart = false
				if hashtag && x.n > 0 && unicode.IsLower(x.last) {
					x.flush()
				}
				x.last = rune(b)
				x.add(rune(b + 'a' - 'A'))
			case b == ' ' || '\t' <= b && b <= '\r': // unicode.IsSpace's ASCII
				x.flush()
				atStart, hashtag = true, false
			default:
				atStart = false
				x.flush()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '\\' && i+6 <= len(text) && text[i+1] == 'u' {
			if v, ok := hex4(text[i+2 : i+6]); ok {
				r, size = v, 6
			}
		} else if r == '&' {
			if n := entity(text[i:]); n > 0 {
				x.flush()
				i += n
				continue
			}
		}
		i += size
		if unicode.IsSpace(r) {
			x.flush()
			atStart, hashtag = true, false
			continue
		}
		atStart = false
		if unicode.IsLetter(r) || (x.n > 0 && unicode.Is(unicode.Mn, r)) {
			if hashtag && x.n > 0 && unicode.IsUpper(r) && unicode.IsLower(x.last) {
				x.flush()
			}
			x.last = r
			x.add(unicode.ToLower(r))
			continue
		}
		x.flush()
	}
	x.flush()
	return x.nout
}

type extractor struct {
	w    [maxWord + 2]rune
	n    int // runes in w (after the leading boundary)
	rep  int // times the last rune repeated
	long bool
	last rune
	out  *[MaxFeatures]uint32
	nout int
}

func (x *extractor) add(r rune) {
	if x.n > 0 && x.w[x.n] == r {
		x.rep++
		if x.rep >= 2 { // "soooo" -> "soo"
			return
		}
	} else {
		x.rep = 0
	}
	if x.n == maxWord {
		x.long = true
		return
	}
	x.n++
	x.w[x.n] = r
}

// flush emits the features of the word collected so far.
func (x *extractor) flush() {
	n := x.n
	if n == 0 {
		return
	}
	x.n, x.rep, x.last = 0, 0, 0
	p := x.w[:n+2]
	p[0], p[n+1] = ' ', ' '
	if x.long {
		p = p[:n+1] // a cut word has no end boundary
	}
	x.long = false
	for i := range p {
		h := uint32(gramSeed)
		for k := i; k < len(p) && k < i+MaxN; k++ {
			h = (h ^ uint32(p[k])) * fnvPrime
			if k == i && (p[k] == ' ') {
				continue // a lone boundary says nothing
			}
			if x.nout >= MaxFeatures {
				return
			}
			x.out[x.nout] = h
			x.nout++
		}
	}
	if x.nout < MaxFeatures {
		h := uint32(wordSeed)
		for _, r := range p {
			h = (h ^ uint32(r)) * fnvPrime
		}
		x.out[x.nout] = h ^ 0x5bd1e995
		x.nout++
	}
}

// skipToken reports the length of a URL, @mention or "RT" mark at the start
// of s, 0 when s does not start with one.
func skipToken(s string) int {
	switch {
	case hasPrefix(s, "http://"), hasPrefix(s, "https://"), hasPrefix(s, "www."):
	case len(s) > 1 && s[0] == '@':
		r, _ := utf8.DecodeRuneInString(s[1:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return 0
		}
	case hasPrefix(s, "RT") && (len(s) == 2 || s[2] == ' ' || s[2] == ':'):
		return 2
	default:
		return 0
	}
	return tokenEnd(s)
}

// tokenEnd is the length of the whitespace-free token at the start of s.
func tokenEnd(s string) int {
	for i, r := range s {
		if unicode.IsSpace(r) {
			return i
		}
	}
	return len(s)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func hex4(s string) (rune, bool) {
	var v rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// entity reports the length of an HTML entity ("&amp;", "&#39;") at the
// start of s, 0 if there is none.
func entity(s string) int {
	for i := 1; i < len(s) && i < 10; i++ {
		c := s[i]
		switch {
		case c == ';':
			if i > 1 {
				return i + 1
			}
			return 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '#' && i == 1:
		default:
			return 0
		}
	}
	return 0
}
