package enrich

import (
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/textnorm/sameword"
)

// TestSameWordLexiconKeys: for each hostile keyword of the shared table
// (which match matches in its post), the sentiment lexicon of the post's
// language reads the keyword's word in the post: the keyword's keys appear,
// in order, among the post's. Languages written without spaces (zh, ja)
// are looked up as substrings, so there the keys need only be a substring.
func TestSameWordLexiconKeys(t *testing.T) {
	cases, err := sameword.Cases()
	if err != nil {
		t.Fatal(err)
	}
	m, err := loadSentimentModels()
	if err != nil {
		t.Fatal(err)
	}
	keys := func(sl *sentiLang, text string) []string {
		var arena []byte
		var ks []string
		for _, tk := range sl.tokenize(text, m, nil, &arena) {
			if tk.isEmo {
				ks = append(ks, "emoji:"+tk.raw)
			} else {
				ks = append(ks, strings.Clone(tk.key))
			}
		}
		return ks
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			sl := m.byLang[c.Lang]
			if sl == nil {
				sl = m.symbolsOnly
			}
			kw, in := keys(sl, c.Keyword), keys(sl, c.Post)
			if c.Lang == "zh" || c.Lang == "ja" {
				if !strings.Contains(strings.Join(in, " "), strings.Join(kw, " ")) {
					t.Errorf("keys of %q: %q, not in those of %q: %q", c.Keyword, kw, c.Post, in)
				}
				return
			}
			for i := range in {
				if i+len(kw) <= len(in) && slices.Equal(in[i:i+len(kw)], kw) {
					return
				}
			}
			t.Errorf("keys of %q: %q, not among those of %q: %q", c.Keyword, kw, c.Post, in)
		})
	}
}
