package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/insights/themes"
)

// themesEnv is a server whose themes read posts of two tenants' watchlists:
// acme-gr (team greece, EMEA) talks about a battery, apac-list (team apac,
// APAC) about a delayed delivery.
func themesEnv(t *testing.T) *env {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var m themes.Memory
	for i := range 30 {
		m.Add(themes.Post{Key: fmt.Sprintf("x:gr%d", i), Text: fmt.Sprintf("acme battery drains overnight, day %d", i%4), Sentiment: "negative", CreatedAt: t0.Add(time.Duration(i) * time.Hour), Keywords: []string{"acme"}},
			themes.Match{Watchlist: "acme-gr", Team: "greece", Region: "EMEA"})
		m.Add(themes.Post{Key: fmt.Sprintf("x:ap%d", i), Text: fmt.Sprintf("apac parcel delivery delayed again, week %d", i%3), Sentiment: "negative", CreatedAt: t0.Add(time.Duration(i) * time.Hour), Keywords: []string{"apac"}},
			themes.Match{Watchlist: "apac-list", Team: "apac", Region: "APAC"})
	}
	return newEnv(t, func(_ *Config, d *Deps) { d.Themes = themes.Bound{Reader: &m, Options: themes.DefaultOptions()} })
}

const themesWindow = "since=2026-11-02T00:00:00Z&until=2026-11-09T00:00:00Z"

func themeLabels(t *testing.T, r resp) (labels []string, posts int64) {
	t.Helper()
	var a struct {
		Themes []themes.Theme `json:"themes"`
		Posts  int64          `json:"posts"`
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	for _, th := range a.Themes {
		labels = append(labels, th.Label)
	}
	return labels, a.Posts
}

func TestThemesAreScopedToTheCallersWatchlists(t *testing.T) {
	e := themesEnv(t)
	for _, c := range []struct {
		caller, query string
		code          int
		want          string // in the labels, joined
		posts         int64
	}{
		{"analyst", "", 200, "battery drains overnight|parcel delivery delayed", 60},
		{"analyst", "&watchlist=apac-list", 200, "parcel delivery delayed", 30},
		{"analyst", "&region=EMEA", 200, "battery drains overnight", 30},
		{"analyst-gr", "", 200, "battery drains overnight", 30},
		{"coach-gr", "&watchlist=acme-gr", 200, "battery drains overnight", 30},
		{"coach-apac", "", 200, "parcel delivery delayed", 30},
		// Another tenant's watchlist is not found, whichever way it is asked.
		{"analyst-gr", "&watchlist=apac-list", 404, "", 0},
		{"analyst-gr", "&watchlist=acme-gr&watchlist=apac-list", 404, "", 0},
		{"coach-apac", "&watchlist=acme-gr", 404, "", 0},
		{"analyst-none", "", 404, "", 0},
		// Narrowing by team never widens: greece's analyst asking for apac's team sees nothing.
		{"analyst-gr", "&team=apac", 200, "", 0},
		{"responder-emea", "", 403, "", 0},
		{"viewer", "", 403, "", 0},
	} {
		r := e.do(c.caller, "GET", "/v1/insights/themes?"+themesWindow+c.query, "")
		if r.code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.caller, c.query, r.code, r.body, c.code)
			continue
		}
		if r.code != 200 {
			continue
		}
		labels, posts := themeLabels(t, r)
		got := strings.Join(labels, "|")
		if posts != c.posts || !strings.Contains(got, strings.Split(c.want, "|")[0]) || len(labels) != len(strings.Split(c.want, "|")) && c.want != "" || c.want == "" && len(labels) != 0 {
			t.Errorf("%s %s: themes %q of %d posts, want %q of %d", c.caller, c.query, got, posts, c.want, c.posts)
		}
		if strings.Contains(c.want, "battery") != strings.Contains(got, "battery") || strings.Contains(c.want, "parcel") != strings.Contains(got, "parcel") {
			t.Errorf("%s %s: themes %q, want %q", c.caller, c.query, got, c.want)
		}
	}
}

func TestThemesBadRequests(t *testing.T) {
	e := themesEnv(t)
	for _, q := range []string{
		"limit=0", "limit=101", "limit=ten", "since=yesterday", "until=2026-13-01",
		"since=2026-11-09T00:00:00Z&until=2026-11-02T00:00:00Z", // backwards
		"since=2000-01-01&until=2026-01-01",                     // over a year
		"colour=blue",
		"watchlist=" + strings.Repeat("w", 300),
		strings.Repeat("watchlist=a&", 51),
	} {
		if r := e.do("analyst", "GET", "/v1/insights/themes?"+q, ""); r.code != 400 {
			t.Errorf("%.60s: %d %s, want 400", q, r.code, r.body)
		}
	}
	if r := newEnv(t).do("analyst", "GET", "/v1/insights/themes", ""); r.code != 503 {
		t.Errorf("without ClickHouse: %d %s, want 503", r.code, r.body)
	}
}

