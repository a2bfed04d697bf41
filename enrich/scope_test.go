package enrich

import (
	"context"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// A watchlist's regions: scope matching too. After enrichment resolves the
// post's region, matches of watchlists scoped elsewhere are dropped; a post
// whose region stays unknown keeps them; a post left with no match is not
// passed on, except an edit, which goes on without matches to retract its
// alert.
func TestWatchlistRegionsScopeMatches(t *testing.T) {
	e := New(Config{Clustering: "off"})
	emea := post.Match{Watchlist: "acme-emea", Regions: []string{"EMEA"}, Keywords: []string{"acme"}}
	na := post.Match{Watchlist: "acme-na", Regions: []string{"na"}, Keywords: []string{"acme"}} // case-insensitive
	global := post.Match{Watchlist: "acme", Keywords: []string{"acme"}}
	it := func(id, country, kind string, ms ...post.Match) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Kind: kind, Text: "acme is down again", Country: country, Lang: "en"}, Matches: ms}
	}
	in := []*post.Item{
		it("gb", "GB", "", emea, na, global),
		it("us-only-emea", "US", "", emea),
		it("nowhere", "", "", emea, na),
		it("edit-us", "US", post.KindEdit, emea),
	}
	given := in[0]
	out, err := e.Stage()(context.Background(), post.Batch{Items: in})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, o := range out.Items {
		var wls []string
		for _, m := range o.Matches {
			wls = append(wls, m.Watchlist)
		}
		got[o.Post.ID] = wls
	}
	want := map[string][]string{"gb": {"acme-emea", "acme"}, "nowhere": {"acme-emea", "acme-na"}, "edit-us": nil}
	if len(got) != len(want) {
		t.Fatalf("passed on %v, want %v", got, want)
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok || len(g) != len(w) || (len(w) > 0 && (g[0] != w[0] || g[len(g)-1] != w[len(w)-1])) {
			t.Errorf("%s: matches %v, want %v", id, g, w)
		}
	}
	if len(given.Matches) != 3 {
		t.Errorf("the stage changed the matches of the item it was given: %v", given.Matches)
	}
}
