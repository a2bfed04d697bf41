package match

import (
	"testing"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/textnorm/sameword"
)

// TestSameWordMatches: a rule of each hostile keyword of the shared table
// matches its post (enrichment and search check the same table).
func TestSameWordMatches(t *testing.T) {
	cases, err := sameword.Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			e := compileRule(t, `"`+c.Keyword+`"`, Options{})
			if len(e.Match(&post.Post{Text: c.Post, Lang: c.Lang})) == 0 {
				t.Errorf("rule %q does not match %q", c.Keyword, c.Post)
			}
		})
	}
}
