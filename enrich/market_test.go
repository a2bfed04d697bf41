package enrich

import (
	"testing"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
)

// A post is tagged with the market of the country it is placed in, by the
// same evidence as its country; no country, no market.
func TestMarket(t *testing.T) {
	e := New(Config{Markets: region.MarketMap([]region.Market{
		{Name: "DACH", Region: "EMEA", Countries: []string{"DE", "AT", "CH"}},
		{Name: "GR-CY", Region: "EMEA", Countries: []string{"GR", "CY"}},
	})})
	f := func(p post.Post, lang, country, market string) {
		t.Helper()
		en := &post.Enrichment{Region: "unknown", Lang: lang, LangConfidence: 0.9}
		e.region(&p, en)
		if en.Country != country || en.Market != market {
			t.Errorf("%+v: got %s/%q, want %s/%q", p, en.Country, en.Market, country, market)
		}
	}
	f(post.Post{Country: "at"}, "", "AT", "DACH")
	f(post.Post{Geo: &post.Geo{Country: "CY"}}, "", "CY", "GR-CY")
	f(post.Post{Author: post.Author{Location: "München"}}, "", "DE", "DACH")
	f(post.Post{}, "el", "GR", "GR-CY") // from the language, as the country is
	f(post.Post{}, "de", "", "")        // a region from the language, no country: no market
	f(post.Post{Country: "FR"}, "", "FR", "")
	f(post.Post{Country: "ZZ"}, "", "ZZ", "")
	// the whole stage carries it on the item
	it := &post.Item{Post: &post.Post{Platform: "x", ID: "1", Text: "acme ist super", Country: "CH"}, Matches: []post.Match{{Watchlist: "w"}}}
	out, err := e.Stage()(t.Context(), post.Batch{Items: []*post.Item{it}})
	if err != nil || len(out.Items) != 1 || out.Items[0].Enrichment.Market != "DACH" {
		t.Fatalf("stage: %+v, %v; want the item tagged DACH", out.Items, err)
	}
	// without markets, none
	if en := New(Config{}).Enrich(it.Post); en.Market != "" {
		t.Errorf("market %q without markets", en.Market)
	}
}

// BenchmarkRegionMarket is the region tagging of a post from its profile
// location, without markets and with the example org's four, to show
// what the market tag adds.
func BenchmarkRegionMarket(b *testing.B) {
	markets := region.MarketMap([]region.Market{
		{Name: "DACH", Region: "EMEA", Countries: []string{"DE", "AT", "CH"}},
		{Name: "Nordics", Region: "EMEA", Countries: []string{"SE", "NO", "DK", "FI", "IS"}},
		{Name: "GR-CY", Region: "EMEA", Countries: []string{"GR", "CY"}},
		{Name: "UK-IE", Region: "EMEA", Countries: []string{"GB", "IE"}},
	})
	p := &post.Post{Author: post.Author{Location: "München, Bayern"}}
	for _, c := range []struct {
		name    string
		markets map[string]string
	}{{"none", nil}, {"markets", markets}} {
		e := New(Config{Markets: c.markets})
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p.Author.Location)))
			for b.Loop() {
				en := post.Enrichment{Region: "unknown", Lang: "de", LangConfidence: 0.9}
				e.region(p, &en)
			}
		})
	}
}
