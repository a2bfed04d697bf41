package backtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
)

// testNow and corpus are search's test corpus (search/search_test.go): the
// backtest reads the posts the index keeps.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type doc struct {
	id, text, lang, region, sentiment string
	ago                               time.Duration
	watchlists                        []string
}

var corpus = []doc{
	{"1", "The refund never arrived, Acme support is useless", "en", "NA", "negative", time.Hour, []string{"acme"}},
	{"2", "Acme refunds are fast, thanks!", "en", "EMEA", "positive", 25 * time.Hour, []string{"acme"}},
	{"3", "Η Acme δεν μου επέστρεψε τα χρήματα, απαράδεκτη εξυπηρέτηση", "el", "EMEA", "negative", 2 * time.Hour, []string{"acme"}},
	{"4", "Globex launches a new product line", "en", "APAC", "neutral", 3 * 24 * time.Hour, []string{"competitors"}},
	{"5", "Reembolso de Acme: nunca llegó", "es", "LATAM", "negative", 30 * time.Hour, []string{"acme", "acme-legal"}},
	{"6", "アクメの返金が届かない", "ja", "APAC", "negative", 50 * time.Hour, []string{"acme"}},
	{"7", "ΕΞΥΠΗΡΕΤΗΣΗ πελατών: άψογη!", "el", "EMEA", "positive", 5 * time.Hour, []string{"acme"}},
}

func loaded(t testing.TB) *search.Index {
	t.Helper()
	c := search.DefaultConfig()
	c.Enabled, c.Dir = true, t.TempDir()
	x, err := search.OpenWith(c, search.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	var items []*post.Item
	for _, d := range corpus {
		var ms []post.Match
		for _, w := range d.watchlists {
			ms = append(ms, post.Match{Watchlist: w, Version: 1})
		}
		items = append(items, &post.Item{
			Post: &post.Post{Platform: "x", ID: d.id, Text: d.text, Author: post.Author{Handle: "@user" + d.id, Followers: 10},
				CreatedAt: testNow.Add(-d.ago), Hashtags: []string{"#tag" + d.id}},
			Matches:    ms,
			Enrichment: &post.Enrichment{Lang: d.lang, Region: d.region, SentimentLabel: d.sentiment},
		})
	}
	if err := x.Index(items); err != nil {
		t.Fatal(err)
	}
	return x
}

const draftYAML = `id: refunds-draft
name: Refund complaints (draft)
team: care
status: draft
keywords: [refund, refunds, reembolso]
`

func TestBacktest(t *testing.T) {
	x := loaded(t)
	draft, err := match.Parse("draft.yaml", []byte(draftYAML))
	if err != nil {
		t.Fatal(err)
	}
	live := mustLists(t, map[string]string{
		"acme.yaml":    "id: acme\nname: Acme\nteam: care\nkeywords: [acme]\n",
		"es.yaml":      "id: spanish\nname: Spanish refunds\nteam: care\nrule: \"reembolso AND lang:es\"\n",
		"paused.yaml":  "id: paused\nname: Paused\nteam: care\nstatus: paused\nkeywords: [refund]\n",
		"unrelat.yaml": "id: globex\nname: Globex\nteam: care\nkeywords: [globex]\n",
	})
	rep, err := Run(context.Background(), x, draft, live, Options{Since: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != len(corpus) || rep.Matched != 3 {
		t.Errorf("scanned %d, matched %d; want %d, 3", rep.Scanned, rep.Matched, len(corpus))
	}
	perDay := map[string]int{}
	for _, d := range rep.PerDay {
		perDay[d.Day] = d.Matched
	}
	if perDay["2026-11-22"] != 1 || perDay["2026-11-21"] != 2 || len(rep.PerDay) != 8 {
		t.Errorf("per day %+v", rep.PerDay)
	}
	overlap := map[string]int{}
	for _, o := range rep.Overlap {
		overlap[o.Watchlist] = o.Both
	}
	// The Spanish post's lang comes from the stored post (declared lang is
	// empty here), so the lang: filter does not hold for it.
	if overlap["acme"] != 3 || overlap["globex"] != 0 || len(overlap) != 3 {
		t.Errorf("overlap %v (paused lists are not live)", overlap)
	}
	if len(rep.Sample) != 3 || rep.Sample[0].CreatedAt.After(rep.Sample[2].CreatedAt) {
		t.Errorf("sample %+v", rep.Sample)
	}
	// A year is clamped to the window, and said so.
	rep, err = Run(context.Background(), x, draft, nil, Options{Since: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) < 2 || !strings.Contains(rep.Notes[0], "asked for 365d, but the index keeps 7d") || rep.Matched != 3 {
		t.Errorf("a year: notes %q, matched %d", rep.Notes, rep.Matched)
	}
	// The window bounds what is read.
	rep, _ = Run(context.Background(), x, draft, nil, Options{Since: 12 * time.Hour})
	if rep.Matched != 1 || rep.Scanned != 3 {
		t.Errorf("12h: matched %d of %d", rep.Matched, rep.Scanned)
	}
}

func mustLists(t *testing.T, files map[string]string) []*match.Watchlist {
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lists, err := match.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return lists
}

// BenchmarkBacktest7Days runs a draft watchlist over the window that
// search.BenchmarkSearch7Days built in SEARCH_BENCH_DIR.
func BenchmarkBacktest7Days(b *testing.B) {
	dir := os.Getenv("SEARCH_BENCH_DIR")
	if dir == "" {
		b.Skip("SEARCH_BENCH_DIR: build the window with BenchmarkSearch7Days first")
	}
	c := search.DefaultConfig()
	c.Enabled, c.Dir = true, dir
	now := testNow
	x, err := search.OpenWith(c, search.Options{ReadOnly: true, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	draft, err := match.Parse("draft.yaml", []byte("id: refunds\nname: Refunds\nteam: care\nkeywords: [refund, reembolso, remboursement, rimborso, erstattung]\n"))
	if err != nil {
		b.Fatal(err)
	}
	live, err := match.LoadDir(filepath.Join("..", "deploy", "examples", "watchlists"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		r, err := Run(context.Background(), x, draft, live, Options{Since: 7 * 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Scanned)/r.Took.Seconds(), "posts/s")
		b.ReportMetric(float64(r.Scanned), "posts")
		b.ReportMetric(float64(r.Matched), "matched")
	}
}
