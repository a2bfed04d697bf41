package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
)

func search1(t *testing.T, x *Index, q Query) *Result {
	t.Helper()
	r, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDeletesAndEdits(t *testing.T) {
	x := loaded(t)
	// A delete carries no created_at: the post (from yesterday's shard) goes.
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "2"}}
	// An edit that still matches replaces the text; one without created_at
	// stays in its day.
	edit := &post.Item{Post: &post.Post{Kind: post.KindEdit, Platform: "x", ID: "5", Text: "Reembolso recibido, gracias"},
		Matches: matches("acme"), Enrichment: &post.Enrichment{Lang: "es", Region: "LATAM", SentimentLabel: "positive"}}
	// An edit that no longer matches anything is removed.
	gone := &post.Item{Post: &post.Post{Kind: post.KindEdit, Platform: "x", ID: "4", Text: "nothing to see", CreatedAt: testNow.Add(-72 * time.Hour)}}
	if err := x.Index([]*post.Item{del, edit, gone}); err != nil {
		t.Fatal(err)
	}
	if got := keys(search1(t, x, Query{Text: "*"})); !slices.Equal(got, []string{"1", "3", "5", "6", "7"}) {
		t.Errorf("after delete and edits: %v", got)
	}
	r := search1(t, x, Query{Text: "recibido"})
	if len(r.Hits) != 1 || r.Hits[0].Sentiment != "positive" || !r.Hits[0].CreatedAt.Equal(testNow.Add(-30*time.Hour)) {
		t.Errorf("edited post: %+v", r.Hits)
	}
	if r := search1(t, x, Query{Text: "nunca"}); r.Total != 0 {
		t.Error("the old text of an edited post is still found")
	}
	// Index then delete in one batch: the delete wins.
	a := doc{"9", "fresh refund post", "en", "NA", "neutral", time.Minute, []string{"acme"}}.item()
	if err := x.Index([]*post.Item{a, {Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "9"}}}); err != nil {
		t.Fatal(err)
	}
	if r := search1(t, x, Query{Text: "fresh"}); r.Total != 0 {
		t.Error("a post deleted later in the same batch is indexed")
	}
}

func TestRetention(t *testing.T) {
	now := testNow
	c := testConfig(t)
	c.Retention = 3 * 24 * time.Hour
	x := openTest(t, c, &now)
	items := []*post.Item{
		doc{"old", "too old", "en", "NA", "neutral", 4 * 24 * time.Hour, nil}.item(),
		doc{"future", "from the future", "en", "NA", "neutral", -3 * time.Hour, nil}.item(),
		doc{"d0", "today", "en", "NA", "neutral", time.Hour, nil}.item(),
		doc{"d2", "two days ago", "en", "NA", "neutral", 2*24*time.Hour + time.Hour, nil}.item(),
	}
	if err := x.Index(items); err != nil {
		t.Fatal(err)
	}
	if got := keys(search1(t, x, Query{Text: "*"})); !slices.Equal(got, []string{"d0", "d2"}) {
		t.Errorf("indexed %v", got)
	}
	if got := testutil.ToFloat64(x.m.skipped.WithLabelValues(skipTooOld)) + testutil.ToFloat64(x.m.skipped.WithLabelValues(skipFuture)); got != 2 {
		t.Errorf("skipped %v, want 2", got)
	}
	if got := x.Days(); !slices.Equal(got, []string{"2026-11-20", "2026-11-22"}) {
		t.Errorf("shards %v", got)
	}
	// Two days later the older shard has left the window: it is dropped,
	// directory and all.
	now = now.Add(48 * time.Hour)
	x.Expire()
	if got := x.Days(); !slices.Equal(got, []string{"2026-11-22"}) {
		t.Errorf("after expiry: %v", got)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "2026-11-20")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("expired shard still on disk: %v", err)
	}
	// Opening drops expired shards too, and leaves other directories alone.
	x.Close()
	os.Mkdir(filepath.Join(c.Dir, "not-a-day"), 0o755)
	now = now.Add(3 * 24 * time.Hour)
	y := openTest(t, c, &now)
	if got := y.Days(); len(got) != 0 {
		t.Errorf("after reopening past the window: %v", got)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "not-a-day")); err != nil {
		t.Errorf("a foreign directory was removed: %v", err)
	}
}

