package search

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestScopeHidesUnseenWatchlists: a scoped caller naming a watchlist they
// may not see, in the query text or in the watchlist filter, positive or
// negated, exact or by pattern, gets exactly what naming a watchlist that
// does not exist gets: the same hits, total and facets. Otherwise the
// counts are an oracle for what another team's list caught.
func TestScopeHidesUnseenWatchlists(t *testing.T) {
	x := loaded(t)
	scope := func() *Scope { return &Scope{Watchlists: []string{"acme"}} }
	run := func(q Query) string {
		t.Helper()
		q.Scope = scope()
		r, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return fmt.Sprintf("total=%d hits=%v facets=%v", r.Total, keys(r), r.Facets["watchlist"])
	}
	// acme-legal exists (post 5 is in it, and in acme); nope-zz does not.
	for _, form := range []string{
		"watchlist:%s",
		"-watchlist:%s",
		"acme -watchlist:%s",
		"+watchlist:%s",
		`watchlist:"%s"`,
		"watchlist:%s acme",
		"watchlist:%s~1",
		"watchlist:%s*",
		"-watchlist:%s*",
		"watchlist:/%s.*/",
		"-watchlist:/%s/",
	} {
		unseen, none := run(Query{Text: fmt.Sprintf(form, "acme-legal")}), run(Query{Text: fmt.Sprintf(form, "nope-zz")})
		if unseen != none {
			t.Errorf("%q: an unseen watchlist gives %s, a nonexistent one %s", form, unseen, none)
		}
	}
	for _, f := range []func(string) []string{
		func(w string) []string { return []string{w} },
		func(w string) []string { return []string{"acme", w} },
	} {
		unseen, none := run(Query{Text: "*", Watchlists: f("acme-legal")}), run(Query{Text: "*", Watchlists: f("nope-zz")})
		if unseen != none {
			t.Errorf("filter %v: an unseen watchlist gives %s, a nonexistent one %s", f("acme-legal"), unseen, none)
		}
	}
	// A prefix that reaches an unseen list as well as a seen one finds the
	// seen one's posts only.
	if got, want := run(Query{Text: "watchlist:acm*"}), run(Query{Text: "watchlist:acme"}); got != want {
		t.Errorf("watchlist:acm* gives %s, want %s (what watchlist:acme gives)", got, want)
	}
	// What the caller does see still works.
	r, err := x.Search(context.Background(), Query{Text: "watchlist:acme", Scope: scope()})
	if err != nil || len(r.Hits) != 6 {
		t.Fatalf("watchlist:acme in scope: %v hits, %v", keys(r), err)
	}
	if got := keys(r); !slices.Contains(got, "5") {
		t.Errorf("watchlist:acme in scope lost post 5: %v", got)
	}
}
