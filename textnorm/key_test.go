package textnorm

import (
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/earshot-dev/earshot/textnorm/sameword"
)

// TestKeyLevels: every level drops invisibles and folds compatibility
// forms, case, ß and dotless i alike; Plain also drops diacritics; Full
// also reads look-alikes as Latin. Punctuation and spaces stay.
func TestKeyLevels(t *testing.T) {
	for _, c := range []struct {
		in                 string
		canon, plain, full string
	}{
		{"ＡＣＭＥ", "acme", "acme", "acme"},
		{"ac\u200bme re\u00adfund", "acme refund", "acme refund", "acme refund"},
		{"\u200facme\u202e", "acme", "acme", "acme"},
		{"cafe\u0301", "café", "cafe", "cafe"},
		{"CAFÉ", "café", "cafe", "cafe"},
		{"STRAẞE straße", "strasse strasse", "strasse strasse", "strasse strasse"},
		{"KIRMIZI kırmızı İstanbul", "kirmizi kirmizi istanbul", "kirmizi kirmizi istanbul", "kirmizi kirmizi istanbul"},
		{"oﬃce", "office", "office", "office"},
		{"schön", "schön", "schon", "schon"},
		{"\u0430cm\u0435", "\u0430cm\u0435", "\u0430cm\u0435", "acme"},
		{"ΟΜΆΔΑ", "ομάδα", "ομαδα", "omaδa"},
		{"Don't!", "don't!", "don't!", "don't!"},
		{"ｱｸﾒ", "アクメ", "アクメ", "アクメ"},
	} {
		for l, want := range []string{c.canon, c.plain, c.full} {
			if got := Key(c.in, Level(l)); got != want {
				t.Errorf("Key(%q, %d) = %q, want %q", c.in, l, got, want)
			}
		}
	}
}

// TestKeyOfWordIsTokenizersWord: a single word's Full key is the word
// Tokenize makes, for every word of the hostile table.
func TestKeyOfWordIsTokenizersWord(t *testing.T) {
	cases, err := sameword.Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, text := range []string{c.Keyword, c.Post} {
			var tk Tokens
			Shared().Tokenize(&tk, text)
			for i, tok := range tk.Toks {
				w := text[tok.Start:tok.End]
				if got := Key(w, Full); got != string(tk.Word(i)) {
					t.Errorf("%s: Key(%q, Full) = %q, Tokenize made %q", c.Name, w, got, tk.Word(i))
				}
			}
		}
	}
	if got := Words("Η ΟΜΆΔΑ κέρδισε #Acme 東京"); !slices.Equal(got, []string{"h", "omaδa", "kepδiσe", "acme", "東", "京"}) {
		t.Errorf("Words: %q", got)
	}
}

// TestDecomposeIsNFKD: the allocation-free decomposition of one rune is
// NFKD's, for every rune.
func TestDecomposeIsNFKD(t *testing.T) {
	var b [utf8.UTFMax]byte
	for r := rune(0); r <= unicode.MaxRune; r++ {
		n := utf8.EncodeRune(b[:], r)
		if got, want := string(decompose(b[:n])), norm.NFKD.String(string(b[:n])); got != want {
			t.Fatalf("decompose(%U) = %+q, NFKD %+q", r, got, want)
		}
	}
}
