package textnorm

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Folder holds the tables of folding: each rune of the Basic Multilingual
// Plane's folded form and class. It is built once (Shared) and never
// changes.
type Folder struct {
	bmp   [1 << 16]string
	class [1 << 16]uint8
	ascii [256]byte // the folded byte of an ASCII letter or digit; 0 for other ASCII; 0xFF for bytes of multi-byte runes
	// two holds what the tokenizer needs of each two-byte rune (U+0080 to
	// U+07FF: Latin with diacritics, Greek, Cyrillic, Hebrew, Arabic…) in
	// 16 KB, against 1 MB for bmp: its class in the top byte, the length of
	// its folded form in the next, and that form in the low six bytes (or
	// twoLong when it is longer).
	two [0x800]uint64
	// self has a bit set for each rune of the Basic Multilingual Plane that
	// folds to itself (ideographs, kana, most letters of most scripts), so
	// that folding it copies it instead of reading bmp.
	self [1 << 16 / 64]uint64
}

const twoLong = 0xFF

// Rune classes, for the tokenizer.
const (
	clSep       = iota // separates words
	clWord             // part of a word
	clInvisible        // ignored
	clAlone            // a word by itself: ideographs, kana, Hangul, Thai, emoji
)

// sharedFolder is built on first use and never changes, so every user
// shares one table instead of building its own (it takes ~30 ms).
var sharedFolder = sync.OnceValue(newFolder)

// Shared returns the folding tables, built on first use.
func Shared() *Folder { return sharedFolder() }

func newFolder() *Folder {
	f := &Folder{}
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
	for r := 0x80; r < 1<<16; r++ {
		if f.bmp[r] == string(rune(r)) {
			f.self[r>>6] |= 1 << (r & 63)
		}
	}
	for r := 0x80; r < 0x800; r++ {
		e := uint64(f.class[r]) << 56
		if b := f.bmp[r]; len(b) > 6 {
			e |= twoLong << 48
		} else {
			e |= uint64(len(b)) << 48
			for i := len(b) - 1; i >= 0; i-- {
				e |= uint64(b[i]) << (8 * i)
			}
		}
		f.two[r] = e
	}
	return f
}

// fold appends the folded form of r.
func (f *Folder) fold(dst []byte, r rune) []byte {
	if r < 1<<16 {
		if f.self[r>>6]&(1<<(r&63)) != 0 {
			return utf8.AppendRune(dst, r)
		}
		return append(dst, f.bmp[r]...)
	}
	if isEnclosed(r) {
		return foldRune(dst, r)
	}
	if 0x1F000 <= r && r <= 0x1FAFF || unicode.Is(unicode.So, r) {
		return utf8.AppendRune(dst, r) // emoji fold to themselves
	}
	return foldRune(dst, r)
}

func (f *Folder) classOf(r rune) int {
	if r < 1<<16 {
		return int(f.class[r])
	}
	if 0x1F000 <= r && r <= 0x1FAFF && !isEnclosed(r) {
		if 0x1F3FB <= r && r <= 0x1F3FF {
			return clInvisible // skin tones
		}
		return clAlone // emoji, without a trip through the Unicode tables
	}
	return classOf(r)
}

func foldRune(dst []byte, r rune) []byte { return foldRuneAs(dst, r, true) }

// foldRuneAs folds r, and with lookalikes maps letters that imitate Latin
// ones to them.
func foldRuneAs(dst []byte, r rune, lookalikes bool) []byte {
	if l, ok := Latin(r); ok && (lookalikes || isEnclosed(r)) {
		return append(dst, byte(l)) // enclosed letters and small capitals, as written
	}
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	for _, d := range string(decompose(tmp[:n])) {
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
		if l, ok := Latin(d); ok && lookalikes {
			d = l // a Cyrillic or Greek look-alike, in lower case
		}
		dst = utf8.AppendRune(dst, d)
	}
	return dst
}

// decompose is the compatibility decomposition (NFKD) of the one rune in
// b, without allocating (but for Hangul syllables, which the tables do
// not hold: they are all in the Basic Multilingual Plane, whose folds are
// precomputed).
func decompose(b []byte) []byte {
	if r, _ := utf8.DecodeRune(b); 0xAC00 <= r && r <= 0xD7A3 {
		return norm.NFKD.Bytes(b)
	}
	if d := norm.NFKD.Properties(b).Decomposition(); d != nil {
		return d
	}
	return b
}

