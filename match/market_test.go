package match

import (
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
)

var testMarkets = region.MarketMap([]region.Market{
	{Name: "DACH", Region: "EMEA", Countries: []string{"DE", "AT", "CH"}},
	{Name: "GR-CY", Region: "EMEA", Countries: []string{"GR", "CY"}},
})

// market: holds for a post whose platform country is in the market, as
// region: does for regions.
func TestMarketFilter(t *testing.T) {
	w := &Watchlist{ID: "dach", Version: 1, Status: "live", Rule: "acme market:dach", file: "dach.yaml"}
	e, err := CompileWith([]*Watchlist{w}, Options{Markets: testMarkets})
	if err != nil {
		t.Fatal(err)
	}
	f := func(p *post.Post, want bool) {
		t.Helper()
		if got := len(e.Match(p)) == 1; got != want {
			t.Errorf("post of %q / geo %+v: matched %v, want %v", p.Country, p.Geo, got, want)
		}
	}
	mk := func(country string, geo *post.Geo) *post.Post {
		return &post.Post{Platform: "x", ID: "1", Text: "acme is late", Country: country, Geo: geo}
	}
	f(mk("DE", nil), true)
	f(mk("at", nil), true)
	f(mk("", &post.Geo{Country: "CH"}), true)
	f(mk("GR", nil), false)
	f(mk("FR", nil), false)
	f(mk("", nil), false)
	f(mk("DЕ", nil), false) // Cyrillic Е
	not := &Watchlist{ID: "not", Version: 1, Status: "live", Rule: "acme -market:DACH", file: "not.yaml"}
	if e, err = CompileWith([]*Watchlist{not}, Options{Markets: testMarkets}); err != nil {
		t.Fatal(err)
	}
	f(mk("DE", nil), false)
	f(mk("GR", nil), true)
}

func TestMarketFilterChecked(t *testing.T) {
	f := func(rule string, markets map[string]string, want string) {
		t.Helper()
		w := &Watchlist{ID: "r", Version: 1, Status: "live", Rule: rule, file: "r.yaml"}
		_, err := CompileWith([]*Watchlist{w}, Options{Markets: markets})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rule %q: %v, want it refused naming %s", rule, err, want)
		}
	}
	f("acme market:Benelux", testMarkets, "market:Benelux is not a market: want one of [DACH GR-CY]")
	f("acme market:DАCH", testMarkets, "market:DАCH is not a market") // Cyrillic А
	f("acme market:DACH", nil, "none are defined (markets: in org.yaml")
}
