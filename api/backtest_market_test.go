package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
)

// A market team sees its market's posts only (docs/markets.md): its
// gatherers' and coaches' backtests too. Before, a DACH-scoped gatherer's
// draft was tried over every market's posts, and the report's sample
// showed the Nordics' posts and posts of no market, which its search
// never returns.
func TestBacktestOfAMarketScopedCallerSeesItsMarketsOnly(t *testing.T) {
	cfg := search.DefaultConfig()
	cfg.Enabled, cfg.Dir = true, t.TempDir()
	x, err := search.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	now := time.Now().UTC().Add(-time.Hour)
	item := func(id, text, market string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: text, CreatedAt: now, Author: post.Author{Handle: "@u" + id}},
			Enrichment: &post.Enrichment{Lang: "en", Region: "EMEA", Market: market, SentimentLabel: "neutral"},
			Matches:    []post.Match{{Watchlist: "acme-gr", Version: 1}}}
	}
	if err := x.Index([]*post.Item{
		item("1", "acme refund late in berlin", "DACH"),
		item("2", "acme secret in stockholm", "Nordics"),
		item("3", "acme somewhere unknown", ""),
	}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Backtester = IndexBacktester{Index: func() *search.Index { return x }, Live: func() ([]*match.Watchlist, error) { return nil, nil }}
	})
	for name, nt := range map[string]NewToken{
		"gatherer-dach": {Name: "gerd", Role: Gatherer, Scope: Scope{Markets: []string{"DACH"}}},
		"coach-dach":    {Name: "conny", Role: Coach, Scope: Scope{Markets: []string{"dach"}}},
	} {
		_, secret, err := e.tokens.Create(nt)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name] = secret
	}
	spec := `{"since":"7d","spec":{"id":"draft","team":"greece","keywords":["acme"]}}`
	run := func(caller string) backtest.Report {
		t.Helper()
		r := e.do(caller, "POST", "/v1/watchlists/backtest", spec)
		var rep backtest.Report
		if r.code != 200 || json.Unmarshal(r.body, &rep) != nil {
			t.Fatalf("%s: %d %s", caller, r.code, r.body)
		}
		return rep
	}
	if rep := run("admin"); rep.Matched != 3 {
		t.Fatalf("the unscoped admin: %d matched, want 3 (the index holds them)", rep.Matched)
	}
	for _, caller := range []string{"gatherer-dach", "coach-dach"} {
		rep := run(caller)
		b, _ := json.Marshal(rep)
		if rep.Matched != 1 || rep.Scanned != 1 || len(rep.Sample) != 1 || rep.Sample[0].Key != "x:1" ||
			strings.Contains(string(b), "stockholm") || strings.Contains(string(b), "unknown") {
			t.Errorf("%s: %s", caller, b)
		}
	}
	// A backtester that cannot narrow to markets refuses them.
	e2 := newEnv(t)
	_, secret, err := e2.tokens.Create(NewToken{Name: "gerd", Role: Gatherer, Scope: Scope{Markets: []string{"DACH"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := e2.do(secret, "POST", "/v1/watchlists/backtest", spec); r.code != 403 || r.errCode() != CodeOutOfScope {
		t.Errorf("a market-scoped backtest on a backtester that cannot narrow: %d %s", r.code, r.body)
	}
}
