package api

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
)

// TestSearchIsNoOracleForUnseenWatchlists is issue 16's oracle through the
// API over a real index: a greece gatherer naming APAC's watchlist, which
// they may not see, in the query or the filter, positive or negated, gets
// what naming a watchlist that does not exist gets. Post x:3 is caught by
// both teams' lists: before, watchlist:apac-list found it (1 hit, where a
// nonexistent list finds none), which told the gatherer what APAC's list
// caught.
func TestSearchIsNoOracleForUnseenWatchlists(t *testing.T) {
	cfg := search.DefaultConfig()
	cfg.Enabled, cfg.Dir = true, t.TempDir()
	x, err := search.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	now := time.Now().UTC().Add(-time.Hour)
	item := func(id, text, region string, wls ...string) *post.Item {
		it := &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: text, CreatedAt: now, Author: post.Author{Handle: "@u" + id}},
			Enrichment: &post.Enrichment{Lang: "en", Region: region, SentimentLabel: "neutral"}}
		for _, w := range wls {
			it.Matches = append(it.Matches, post.Match{Watchlist: w, Version: 1})
		}
		return it
	}
	if err := x.Index([]*post.Item{
		item("1", "acme refund late", "EMEA", "acme-gr"),
		item("2", "apac secret launch", "APAC", "apac-list"),
		item("3", "acme and apac together", "EMEA", "acme-gr", "apac-list"),
		item("4", "acme hellas", "EMEA", "gr-global"),
	}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Searcher = x })
	took := regexp.MustCompile(`"took_ns":\d+`)
	ask := func(body map[string]any) string {
		t.Helper()
		b, _ := json.Marshal(body)
		r := e.do("gatherer-gr", "POST", "/v1/search", string(b))
		return took.ReplaceAllString(string(r.body), "") + " " + strconv.Itoa(r.code)
	}
	for _, form := range []string{"watchlist:%s", "-watchlist:%s", "acme -watchlist:%s", "+watchlist:%s acme", "watchlist:%s*", "watchlist:/%s/"} {
		unseen := ask(map[string]any{"q": strings.ReplaceAll(form, "%s", "apac-list")})
		none := ask(map[string]any{"q": strings.ReplaceAll(form, "%s", "nope-list")})
		if unseen != none {
			t.Errorf("%s: the unseen list gives %s; a nonexistent one %s", form, unseen, none)
		}
	}
	for _, f := range [][2][]string{{{"apac-list"}, {"nope-list"}}, {{"acme-gr", "apac-list"}, {"acme-gr", "nope-list"}}} {
		if unseen, none := ask(map[string]any{"q": "*", "watchlist": f[0]}), ask(map[string]any{"q": "*", "watchlist": f[1]}); unseen != none {
			t.Errorf("filter %v: %s; filter %v: %s", f[0], unseen, f[1], none)
		}
	}
}