// plainFold appends the folded form of word (the text of one Token) as it
// would be without look-alike folding: case, diacritics and compatibility
// forms fold, invisible characters go, but a Cyrillic "с" stays one. Only
// terms marked ^ need it, on their hits.
func (f *Folder) AppendPlain(dst []byte, word string) []byte {
	for _, r := range word {
		switch {
		case r < utf8.RuneSelf:
			if c := f.ascii[r]; c != 0 {
				dst = append(dst, c)
			}
		case f.classOf(r) == clInvisible || f.classOf(r) == clSep:
		default:
			dst = foldRuneAs(dst, r, false)
		}
	}
	return dst
}

// isEnclosed reports whether r is a circled, parenthesized or squared
// Latin letter: a letter in a frame, whatever the look-alike setting.
func isEnclosed(r rune) bool {
	return 0x249C <= r && r <= 0x24E9 || 0x1F130 <= r && r <= 0x1F189
}

func classOf(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return clWord
		}
		return clSep
	case Ignorable(r):
		return clInvisible
	case isEnclosed(r):
		return clWord // ⓐ is the letter a, not a symbol of its own
	case r == 0x00AD || r == 0x034F || r == 0x180E || (0x200B <= r && r <= 0x200F) || (0x202A <= r && r <= 0x202E) ||
		(0x2060 <= r && r <= 0x2064) || (0x2066 <= r && r <= 0x2069) || r == 0xFEFF || (0xFE00 <= r && r <= 0xFE0F) ||
		(0xE0100 <= r && r <= 0xE01EF) || (0x1F3FB <= r && r <= 0x1F3FF):
		return clInvisible // incl. emoji skin tones, which vary an emoji without changing it
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar):
		return clAlone
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
		return clWord
	case unicode.Is(unicode.Nl, r) || unicode.Is(unicode.No, r):
		// Roman numerals, superscript, subscript and circled digits: NFKC
		// makes them letters and digits ("ⅿ" is "m", "²" is "2"), so they
		// are part of a word as those are, or "acⅿe" is two words.
		return compatClass(r)
	case unicode.Is(unicode.So, r):
		return clAlone // emoji and other symbols
	}
	return clSep
}

// compatClass is the class of a number character (Nl, No) by its
// compatibility decomposition: a word's letters or digits when that is
// made only of them (a word alone when of an ideograph: "㊀" is "一"),
// else a separator ("½" is "1⁄2", "ↀ" has none).
func compatClass(r rune) int {
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	d := decompose(tmp[:n])
	if string(d) == string(tmp[:n]) {
		return clSep
	}
	cl := clSep
	for _, x := range string(d) {
		switch {
		case unicode.Is(unicode.Mn, x):
		case unicode.In(x, unicode.Han):
			cl = clAlone
		case unicode.IsLetter(x) || unicode.IsDigit(x):
			if cl == clSep {
				cl = clWord
			}
		default:
			return clSep
		}
	}
	return cl
}

// Token kinds: a word written as a hashtag or a mention.
const (
	KindWord    uint8 = 0
	KindHashtag uint8 = 1
	KindMention uint8 = 2
)

// Token is one word of a text: its folded form is Word(i) of the Tokens,
// its place in the text is text[Start:End], and Hash is WordHash of its
// folded form. A word that folding left as written (lower-case ASCII, most
// words of most posts) is not copied: From:To are Start:End of the text;
// otherwise (InBuf) they are its folded form's place in the Tokens' buffer.
type Token struct {
	From, To   int32
	Start, End int32
	Kind       uint8
	InBuf      bool
	Head       uint16 // the folded form's first two bytes, little-endian (for stems)
	Hash       uint64
}

// Tokens is reusable tokenizer output.
type Tokens struct {
	src  []byte // the text tokenized, never written (see Tokenize)
	buf  []byte
	Toks []Token
	// With Want set, Cands lists the tokens that Want admits, in order:
	// the tokenizer checks each word as it makes it, while the word is at
	// hand.
	Want  *Want
	Cands []int32
}

