package match

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// pathological are the posts of issue 16 item 5 that made one rule take
// seconds (quadratic NEAR/…f, a proximity phrase of one repeated word).
var pathological = []struct {
	name, rule string
	text       func(scale int) string
	match      bool
}{
	{"ordered-near", "acme NEAR/5f refund", func(k int) string {
		return strings.Repeat("acme ", 100*k) + strings.Repeat("refund ", 70*k)
	}, true},
	{"ordered-near-far", "acme NEAR/5f refund", func(k int) string {
		return strings.Repeat("acme ", 100*k) + strings.Repeat("x ", 10) + strings.Repeat("refund ", 70*k)
	}, false},
	{"proximity-repeated", `"a a a a a a a a a a a a a a a a"~10`, func(k int) string {
		return strings.Repeat("a ", 500*k)
	}, true},
	{"near-unordered", "acme NEAR/3 refund", func(k int) string {
		return strings.Repeat("acme ", 100*k) + strings.Repeat("zz ", 5) + strings.Repeat("refund ", 70*k)
	}, false},
}

func compileRule(t testing.TB, rule string, o Options) *Engine {
	t.Helper()
	e, err := CompileWith([]*Watchlist{{ID: "w", Version: 1, Status: "live", Rule: rule}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPathologicalPostsCostLinearWork runs the exact posts (≈1 MB)
// and asserts the work the engine did stays within a small multiple of the
// post's words, and that the answer is right.
func TestPathologicalPostsCostLinearWork(t *testing.T) {
	for _, c := range pathological {
		t.Run(c.name, func(t *testing.T) {
			e := compileRule(t, c.rule, Options{})
			text := c.text(1000)
			words := len(strings.Fields(text))
			s := e.getScratch()
			ms, err := e.matchBudget(nil, &post.Post{Text: text}, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(ms) > 0; got != c.match {
				t.Errorf("matched %v, want %v", got, c.match)
			}
			t.Logf("%d words, %d units", words, s.work)
			// Tokens, hits and the NEAR sweep: a few units a word, never words².
			if s.work > 8*words {
				t.Errorf("work %d units for %d words; want at most %d (linear)", s.work, words, 8*words)
			}
		})
	}
}

// TestPathologicalWorkScalesLinearly checks the growth from 200 KB to 1 MB
// is linear in work units, not in the square.
func TestPathologicalWorkScalesLinearly(t *testing.T) {
	for _, c := range pathological {
		e := compileRule(t, c.rule, Options{})
		var work [2]int
		for i, k := range []int{200, 1000} {
			s := e.getScratch()
			if _, err := e.matchBudget(nil, &post.Post{Text: c.text(k)}, s); err != nil {
				t.Fatal(err)
			}
			work[i] = s.work
		}
		if r := float64(work[1]) / float64(work[0]); r > 5.5 {
			t.Errorf("%s: work grew %.1f× for 5× the text (%d → %d units)", c.name, r, work[0], work[1])
		}
	}
}

// TestOverBudgetDeadLetters: a post whose rules need more work than the
// budget is rejected by the stage with a reason, and the others pass.
func TestOverBudgetDeadLetters(t *testing.T) {
	m, err := NewWith([]*Watchlist{{ID: "w", Version: 1, Status: "live", Rule: "acme NEAR/5f refund"}}, Options{MaxWork: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	big := &post.Item{Post: &post.Post{ID: "big", Text: strings.Repeat("acme ", 10_000) + "refund"}}
	small := &post.Item{Post: &post.Post{ID: "small", Text: "acme refund please"}}
	out, err := m.Stage()(context.Background(), post.Batch{Items: []*post.Item{big, small}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || out.Items[0].Post.ID != "small" {
		t.Errorf("items out: %v, want only small", out.Items)
	}
	if len(out.Rejected) != 1 || out.Rejected[0].Item.Post.ID != "big" || !strings.Contains(out.Rejected[0].Reason, "work budget") {
		t.Fatalf("rejected: %+v, want big with a work-budget reason", out.Rejected)
	}
	if c := out.Rejected[0].Class; c != post.ClassBudgetExceeded {
		t.Errorf("class %q, want budget_exceeded", c)
	}
	if _, err := m.Engine().MatchChecked(big.Post); !errors.Is(err, ErrBudget) {
		t.Errorf("MatchChecked: %v, want ErrBudget", err)
	}
}

// TestManyListsOneSpamWord: a thousand watchlists on one keyword and a post
// that repeats it 10,000 times: each match record takes its first MaxSpans
// spans without walking all the hits again, so the post stays well within
// the budget (and is matched, not dead-lettered).
func TestManyListsOneSpamWord(t *testing.T) {
	var lists []*Watchlist
	for i := range 1000 {
		lists = append(lists, &Watchlist{ID: fmt.Sprintf("w%04d", i), Version: 1, Status: "live", Keywords: []string{"acme"}})
	}
	e, err := Compile(lists)
	if err != nil {
		t.Fatal(err)
	}
	s := e.getScratch()
	ms, err := e.matchBudget(nil, &post.Post{Text: strings.Repeat("acme ", 10_000)}, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1000 || len(ms[0].Spans) != MaxSpans || ms[0].Spans[0].Start != 0 || ms[0].Spans[MaxSpans-1].Start != 5*(MaxSpans-1) {
		t.Fatalf("%d matches, first with %d spans", len(ms), len(ms[0].Spans))
	}
	if s.work > 10_000*3+1000*MaxSpans*2 {
		t.Errorf("work %d units", s.work)
	}
}
