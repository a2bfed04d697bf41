package backtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/search"
)

// A draft with market: backtests with the markets the live matcher has.
func TestBacktestMarket(t *testing.T) {
	c := search.DefaultConfig()
	c.Enabled, c.Dir = true, t.TempDir()
	x, err := search.OpenWith(c, search.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	var items []*post.Item
	for i, country := range []string{"DE", "AT", "SE", ""} {
		items = append(items, &post.Item{
			Post:       &post.Post{Platform: "x", ID: string(rune('a' + i)), Text: "acme is down", Country: country, CreatedAt: testNow.Add(-time.Hour)},
			Matches:    []post.Match{{Watchlist: "acme", Version: 1}},
			Enrichment: &post.Enrichment{Lang: "en", Region: "EMEA"},
		})
	}
	if err := x.Index(items); err != nil {
		t.Fatal(err)
	}
	draft, err := match.Parse("d.yaml", []byte("id: dach\nname: DACH\nteam: care\nrule: \"acme market:DACH\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), x, draft, nil, Options{Since: 24 * time.Hour}); err == nil || !strings.Contains(err.Error(), "market:DACH") {
		t.Errorf("without markets: %v, want the rule refused", err)
	}
	markets := region.MarketMap([]region.Market{{Name: "DACH", Region: "EMEA", Countries: []string{"DE", "AT", "CH"}}})
	rep, err := Run(context.Background(), x, draft, nil, Options{Since: 24 * time.Hour, Markets: markets})
	if err != nil || rep.Matched != 2 {
		t.Fatalf("with markets: matched %v, %v; want 2", rep, err)
	}
}