// Want says which words may begin a keyword or stem hit (for the matcher):
// those whose hash passes Filter (bit (Hash>>20)&FBits), and those of at
// least MinStem bytes whose first two bytes (Head) have their bit set in
// StemStarts.
type Want struct {
	Filter     []uint64
	FBits      uint64
	StemStarts []uint64
	MinStem    int
}

func (w *Want) wants(t *Token) bool {
	b := (t.Hash >> 20) & w.FBits
	return w.Filter[b>>6]&(1<<(b&63)) != 0 ||
		int(t.To-t.From) >= w.MinStem && w.StemStarts[t.Head>>6]&(1<<(t.Head&63)) != 0
}

// Word is the folded form of the i'th token. It is valid until the next
// Tokenize into t, and must not be written.
func (t *Tokens) Word(i int) []byte {
	if tk := &t.Toks[i]; tk.InBuf {
		return t.buf[tk.From:tk.To]
	}
	return t.src[t.Toks[i].From:t.Toks[i].To]
}

// Word hashing works on 8 bytes at a time, so that an ASCII word is hashed
// in the same loads that find its end and fold its case.
const (
	hashSeed = 0x243F6A8885A308D3
	hashK1   = 0x9E3779B97F4A7C15
	hashK2   = 0xC2B2AE3D27D4EB4F
	lsb      = 0x0101010101010101
	msb      = 0x8080808080808080
)

func hashMix(h, chunk uint64) uint64 {
	h = (h ^ chunk) * hashK1
	return h ^ h>>29
}

func hashEnd(h uint64, n int) uint64 {
	h = (h ^ uint64(n)) * hashK2
	h ^= h >> 32
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}

// WordHash hashes a folded word: its bytes as little-endian 8-byte chunks,
// the last padded with zeros, then its length. Never 0.
func WordHash(b []byte) uint64 {
	h, n := uint64(hashSeed), len(b)
	for ; len(b) >= 8; b = b[8:] {
		h = hashMix(h, binary.LittleEndian.Uint64(b))
	}
	if len(b) > 0 {
		h = hashMix(h, load(b))
	}
	return hashEnd(h, n)
}

// load reads up to 8 bytes of b as a little-endian word, zero-padded.
func load(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.LittleEndian.Uint64(b)
	}
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

// load8 reads 8 bytes of src from i as a little-endian word, zero-padded
// past the end.
func (f *Folder) load8(src []byte, i int) uint64 {
	if i+8 <= len(src) {
		return binary.LittleEndian.Uint64(src[i:])
	}
	if len(src) >= 8 && i < len(src) { // the last 8 bytes, shifted
		return binary.LittleEndian.Uint64(src[len(src)-8:]) >> (8 * (8 - (len(src) - i)))
	}
	return load(src[min(i, len(src)):])
}

// asciiClass finds, in 8 bytes at once, the ASCII letters and the ASCII
// letters or digits: the top bit of each such byte is set in the result.
// Bytes of multi-byte runes (top bit set) are neither.
func asciiClass(x uint64) (alnum, letters uint64) {
	x7 := x &^ msb
	digits := (x7 + (0x80-'0')*lsb) &^ (x7 + (0x80-'9'-1)*lsb)
	y := x7 | 0x20*lsb // upper to lower case; no other byte lands in a..z
	letters = (y + (0x80-'a')*lsb) &^ (y + (0x80-'z'-1)*lsb)
	letters &= msb &^ x
	return letters | digits&msb&^x, letters
}

// decode is utf8.DecodeRune with the common three-byte runes (most of the
// BMP: CJK, kana, punctuation) decoded in line.
func decode(b []byte) (rune, int) {
	if len(b) >= 3 && b[0]&0xF0 == 0xE0 && b[1]&0xC0 == 0x80 && b[2]&0xC0 == 0x80 {
		r := rune(b[0]&0x0F)<<12 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F)
		if r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
			return r, 3
		}
	}
	return utf8.DecodeRune(b)
}

// push adds a Token to toks and returns it to be filled in field by field
// (building a Token and appending it stalls on store forwarding).
func push(toks []Token) ([]Token, *Token) {
	if len(toks) == cap(toks) {
		toks = slices.Grow(toks, 1)
	}
	toks = toks[:len(toks)+1]
	return toks, &toks[len(toks)-1]
}

