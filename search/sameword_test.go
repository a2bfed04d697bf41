package search

import (
	"context"
	"testing"

	"github.com/earshot-dev/earshot/post"

	"github.com/earshot-dev/earshot/textnorm/sameword"
)

// TestSameWordSearch: each post of the shared table of hostile words,
// indexed in its language, is found by a search for the keyword that
// matches it, as words and as a phrase.
func TestSameWordSearch(t *testing.T) {
	cases, err := sameword.Cases()
	if err != nil {
		t.Fatal(err)
	}
	now := testNow
	x := openTest(t, testConfig(t), &now)
	for _, c := range cases {
		d := doc{c.Name, c.Post, c.Lang, "EMEA", "neutral", 0, []string{"acme"}}
		if err := x.Index([]*post.Item{d.item()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			for _, q := range []string{c.Keyword, `"` + c.Keyword + `"`} {
				r, err := x.Search(context.Background(), Query{Text: q, Langs: []string{c.Lang}, Size: 200})
				if err != nil {
					t.Fatalf("search %q: %v", q, err)
				}
				found := false
				for _, h := range r.Hits {
					found = found || h.Key == "x:"+c.Name
				}
				if !found {
					t.Errorf("search %q (lang %s) does not find %q", q, c.Lang, c.Post)
				}
			}
		})
	}
}