// Markets: ?market= narrows the themes to a market's posts, and a market
// team's caller (a second market team beside DACH's: the Nordics) gets
// only its markets' themes: not the region's posts of no market, not
// another market's, whatever it asks for.
func TestThemesMarkets(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var m themes.Memory
	for i := range 30 {
		m.Add(themes.Post{Key: fmt.Sprintf("x:gr%d", i), Text: fmt.Sprintf("acme battery drains overnight, day %d", i%4), Sentiment: "negative", CreatedAt: t0.Add(time.Duration(i) * time.Hour), Keywords: []string{"acme"}},
			themes.Match{Watchlist: "acme-emea", Team: "emea", Region: "EMEA"})
		m.Add(themes.Post{Key: fmt.Sprintf("x:de%d", i), Text: fmt.Sprintf("acme invoice portal login fails, try %d", i%3), Sentiment: "negative", CreatedAt: t0.Add(time.Duration(i) * time.Hour), Keywords: []string{"acme"}},
			themes.Match{Watchlist: "acme-emea", Team: "emea", Region: "EMEA", Market: "DACH"})
		m.Add(themes.Post{Key: fmt.Sprintf("x:se%d", i), Text: fmt.Sprintf("acme parcel locker jammed shut, box %d", i%3), Sentiment: "negative", CreatedAt: t0.Add(time.Duration(i) * time.Hour), Keywords: []string{"acme"}},
			themes.Match{Watchlist: "acme-emea", Team: "emea", Region: "EMEA", Market: "Nordics"})
	}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Themes = themes.Bound{Reader: &m, Options: themes.DefaultOptions()} })
	for name, nt := range map[string]NewToken{
		"analyst-dach":    {Name: "dana", Role: Analyst, Scope: Scope{Markets: []string{"DACH"}}},
		"analyst-nordics": {Name: "nils", Role: Analyst, Scope: Scope{Markets: []string{"Nordics"}}},
	} {
		_, secret, err := e.tokens.Create(nt)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name] = secret
	}
	for _, c := range []struct {
		caller, query string
		code          int
		want          string // a word every label has, "" for no themes
		posts         int64
	}{
		{"analyst", "", 200, "", 90},
		{"analyst", "&market=DACH", 200, "invoice", 30},
		{"analyst", "&market=DACH&market=Nordics", 200, "", 60},
		{"analyst-dach", "", 200, "invoice", 30},
		{"analyst-dach", "&market=dach", 200, "invoice", 30}, // markets compare without regard to case
		{"analyst-dach", "&region=EMEA", 200, "invoice", 30},
		{"analyst-dach", "&watchlist=acme-emea", 200, "invoice", 30},
		{"analyst-nordics", "", 200, "parcel", 30},
		// Another market is not found, alone or beside one's own.
		{"analyst-dach", "&market=Nordics", 404, "", 0},
		{"analyst-dach", "&market=DACH&market=Nordics", 404, "", 0},
		{"analyst-nordics", "&market=DACH", 404, "", 0},
		// Narrowing never widens.
		{"analyst-dach", "&region=APAC", 200, "none", 0},
	} {
		r := e.do(c.caller, "GET", "/v1/insights/themes?"+themesWindow+c.query, "")
		if r.code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.caller, c.query, r.code, r.body, c.code)
			continue
		}
		if r.code != 200 {
			continue
		}
		labels, posts := themeLabels(t, r)
		if posts != c.posts {
			t.Errorf("%s %s: themes of %d posts, want %d (%q)", c.caller, c.query, posts, c.posts, labels)
		}
		if c.want == "none" && len(labels) != 0 || c.want != "" && c.want != "none" && len(labels) == 0 {
			t.Errorf("%s %s: themes %q", c.caller, c.query, labels)
		}
		for _, l := range labels {
			if c.want != "" && c.want != "none" && !strings.Contains(l, c.want) {
				t.Errorf("%s %s: theme %q, want only %q", c.caller, c.query, l, c.want)
			}
		}
	}
	if r := e.do("analyst", "GET", "/v1/insights/themes?"+strings.Repeat("market=a&", 51), ""); r.code != 400 {
		t.Errorf("51 markets: %d, want 400", r.code)
	}
}
