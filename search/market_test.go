package search

import (
	"context"
	"slices"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// A market scope narrows every search to the posts of its markets: the
// hits, the total and the facets; posts of no market (or indexed before
// markets) are outside every market scope.
func TestMarketScope(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	var docs []doc
	for _, d := range []struct{ id, market string }{{"de", "DACH"}, {"at", "DACH"}, {"se", "Nordics"}, {"fr", ""}} {
		docs = append(docs, doc{id: d.id, text: "acme outage " + d.id, lang: "en", region: "EMEA", sentiment: "negative", ago: 1, watchlists: []string{"acme"}})
	}
	its := make([]*post.Item, len(docs))
	for i, d := range docs {
		its[i] = d.item()
	}
	for i, m := range []string{"DACH", "DACH", "Nordics", ""} {
		its[i].Enrichment.Market = m
	}
	if err := x.Index(its); err != nil {
		t.Fatal(err)
	}
	f := func(scope *Scope, text string, want ...string) {
		t.Helper()
		r, err := x.Search(context.Background(), Query{Text: text, Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(r); !slices.Equal(got, want) || r.Total != uint64(len(want)) {
			t.Errorf("scope %+v, %q: hits %v total %d, want %v", scope, text, got, r.Total, want)
		}
	}
	f(&Scope{Markets: []string{"DACH"}}, "acme", "at", "de")
	f(&Scope{Markets: []string{"DACH"}}, "se")
	f(&Scope{Markets: []string{"Nordics"}}, "*", "se")
	f(&Scope{Markets: []string{"DACH", "Nordics"}}, "outage", "at", "de", "se")
	f(nil, "acme", "at", "de", "fr", "se")
}
