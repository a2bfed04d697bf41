package search

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testConfig(t testing.TB) Config {
	c := DefaultConfig()
	c.Enabled, c.Dir = true, t.TempDir()
	return c
}

func openTest(t testing.TB, c Config, now *time.Time) *Index {
	t.Helper()
	x, err := OpenWith(c, Options{Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

type doc struct {
	id, text, lang, region, sentiment string
	ago                               time.Duration
	watchlists                        []string
}

func (d doc) item() *post.Item {
	return &post.Item{
		Post: &post.Post{Platform: "x", ID: d.id, Text: d.text, Author: post.Author{Handle: "@user" + d.id, Followers: 10},
			CreatedAt: testNow.Add(-d.ago), Hashtags: []string{"#tag" + d.id}},
		Matches:    matches(d.watchlists...),
		Enrichment: &post.Enrichment{Lang: d.lang, Region: d.region, SentimentLabel: d.sentiment},
	}
}

func matches(ws ...string) []post.Match {
	var ms []post.Match
	for _, w := range ws {
		ms = append(ms, post.Match{Watchlist: w, Version: 1})
	}
	return ms
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

func loaded(t testing.TB) *Index {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	var items []*post.Item
	for _, d := range corpus {
		items = append(items, d.item())
	}
	if err := x.Index(items); err != nil {
		t.Fatal(err)
	}
	return x
}

func keys(r *Result) []string {
	var ks []string
	for _, h := range r.Hits {
		ks = append(ks, strings.TrimPrefix(h.Key, "x:"))
	}
	slices.Sort(ks)
	return ks
}

func TestSearch(t *testing.T) {
	x := loaded(t)
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"stemmed english", Query{Text: "refund"}, []string{"1", "2"}},
		{"phrase", Query{Text: `"refund never arrived"`}, []string{"1"}},
		{"greek without accents", Query{Text: "εξυπηρετηση"}, []string{"3", "7"}},
		{"greek with accents and capitals", Query{Text: "ΕΞΥΠΗΡΈΤΗΣΗ"}, []string{"3", "7"}},
		{"spanish stem", Query{Text: "reembolsos"}, []string{"5"}},
		{"japanese bigrams", Query{Text: "返金"}, []string{"6"}},
		{"must not", Query{Text: "acme -refund"}, []string{"3", "5"}},
		{"filters", Query{Text: "acme", Regions: []string{"emea"}, Sentiments: []string{"Negative"}}, []string{"3"}},
		{"watchlist filter", Query{Text: "*", Watchlists: []string{"competitors"}}, []string{"4"}},
		{"lang filter", Query{Text: "*", Langs: []string{"el"}}, []string{"3", "7"}},
		{"field", Query{Text: "hashtag:tag4"}, []string{"4"}},
		{"author field", Query{Text: "author:user2"}, []string{"2"}},
		{"region in query", Query{Text: "region:latam"}, []string{"5"}},
		{"since", Query{Text: "*", Since: testNow.Add(-4 * time.Hour)}, []string{"1", "3"}},
		{"until", Query{Text: "*", Until: testNow.Add(-48 * time.Hour)}, []string{"4", "6"}},
		{"prefix", Query{Text: "glob*"}, []string{"4"}},
		{"scope", Query{Text: "*", Scope: &Scope{Watchlists: []string{"acme-legal"}}}, []string{"5"}},
		{"scope intersects request", Query{Text: "*", Watchlists: []string{"competitors"}, Scope: &Scope{Watchlists: []string{"acme"}}}, nil},
		{"scope regions", Query{Text: "refund", Scope: &Scope{Regions: []string{"NA"}}}, []string{"1"}},
		{"nothing", Query{Text: "zzzz"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := x.Search(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(r); !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
			if r.Total != uint64(len(tc.want)) {
				t.Errorf("total %d, want %d", r.Total, len(tc.want))
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
