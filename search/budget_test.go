package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// budgetIndex holds five posts a day, saying "refund" once to five times
// (so that the best hits of a query come from every day), on each of the 7
// days up to testNow, and searches with the given hit budget.
func budgetIndex(t *testing.T, budget int) *Index {
	t.Helper()
	c := testConfig(t)
	c.HitBudget = budget
	now := testNow
	x := openTest(t, c, &now)
	var items []*post.Item
	for d := range 7 {
		for i := range 5 {
			items = append(items, doc{fmt.Sprintf("%d-%d", d, i), strings.Repeat("refund ", i+1) + "please", "en", "EMEA", "negative",
				time.Duration(d)*24*time.Hour + time.Duration(i+1)*time.Minute, []string{"acme"}}.item())
		}
	}
	if err := x.Index(items); err != nil {
		t.Fatal(err)
	}
	return x
}

func pageKeys(r *Result) []string {
	var ks []string
	for _, h := range r.Hits {
		ks = append(ks, h.Key)
	}
	return ks
}

func TestHitBudget(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		budget       int
		q            Query
		total        uint64
		partial      bool
		searchedFrom string
	}{
		// Days are searched two at a time, newest first: 11-22 and 11-21
		// hold 10 hits.
		{"stops after the newest two days", 8, Query{Text: "refund"}, 10, true, "2026-11-21"},
		{"budget reached on the second pair", 11, Query{Text: "refund"}, 20, true, "2026-11-19"},
		{"budget never reached", 100, Query{Text: "refund"}, 35, false, ""},
		{"no budget", 0, Query{Text: "refund"}, 35, false, ""},
		{"exhaustive", 8, Query{Text: "refund", Exhaustive: true}, 35, false, ""},
		{"match all", 8, Query{Text: "*"}, 10, true, "2026-11-21"},
		{"reached exactly on the last pair is whole", 31, Query{Text: "refund"}, 35, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := budgetIndex(t, tc.budget)
			r, err := x.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tc.total || r.Partial != tc.partial || r.SearchedFrom != tc.searchedFrom {
				t.Fatalf("total %d, partial %v, searched from %q; want %d, %v, %q", r.Total, r.Partial, r.SearchedFrom, tc.total, tc.partial, tc.searchedFrom)
			}
			var counted uint64
			for _, f := range r.Facets["sentiment"] {
				counted += uint64(f.Count)
			}
			if counted != tc.total {
				t.Errorf("sentiment facet counts %d posts, want the %d of the days searched", counted, tc.total)
			}
		})
	}
}

// A partial result's pages are those of the same query over the days it
// searched: the hits are merged and ordered as one search would order them.
func TestHitBudgetPages(t *testing.T) {
	ctx := context.Background()
	x := budgetIndex(t, 11) // searches 11-22 back to 11-19
	since := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	for _, text := range []string{"refund", "*", "refund please"} {
		for _, page := range []struct{ from, size int }{{0, 20}, {0, 3}, {3, 4}, {18, 5}, {25, 5}} {
			q := Query{Text: text, From: page.from, Size: page.size}
			got, err := x.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			q.Since, q.Exhaustive = since, true
			want, err := x.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pageKeys(got), pageKeys(want)) || got.Total != want.Total {
				t.Errorf("%q from %d size %d: partial search gave %v (total %d), the same days searched whole %v (total %d)",
					text, page.from, page.size, pageKeys(got), got.Total, pageKeys(want), want.Total)
			}
		}
	}
}