func TestHighlightsAndFacets(t *testing.T) {
	x := loaded(t)
	r := search1(t, x, Query{Text: "refund"})
	want := map[string]string{
		"x:1": "The <mark>refund</mark> never arrived, Acme support is useless",
		"x:2": "Acme <mark>refunds</mark> are fast, thanks!",
	}
	for _, h := range r.Hits {
		if got := h.Highlights["text"]; len(got) != 1 || got[0] != want[h.Key] {
			t.Errorf("%s: highlights %q, want %q", h.Key, got, want[h.Key])
		}
	}
	r = search1(t, x, Query{Text: "εξυπηρετηση"})
	for _, h := range r.Hits {
		if fr := h.Highlights["text"]; len(fr) != 1 || !strings.Contains(strings.ToLower(fr[0]), "<mark>εξυπηρέτηση</mark>") && !strings.Contains(fr[0], "<mark>ΕΞΥΠΗΡΕΤΗΣΗ</mark>") {
			t.Errorf("%s: Greek highlight %q", h.Key, fr)
		}
	}
	x.Index([]*post.Item{doc{"h", "acme <b>refund</b> & more", "en", "NA", "negative", time.Minute, []string{"acme"}}.item()})
	r = search1(t, x, Query{Text: "+refund +acme", Regions: []string{"NA"}, Sentiments: []string{"negative"}, Since: testNow.Add(-10 * time.Minute)})
	if len(r.Hits) != 1 || r.Hits[0].Highlights["text"][0] != "<mark>acme</mark> &lt;b&gt;<mark>refund</mark>&lt;/b&gt; &amp; more" {
		t.Errorf("text is not escaped around the marks: %+v", r.Hits)
	}
	x.Index([]*post.Item{{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "h"}}})

	r = search1(t, x, Query{Text: "*"})
	facet := func(name string) map[string]int {
		m := map[string]int{}
		for _, f := range r.Facets[name] {
			m[f.Term] = f.Count
		}
		return m
	}
	if got := facet("watchlist"); got["acme"] != 6 || got["competitors"] != 1 || got["acme-legal"] != 1 {
		t.Errorf("watchlist facet %v", got)
	}
	if got := facet("lang"); got["el"] != 2 || got["en"] != 3 || got["ja"] != 1 || got["es"] != 1 {
		t.Errorf("lang facet %v", got)
	}
	if got := facet("sentiment"); got["negative"] != 4 || got["positive"] != 2 || got["neutral"] != 1 {
		t.Errorf("sentiment facet %v", got)
	}
	if got := facet("region"); got["EMEA"] != 3 || got["NA"] != 1 || got["APAC"] != 2 {
		t.Errorf("region facet %v", got)
	}
	// Facets count every hit, not just the page.
	r = search1(t, x, Query{Text: "*", Size: 1})
	if len(r.Hits) != 1 || r.Total != 7 || facet("watchlist")["acme"] != 6 {
		t.Errorf("page of 1: %d hits, total %d, facets %v", len(r.Hits), r.Total, r.Facets)
	}
	// A scoped caller sees only its watchlists in facets and hits.
	r = search1(t, x, Query{Text: "*", Scope: &Scope{Watchlists: []string{"acme-legal"}}})
	if got := facet("watchlist"); len(got) != 1 || got["acme-legal"] != 1 {
		t.Errorf("scoped watchlist facet %v", got)
	}
	if len(r.Hits) != 1 || !slices.Equal(r.Hits[0].Watchlists, []string{"acme-legal"}) {
		t.Errorf("scoped hit shows %+v", r.Hits)
	}
}

