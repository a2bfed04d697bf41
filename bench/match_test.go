package bench

import (
	"slices"
	"testing"

	"github.com/earshot-dev/earshot/match"
)

func TestRuleTerms(t *testing.T) {
	for _, c := range []struct {
		rule string
		want []string
	}{
		{`(acme OR "acme phone" OR #acme OR @acmehelp) -hiring`, []string{"acme", "acme phone", "acme", "acmehelp", "hiring"}},
		{`("zentro vix" NEAR/5 refund*) OR (acme NEAR/3 announced) lang:el`, []string{"zentro vix", "refund", "acme", "announced"}},
		{`=Apple AND NOT (fake OR replica)`, []string{"Apple", "fake", "replica"}},
		{`"unterminated`, []string{"unterminated"}},
	} {
		if got := ruleTerms(c.rule); !slices.Equal(got, c.want) {
			t.Errorf("ruleTerms(%q) = %q, want %q", c.rule, got, c.want)
		}
	}
}

// TestBrandKeywordSet checks that the brand set compiles, holds about the
// keywords asked for, and that the baseline sees every rule's terms.
func TestBrandKeywordSet(t *testing.T) {
	for _, n := range []int{1_000, 20_000} {
		lists := BrandKeywordSet(n, 1)
		m, err := match.New(lists)
		if err != nil {
			t.Fatal(err)
		}
		if k := m.Engine().Keywords(); k < n*9/10 || k > n*11/10 {
			t.Errorf("%d keywords asked, %d compiled", n, k)
		}
		b, err := NewBaseline(lists)
		if err != nil {
			t.Fatal(err)
		}
		if b.Patterns < n*9/10 {
			t.Errorf("%d keywords asked, the baseline has %d patterns", n, b.Patterns)
		}
	}
}

func TestPosts(t *testing.T) {
	posts := Posts(500, 7)
	seen := map[string]bool{}
	for _, p := range posts {
		if len(p.Text) < 180 {
			t.Fatalf("a post of %d bytes: %q", len(p.Text), p.Text)
		}
		seen[p.Text] = true
	}
	if len(seen) < 450 {
		t.Errorf("only %d distinct texts in 500 posts", len(seen))
	}
}
