package pipeline

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
)

// With match.store (and no match.watchlists), `earshot watchlist backtest
// --config F` compares the draft with the store's live set, as the API's
// backtest does. It used to read match.watchlists only, and so reported
// "no live watchlists" for every store configuration.
func TestBacktestComparesWithTheStoresLiveSet(t *testing.T) {
	dir := t.TempDir()
	cfg := Default()
	cfg.Match.Store = filepath.Join(dir, "store")
	cfg.Search.Enabled, cfg.Search.Dir = true, filepath.Join(dir, "search")

	lists := filepath.Join(dir, "lists")
	if err := os.Mkdir(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lists, "acme.yaml"), []byte("id: acme\nname: Acme\nteam: care\nkeywords: [acme]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, closeStore, err := OpenWatchlistStore(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), "ci", lists); err != nil {
		t.Fatal(err)
	}
	closeStore()

	x, err := search.Open(cfg.Search, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = x.Index([]*post.Item{{
		Post:       &post.Post{Platform: "x", ID: "1", Text: "Acme, where is my refund?", CreatedAt: time.Now().Add(-time.Hour)},
		Matches:    []post.Match{{Watchlist: "acme", Version: 1}},
		Enrichment: &post.Enrichment{Lang: "en", Region: "EMEA", SentimentLabel: "negative"},
	}})
	if cerr := x.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	draft := filepath.Join(dir, "draft.yaml")
	if err := os.WriteFile(draft, []byte("id: refunds\nname: Refunds\nteam: care\nkeywords: [refund]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Backtest(context.Background(), cfg, draft, "", "", backtest.Options{Since: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matched != 1 || len(rep.Overlap) != 1 || rep.Overlap[0].Watchlist != "acme" || rep.Overlap[0].Both != 1 {
		t.Errorf("matched %d, overlap %+v; want 1, and acme (the store's live list) matching it too", rep.Matched, rep.Overlap)
	}
}

// `earshot watchlist backtest` reads the organisation's markets (route.org)
// as the API's backtest and the live matcher do: a market-scoped draft is
// tried on the posts of that market. It used to be refused ("names a
// market, and none are defined") on the command line only.
func TestBacktestReadsTheOrganisationsMarkets(t *testing.T) {
	dir := t.TempDir()
	cfg := Default()
	cfg.Route.Org = "../deploy/examples/org.yaml"
	cfg.Search.Enabled, cfg.Search.Dir = true, filepath.Join(dir, "search")
	x, err := search.Open(cfg.Search, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var items []*post.Item
	for i, country := range []string{"DE", "US", "AT"} {
		items = append(items, &post.Item{
			Post:       &post.Post{Platform: "x", ID: string(rune('1' + i)), Text: "Acme, where is my refund?", Country: country, CreatedAt: time.Now().Add(-time.Hour)},
			Enrichment: &post.Enrichment{Lang: "en", Country: country, SentimentLabel: "negative"},
		})
	}
	err = x.Index(items)
	if cerr := x.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	draft := filepath.Join(dir, "draft.yaml")
	if err := os.WriteFile(draft, []byte("id: refunds-dach\nname: Refunds DACH\nteam: care\nrule: refund AND market:DACH\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Backtest(context.Background(), cfg, draft, "", "", backtest.Options{Since: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matched != 2 {
		t.Errorf("matched %d; want 2 (the posts from DE and AT, not US)", rep.Matched)
	}
}