func TestBadQueries(t *testing.T) {
	x := loaded(t)
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"unterminated quote", Query{Text: `"refund`}, "unterminated quote"},
		{"bare plus", Query{Text: "+"}, "syntax error"},
		{"unknown field", Query{Text: "colour:red"}, `unknown field "colour"`},
		{"boolean words", Query{Text: "acme AND refund"}, "there is no AND"},
		{"parentheses", Query{Text: "(acme refund)"}, "parentheses"},
		{"bad regexp", Query{Text: "/[a/"}, "regular expression"},
		{"match-everything wildcard", Query{Text: "text:*"}, "matches every term"},
		{"date range on another field", Query{Text: `lang:>"2026-01-01"`}, "date ranges apply to created"},
		{"unknown sentiment", Query{Text: "*", Sentiments: []string{"happy"}}, `unknown sentiment "happy"`},
		{"bad language", Query{Text: "*", Langs: []string{"english"}}, `unknown language "english"`},
		{"bad region", Query{Text: "*", Regions: []string{"EU west"}}, "unknown region"},
		{"bad watchlist", Query{Text: "*", Watchlists: []string{"a b"}}, "unknown watchlist"},
		{"page too big", Query{Text: "*", Size: 1000}, "size 1000"},
		{"negative from", Query{Text: "*", From: -1}, "from -1"},
		{"too deep", Query{Text: "*", From: 9990, Size: 20}, "reaches past hit 10000"},
		// from + size overflowed to a negative and passed the check above
		{"from near max int", Query{Text: "acme", From: math.MaxInt - 10, Size: 20}, "reaches past hit 10000"},
		{"from max int", Query{Text: "*", From: math.MaxInt, Size: 200}, "reaches past hit 10000"},
		{"since after until", Query{Text: "*", Since: testNow, Until: testNow.Add(-time.Hour)}, "is not before until"},
		{"huge text", Query{Text: strings.Repeat("a ", 3000)}, "at most 4096"},
		// each value is a term searcher per day: 100,000 watchlists (1 MB of
		// API body) took 0.8 s on a 7-post index, 24 s for a scoped caller
		{"many watchlists", Query{Text: "acme", Watchlists: strings.Split(strings.Repeat("w,", 1000)+"w", ",")}, "at most 1000 watchlist values"},
		{"many regions", Query{Text: "acme", Regions: strings.Split(strings.Repeat("NA,", 1000)+"NA", ",")}, "at most 1000 region values"},
		// bleve's fuzzy searcher refuses an edit distance over 2 per shard,
		// which came back as no hits and no error
		{"fuzziness 3", Query{Text: "acme~3"}, "at most 2 edits"},
		{"fuzziness 1e12", Query{Text: "acme~1000000000000"}, "at most 2 edits"},
		{"fuzzy field", Query{Text: "hashtag:acme~3"}, "at most 2 edits"},
		// each pattern builds an automaton per text field and day: a 4 KB
		// query of them cost 19 s on a 7-post index; a counted repeat of
		// 1000 was dropped by bleve as too complex, again as no hits
		{"many patterns", Query{Text: strings.Repeat("*a* ", 9)}, "at most 8 patterns"},
		{"many fuzzy terms", Query{Text: strings.Repeat("acme~1 ", 9)}, "at most 8 patterns"},
		{"big regexp", Query{Text: "/.{0,1000}/"}, "too complex"},
		{"big wildcard", Query{Text: "a" + strings.Repeat("?", 500)}, "too complex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.Search(context.Background(), tc.q)
			if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrBadQuery saying %q", err, tc.want)
			}
		})
	}
	// Every problem at once.
	_, err := x.Search(context.Background(), Query{Text: "*", Sentiments: []string{"happy"}, Langs: []string{"english"}})
	if err == nil || !strings.Contains(err.Error(), "happy") || !strings.Contains(err.Error(), "english") {
		t.Errorf("not every problem reported: %v", err)
	}
}

// * is bounded by paging: a page never exceeds MaxSize, and paging walks
// all hits without repeats.
func TestMatchAllPages(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	if err := x.Index(many(450, "p")); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for from := 0; ; from += MaxSize {
		r := search1(t, x, Query{Text: "*", Size: MaxSize, From: from})
		if r.Total != 450 || len(r.Hits) > MaxSize {
			t.Fatalf("total %d, page %d", r.Total, len(r.Hits))
		}
		for _, h := range r.Hits {
			if seen[h.Key] {
				t.Fatalf("%s on two pages", h.Key)
			}
			seen[h.Key] = true
		}
		if len(r.Hits) < MaxSize {
			break
		}
	}
	if len(seen) != 450 {
		t.Errorf("paged through %d of 450", len(seen))
	}
	if r := search1(t, x, Query{Text: "*"}); len(r.Hits) != DefaultSize {
		t.Errorf("default page %d", len(r.Hits))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"defaults", func(*Config) {}, nil},
		{"enabled without dir", func(c *Config) { c.Enabled, c.Dir = true, "" }, []string{"search.dir"}},
		{"part of a day", func(c *Config) { c.Retention = 36 * time.Hour }, []string{"whole number of days"}},
		{"everything wrong", func(c *Config) {
			c.Retention, c.BatchSize, c.Linger, c.MaxFuture, c.MaxHits, c.HitBudget = time.Hour, 0, -1, -1, 0, -1
		}, []string{"search.retention", "search.batch_size", "search.linger", "search.max_future", "search.max_hits", "search.hit_budget"}},
		{"a year", func(c *Config) { c.Retention = 365 * 24 * time.Hour }, []string{"search.retention"}},
		{"pattern words below 0", func(c *Config) { c.MaxPatternWords = -1 }, []string{"search.max_pattern_words"}},
		{"pattern words 1e12", func(c *Config) { c.MaxPatternWords = 1e12 }, []string{"search.max_pattern_words"}},
		{"no pattern word limit", func(c *Config) { c.MaxPatternWords = 0 }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not mention %s", err, w)
				}
			}
		})
	}
}

