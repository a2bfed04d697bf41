package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/digest"
)

// addCaller gives the test API one more token.
func addCaller(t *testing.T, e *env, name string, nt NewToken) {
	t.Helper()
	_, secret, err := e.tokens.Create(nt)
	if err != nil {
		t.Fatal(err)
	}
	e.tok[name] = secret
}

// A caller scoped to a market sees no digest that covers more than its
// markets: an unscoped or a region-wide one covers other markets' posts.
func TestDigestsMarketScopedCallerSeesNone(t *testing.T) {
	until := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	a := archive(t, t.TempDir(),
		digest.Meta{Name: "all weekly", Slug: "all-weekly", Period: digest.PeriodID(until), Until: until},
		digest.Meta{Name: "EMEA daily", Slug: "emea-daily", Period: digest.PeriodID(until), Until: until, Scope: digest.Scope{Regions: []string{"EMEA"}}},
	)
	e := newEnv(t, func(_ *Config, d *Deps) { d.Digests = a })
	addCaller(t, e, "analyst-dach", NewToken{Name: "dana", Role: Analyst, Scope: Scope{Markets: []string{"DACH"}}})
	r := e.do("analyst-dach", "GET", "/v1/digests", "")
	if r.code != 200 || string(r.body) != `{"items":[]}`+"\n" && string(r.body) != `{"items":[]}` {
		t.Errorf("list: %d %s, want no digest", r.code, r.body)
	}
	for _, p := range []string{"/v1/digests/all-weekly/20261207T0600Z/digest.html", "/v1/digests/emea-daily/20261207T0600Z/digest.html"} {
		if r := e.do("analyst-dach", "GET", p, ""); r.code != 404 {
			t.Errorf("%s: %d %s, want 404", p, r.code, r.body)
		}
	}
}

// A caller scoped to a market never gets themes of every market: with or
// without a team, whatever else it asks, its themes are narrowed to its
// markets (TestThemesMarkets checks what they then hold).
func TestThemesMarketScopedCallerNarrowed(t *testing.T) {
	e := themesEnv(t)
	addCaller(t, e, "analyst-dach", NewToken{Name: "dana", Role: Analyst, Scope: Scope{Markets: []string{"DACH"}}})
	addCaller(t, e, "analyst-gr-dach", NewToken{Name: "gus", Role: Analyst, Scope: Scope{Teams: []string{"greece"}, Markets: []string{"DACH"}}})
	for _, c := range []string{"analyst-dach", "analyst-gr-dach"} {
		for _, q := range []string{"", "&region=EMEA", "&watchlist=acme-gr"} {
			r := e.do(c, "GET", "/v1/insights/themes?"+themesWindow+q, "")
			var ans struct {
				Scope struct{ Markets []string } `json:"scope"`
			}
			if r.code == 200 {
				json.Unmarshal(r.body, &ans)
				if !slices.Equal(ans.Scope.Markets, []string{"DACH"}) {
					t.Errorf("%s %s: themes of markets %v, want only [DACH]", c, q, ans.Scope.Markets)
				}
			} else if r.code != 404 {
				t.Errorf("%s %s: %d %s, want 200 narrowed to DACH or 404", c, q, r.code, r.body)
			}
		}
	}
}

// An empty region= or market= asks for every region or market: a caller
// scoped to regions or markets gets 403 out_of_scope naming its own (as
// the cookbook queries answer), not a 400 or a 404 about a region "";
// an unscoped caller's empty value stays a bad request.
func TestThemesEmptyRegionOrMarketOutOfScope(t *testing.T) {
	e := themesEnv(t)
	addCaller(t, e, "analyst-emea", NewToken{Name: "erin", Role: Analyst, Scope: Scope{Regions: []string{"EMEA"}}})
	addCaller(t, e, "analyst-dach", NewToken{Name: "dana", Role: Analyst, Scope: Scope{Markets: []string{"DACH"}}})
	for _, c := range []struct {
		caller, query string
		code          int
		errCode, says string
	}{
		{"analyst-emea", "&region=", 403, CodeOutOfScope, "EMEA"},
		{"analyst-emea", "&region=EMEA&region=", 403, CodeOutOfScope, "EMEA"},
		{"analyst-dach", "&market=", 403, CodeOutOfScope, "DACH"},
		{"analyst-emea", "&market=", 400, CodeBadRequest, "empty"}, // not scoped to markets
		{"analyst", "&region=", 400, CodeBadRequest, "empty"},
		{"analyst-emea", "", 200, "", ""},
		{"analyst-emea", "&region=APAC", 404, CodeNotFound, "APAC"},
	} {
		r := e.do(c.caller, "GET", "/v1/insights/themes?"+themesWindow+c.query, "")
		var ans struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.Unmarshal(r.body, &ans)
		if r.code != c.code || ans.Error.Code != c.errCode || !strings.Contains(ans.Error.Message, c.says) {
			t.Errorf("%s %s: %d %s, want %d %s saying %q", c.caller, c.query, r.code, r.body, c.code, c.errCode, c.says)
		}
	}
}
