package textnorm

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// refTokenize is the tokenizer written the plain way, a rune at a time, to
// check the fast one against: the same words, kinds, places, hashes and
// heads.
func refTokenize(f *Folder, text string) (words []string, toks []Token) {
	kind := KindWord
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r < utf8.RuneSelf && f.ascii[r] == 0 {
			switch r {
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
		var w []byte
	word:
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if r < utf8.RuneSelf {
				if f.ascii[r] == 0 {
					break
				}
				w = append(w, f.ascii[r])
				i++
				continue
			}
			switch f.classOf(r) {
			case clInvisible:
				i += n
				continue
			case clSep:
				break word
			case clAlone:
				if len(w) > 0 {
					break word
				}
				w = f.fold(w, r)
				i += n
				break word
			}
			w = f.fold(w, r)
			i += n
		}
		if len(w) > 0 {
			var head uint16
			if len(w) >= 2 {
				head = uint16(w[0]) | uint16(w[1])<<8
			}
			words = append(words, string(w))
			toks = append(toks, Token{Start: int32(start), End: int32(i), Kind: kind, Head: head, Hash: WordHash(w)})
		}
		kind = KindWord
		if i == start {
			i += n
		}
	}
	return words, toks
}

func checkTokenize(t *testing.T, f *Folder, tk *Tokens, text string) {
	t.Helper()
	f.Tokenize(tk, text)
	words, want := refTokenize(f, text)
	if len(tk.Toks) != len(want) {
		var got []string
		for i := range tk.Toks {
			got = append(got, string(tk.Word(i)))
		}
		t.Fatalf("tokenize(%q) = %q, want %q", text, got, words)
	}
	for i, g := range tk.Toks {
		w := want[i]
		if string(tk.Word(i)) != words[i] || g.Start != w.Start || g.End != w.End || g.Kind != w.Kind || g.Hash != w.Hash {
			t.Fatalf("tokenize(%q): word %d is %q [%d:%d] kind %d hash %x, want %q [%d:%d] kind %d hash %x",
				text, i, tk.Word(i), g.Start, g.End, g.Kind, g.Hash, words[i], w.Start, w.End, w.Kind, w.Hash)
		}
		if len(words[i]) >= 2 && g.Head != w.Head {
			t.Fatalf("tokenize(%q): word %d head %x, want %x", text, i, g.Head, w.Head)
		}
		if !g.InBuf && (g.From != g.Start || g.To != g.End) {
			t.Fatalf("tokenize(%q): word %d not copied but at %d:%d of the text, not %d:%d", text, i, g.From, g.To, g.Start, g.End)
		}
	}
}

// TestTokenizeAgreesWithReference runs the fast tokenizer and the plain one
// over random texts of ASCII words of every length around the 8-byte
// chunks, upper case, digits, punctuation, hashtags and mentions, words
// running into runes outside ASCII (two-, three- and four-byte, letters,
// separators, invisibles, ideographs, emoji) and invalid UTF-8.
func TestTokenizeAgreesWithReference(t *testing.T) {
	f := sharedFolder()
	pieces := []string{"a", "Z", "q9", "hello", "WORLD", "MixedCase", "abcdefg", "abcdefgh", "abcdefghi", "ABCDEFGHIJKLMNOPQ", "0123456789",
		" ", "  ", ",", ".", "#", "@", "-", "_", "'", "\n", "\t", "~", "[", "`", "{", "/", ":",
		"é", "É", "ß", "ς", "Ω", "ά", "ж", "Ж", "ﬁ", "Ａ", "ı", "ǅ", "\u0301", "\u00ad", "\u200b", "\u200d", "\ufe0f", "\u2019", "\u2014", "\u00a0",
		"東", "京", "の", "ス", "한", "ก", "😀", "🔥", "👍🏽", "\U0001F3FB", "𝐀", "\xff", "\xc3", "\xe2\x80", "\xf0\x9f", "ομάδα", "Καλημέρα", "Straße", "café"}
	rng := rand.New(rand.NewPCG(1, 2))
	var tk Tokens
	var b strings.Builder
	for range 20_000 {
		b.Reset()
		for range rng.IntN(24) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		checkTokenize(t, f, &tk, b.String())
	}
	checkTokenize(t, f, &tk, benchText)
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"Hello, World!", "#Acme's @acme_support", "Η ΟΜΆΔΑ κέρδισε", "cafe\u0301 CAFÉ", "ac\u200bme", "Acmeのスマホ", "fire🔥🔥 👍🏽", "\xff\xfeabc", "abcdefgh12345678XYZ"} {
		f.Add(s)
	}
	fo := sharedFolder()
	var tk Tokens
	f.Fuzz(func(t *testing.T, text string) {
		checkTokenize(t, fo, &tk, text)
	})
}