// tokenize splits text into folded words, hashing each as it is built.
// ASCII words take a fast path 8 bytes at a time (find the end, fold case,
// hash); a word with other runes goes through the Folder's tables.
func (f *Folder) Tokenize(t *Tokens, text string) {
	// The Tokens read text through src, a view of its bytes that is never
	// written, so that unchanged words need no copy.
	src := unsafe.Slice(unsafe.StringData(text), len(text))
	buf, toks, cands, want := t.buf[:0], t.Toks[:0], t.Cands[:0], t.Want
	kind := KindWord
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		lc := f.ascii[c]
		if lc == 0 {
			switch c {
			case '#':
				kind = KindHashtag
			case '@':
				kind = KindMention
			default:
				kind = KindWord
			}
			i++
			continue
		}
		start := i
		if lc != 0xFF {
			// An ASCII word: find its end, fold and hash it 8 bytes at a time.
			h, upper, j := uint64(hashSeed), uint64(0), i
			x := f.load8(src, j)
			alnum, letters := asciiClass(x)
			head := uint16(x | letters>>2)
			for {
				k := bits.TrailingZeros64(^alnum&msb) >> 3 // letters or digits before the first other byte
				if k == 8 {
					h = hashMix(h, x|letters>>2)
					upper |= letters >> 2 &^ x
					j += 8
					x = f.load8(src, j)
					alnum, letters = asciiClass(x)
					continue
				}
				if k > 0 {
					keep := uint64(1)<<(8*k) - 1
					h = hashMix(h, (x|letters>>2)&keep)
					upper |= (letters >> 2 &^ x) & keep
					j += k
				}
				break
			}
			if j == n || f.ascii[src[j]] == 0 { // the word ends in ASCII: done
				var tok *Token
				toks, tok = push(toks)
				tok.From, tok.To, tok.Start, tok.End = int32(i), int32(j), int32(i), int32(j)
				tok.Kind, tok.InBuf, tok.Head, tok.Hash = kind, false, head, hashEnd(h, j-i)
				if upper != 0 {
					tok.From, tok.InBuf = int32(len(buf)), true
					for _, b := range src[i:j] {
						buf = append(buf, f.ascii[b])
					}
					tok.To = int32(len(buf))
				}
				if want != nil && want.wants(tok) {
					cands = append(cands, int32(len(toks)-1))
				}
				kind = KindWord
				i = j
				continue
			}
			// A rune outside ASCII follows: it may continue the word, so
			// the word is folded rune by rune below.
		}
		from := len(buf)
	word:
		for i < n {
			lc := f.ascii[src[i]]
			if lc == 0 {
				break
			}
			if lc != 0xFF {
				buf = append(buf, lc)
				i++
				continue
			}
			if c := src[i]; c&0xE0 == 0xC0 && c >= 0xC2 && i+1 < n && src[i+1]&0xC0 == 0x80 {
				// A two-byte rune, from the small table.
				e := f.two[uint32(c&0x1F)<<6|uint32(src[i+1]&0x3F)]
				if l := int(e >> 48 & 0xFF); e>>56 == clWord && l != twoLong {
					m := len(buf)
					buf = slices.Grow(buf, 8)[:m+8]
					binary.LittleEndian.PutUint64(buf[m:], e)
					buf = buf[:m+l]
					i += 2
					continue
				}
			}
			r, n := decode(src[i:])
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
				i += n
				break word
			}
			buf = f.fold(buf, r)
			i += n
		}
		if len(buf) > from {
			var head uint16
			if len(buf) >= from+2 {
				head = uint16(buf[from]) | uint16(buf[from+1])<<8
			}
			var tok *Token
			toks, tok = push(toks)
			tok.From, tok.To, tok.Start, tok.End = int32(from), int32(len(buf)), int32(start), int32(i)
			tok.Kind, tok.InBuf, tok.Head, tok.Hash = kind, true, head, WordHash(buf[from:])
			if want != nil && want.wants(tok) {
				cands = append(cands, int32(len(toks)-1))
			}
		}
		kind = KindWord
		if i == start { // a separator outside ASCII
			_, n := utf8.DecodeRuneInString(text[i:])
			i += n
		}
	}
	t.src, t.buf, t.Toks, t.Cands = src, buf, toks, cands
}