func TestAnalyzerFor(t *testing.T) {
	for lang, want := range map[string]string{"en": "en", "EN-us": "en", "el": "el", "pt-BR": "pt", "zh": "cjk", "ja": "cjk", "ko": "cjk", "nb": "no", "und": "std", "": "std", "sw": "std", "pl": "std"} {
		if got := analyzerFor(lang); got != want {
			t.Errorf("analyzerFor(%q) = %q, want %q", lang, got, want)
		}
	}
	// The Greek analyzer folds case, tonos and final sigma, and reads
	// Latin look-alikes as the Greek letters they imitate.
	im, err := newMapping()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"Αθήνα": "αθηνα", "ΑΘΗΝΑ": "αθηνα", "AΘHNA": "αθηνα", "ΐ": "ι", "λόγος": "λογοσ", "ΛΌΓΟΣ": "λογοσ"} {
		ts, err := im.AnalyzeText(analyzerName("el"), []byte(in))
		if err != nil || len(ts) != 1 || string(ts[0].Term) != want {
			t.Errorf("el analyzer on %q: %v %v, want the term %q", in, ts, err, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := testNow
	x, err := OpenWith(testConfig(t), Options{Registerer: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	x.Index(many(5, "m"))
	x.Index([]*post.Item{{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "m1"}}})
	x.Search(context.Background(), Query{Text: "refund"})
	want := map[string]float64{"earshot_search_docs_indexed_total": 5, "earshot_search_deletes_total": 1, "earshot_search_shards_open": 1}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if w, ok := want[mf.GetName()]; ok {
			m := mf.GetMetric()[0]
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			if v != w {
				t.Errorf("%s = %v, want %v", mf.GetName(), v, w)
			}
		}
	}
	for _, n := range []string{"earshot_search_batch_duration_seconds", "earshot_search_query_duration_seconds", "earshot_search_index_bytes"} {
		if !names[n] {
			t.Errorf("%s not exposed", n)
		}
	}
	if x.Bytes() <= 0 {
		t.Error("index bytes not counted")
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1d", "0d", "1.5d", "7", "-5m", "0s", "99999999d", "1y"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) accepted", in)
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"7d", "2w", "36h", "-1d", "1.5d", "9223372036854775807d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAge(s)
		if err == nil && d <= 0 {
			t.Errorf("ParseAge(%q) = %v without error", s, d)
		}
	})
}

// Whatever the query text, a search answers or says what is wrong with the
// query; it never panics.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"refund", `"a phrase"`, "+must -not", "text:(", "/re[/", "hashtag:x*", "created:>\"2026-01-01\"", "ε*", "a~2", `\(`, "region:/E.*/", "*"} {
		f.Add(s)
	}
	x := loaded(f)
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		_, err := x.Search(context.Background(), Query{Text: s, Size: 5})
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q took %v", s, d)
		}
		if err != nil && !errors.Is(err, ErrBadQuery) {
			t.Errorf("%q: %v is not a bad-query error", s, err)
		}
	})
}

// A batch big enough to be written in parts keeps the last word on each
// key: deletes and edits in the same batch win over the post before them.
func TestBigBatchInParts(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	x.maxParts = 4
	items := many(3*minPart, "big")
	for i := range 10 {
		items = append(items, &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: fmt.Sprintf("big%d", i)}})
		e := doc{fmt.Sprintf("big%d", 100+i), "zyxedited text", "en", "NA", "neutral", time.Minute, []string{"acme"}}.item()
		e.Post.Kind = post.KindEdit
		items = append(items, e)
	}
	if err := x.Index(items); err != nil {
		t.Fatal(err)
	}
	if r := search1(t, x, Query{Text: "*"}); r.Total != 3*minPart-10 {
		t.Errorf("%d posts, want %d", r.Total, 3*minPart-10)
	}
	if r := search1(t, x, Query{Text: "zyxedited"}); r.Total != 10 {
		t.Errorf("%d edited posts found, want 10", r.Total)
	}
	if got := testutil.ToFloat64(x.m.indexed); got != 3*minPart-10+10 {
		t.Errorf("indexed counter %v", got)
	}
}

// A scan reads snapshots: shards expiring or the index closing meanwhile
// neither crash it nor block on it.
func TestScanSurvivesExpiryAndClose(t *testing.T) {
	now := testNow
	c := testConfig(t)
	x := openTest(t, c, &now)
	if err := x.Index(many(300, "s")); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := x.Scan(context.Background(), time.Time{}, time.Time{}, func(day string, s *Stored) error {
		if n == 0 {
			now = now.Add(30 * 24 * time.Hour)
			x.Expire() // drops the shard being read: needs the write lock
			x.Close()
		}
		n++
		return nil
	})
	if err != nil && n == 0 {
		t.Fatal(err)
	}
	t.Logf("read %d posts, then %v", n, err)
	if n == 0 {
		t.Error("nothing read")
	}
}

// A long literal prefix is a cheap pattern, not a complex one.
func TestLongPrefixIsNotComplex(t *testing.T) {
	x := loaded(t)
	for _, q := range []string{strings.Repeat("ab", 500) + "*", "/" + strings.Repeat("a", 500) + "/", "/ref[ua]nd/", "/.{0,40}/", "refun*"} {
		if _, err := x.Search(context.Background(), Query{Text: q}); err != nil {
			t.Errorf("%.20s: %v", q, err)
		}
	}
}
