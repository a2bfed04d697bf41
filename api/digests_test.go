package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/digest"
)

// archive writes digests' meta.json and page as the scheduler leaves them.
func archive(t *testing.T, dir string, metas ...digest.Meta) digest.Archive {
	a := digest.Archive{Dir: dir}
	for _, m := range metas {
		d := a.Path(m.Slug, m.Period)
		os.MkdirAll(d, 0o755)
		b, _ := json.Marshal(m)
		os.WriteFile(filepath.Join(d, digest.FileMeta), b, 0o644)
		os.WriteFile(filepath.Join(d, digest.FileHTML), []byte("<p>"+m.Name+"</p>"), 0o644)
	}
	return a
}

// A scoped caller lists and reads only the digests inside its scope.
func TestDigestsScoped(t *testing.T) {
	until := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	a := archive(t, t.TempDir(),
		digest.Meta{Name: "greece weekly", Slug: "greece-weekly", Period: digest.PeriodID(until), Until: until, Scope: digest.Scope{Teams: []string{"greece"}}},
		digest.Meta{Name: "all weekly", Slug: "all-weekly", Period: digest.PeriodID(until), Until: until},
		digest.Meta{Name: "greece and apac", Slug: "greece-apac", Period: digest.PeriodID(until), Until: until, Scope: digest.Scope{Teams: []string{"greece", "apac"}}},
		digest.Meta{Name: "EMEA daily", Slug: "emea-daily", Period: digest.PeriodID(until), Until: until, Scope: digest.Scope{Regions: []string{"EMEA"}}},
	)
	e := newEnv(t, func(_ *Config, d *Deps) { d.Digests = a })
	list := func(caller string) []string {
		t.Helper()
		r := e.do(caller, "GET", "/v1/digests", "")
		if r.code != 200 {
			t.Fatalf("%s: %d %s", caller, r.code, r.body)
		}
		var b struct{ Items []digest.Meta }
		json.Unmarshal(r.body, &b)
		var slugs []string
		for _, m := range b.Items {
			slugs = append(slugs, m.Slug)
		}
		slices.Sort(slugs)
		return slugs
	}
	for caller, want := range map[string]string{
		"analyst":       "all-weekly emea-daily greece-apac greece-weekly",
		"analyst-gr":    "greece-weekly",
		"analyst-none":  "",
		"viewer":        "all-weekly emea-daily greece-apac greece-weekly",
		"coach-apac":    "",
		"gatherer-emea": "", // greece and EMEA: a digest must be inside both
	} {
		if got := strings.Join(list(caller), " "); got != want {
			t.Errorf("%s sees %q, want %q", caller, got, want)
		}
	}
	path := "/v1/digests/greece-weekly/20261207T0600Z/digest.html"
	if r := e.do("analyst-gr", "GET", path, ""); r.code != 200 || string(r.body) != "<p>greece weekly</p>" || !strings.Contains(r.hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("own digest: %d %q %v", r.code, r.body, r.hdr)
	}
	for _, p := range []string{"/v1/digests/all-weekly/20261207T0600Z/digest.html", "/v1/digests/greece-apac/20261207T0600Z/digest.html"} {
		if r := e.do("analyst-gr", "GET", p, ""); r.code != 404 {
			t.Errorf("%s out of scope: %d", p, r.code)
		}
	}
	for _, p := range []string{"/v1/digests/greece-weekly/20261207T0600Z/..%2f..%2ftokens.json", "/v1/digests/..%2fx/20261207T0600Z/digest.html",
		"/v1/digests/greece-weekly/2026/digest.html", "/v1/digests/greece-weekly/20261207T0600Z/digest.exe"} {
		if r := e.do("admin", "GET", p, ""); r.code != 400 && r.code != 404 {
			t.Errorf("%s: %d %s", p, r.code, r.body)
		}
	}
	if r := e.do("admin", "GET", "/v1/digests/greece-weekly/20261207T0600Z/digest.pdf", ""); r.code != 404 {
		t.Errorf("a missing file: %d", r.code)
	}
	if r := e.do("responder-emea", "GET", "/v1/digests", ""); r.code != 403 {
		t.Errorf("a responder: %d", r.code)
	}
}

// A market-scoped caller sees a digest only if everything it covers is in
// the caller's markets: a DACH digest, not one of DACH and the Nordics,
// nor an unscoped, EMEA-wide or team digest (which cover other markets,
// and posts of none).
func TestDigestsMarketScoped(t *testing.T) {
	until := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	p := digest.PeriodID(until)
	a := archive(t, t.TempDir(),
		digest.Meta{Name: "DACH weekly", Slug: "dach-weekly", Period: p, Until: until, Scope: digest.Scope{Markets: []string{"DACH"}}},
		digest.Meta{Name: "DACH acme", Slug: "dach-acme", Period: p, Until: until, Scope: digest.Scope{Watchlists: []string{"acme"}, Markets: []string{"DACH"}}},
		digest.Meta{Name: "DACH and Nordics", Slug: "dach-nordics", Period: p, Until: until, Scope: digest.Scope{Markets: []string{"DACH", "Nordics"}}},
		digest.Meta{Name: "all weekly", Slug: "all-weekly", Period: p, Until: until},
		digest.Meta{Name: "EMEA daily", Slug: "emea-daily", Period: p, Until: until, Scope: digest.Scope{Regions: []string{"EMEA"}}},
		digest.Meta{Name: "greece weekly", Slug: "greece-weekly", Period: p, Until: until, Scope: digest.Scope{Teams: []string{"greece"}}},
	)
	e := newEnv(t, func(_ *Config, d *Deps) { d.Digests = a })
	for name, nt := range map[string]NewToken{
		"analyst-dach":    {Name: "dana", Role: Analyst, Scope: Scope{Markets: []string{"dach"}}}, // markets compare without regard to case, as elsewhere
		"analyst-nordics": {Name: "nina", Role: Analyst, Scope: Scope{Markets: []string{"Nordics"}}},
		"analyst-dach-gr": {Name: "dimi", Role: Analyst, Scope: Scope{Teams: []string{"greece"}, Markets: []string{"DACH"}}},
	} {
		_, secret, err := e.tokens.Create(nt)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name] = secret
	}
	for caller, want := range map[string]string{
		"analyst-dach":    "dach-acme dach-weekly",
		"analyst-nordics": "",
		"analyst-dach-gr": "", // greece and DACH: a digest must be inside both
		"analyst-gr":      "greece-weekly",
		"viewer":          "all-weekly dach-acme dach-nordics dach-weekly emea-daily greece-weekly",
	} {
		r := e.do(caller, "GET", "/v1/digests", "")
		var b struct{ Items []digest.Meta }
		if r.code != 200 || json.Unmarshal(r.body, &b) != nil {
			t.Fatalf("%s: %d %s", caller, r.code, r.body)
		}
		var slugs []string
		for _, m := range b.Items {
			slugs = append(slugs, m.Slug)
		}
		slices.Sort(slugs)
		if got := strings.Join(slugs, " "); got != want {
			t.Errorf("%s sees %q, want %q", caller, got, want)
		}
	}
	if r := e.do("analyst-dach", "GET", "/v1/digests/dach-weekly/"+p+"/digest.html", ""); r.code != 200 {
		t.Errorf("own market's digest: %d %s", r.code, r.body)
	}
	for _, s := range []string{"dach-nordics", "all-weekly", "emea-daily"} {
		if r := e.do("analyst-dach", "GET", "/v1/digests/"+s+"/"+p+"/digest.html", ""); r.code != 404 {
			t.Errorf("%s to a DACH analyst: %d", s, r.code)
		}
		if r := e.do("analyst-nordics", "GET", "/v1/digests/"+s+"/"+p+"/digest.html", ""); r.code != 404 {
			t.Errorf("%s to a Nordics analyst: %d", s, r.code)
		}
	}
}

// GET /v1/digests pages as the other lists do (limit, next_cursor), newest
// period first, then by slug; a cursor holds its place when a newer digest
// is archived between pages (no digest twice, none skipped); a scoped
// caller's pages hold only its digests; a bad limit or cursor is a 400.
func TestDigestsPaged(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	var metas []digest.Meta
	var want []string
	for d := 3; d >= 0; d-- {
		until := start.AddDate(0, 0, d)
		for _, s := range []string{"a-daily", "b-daily", "greece-daily"} {
			m := digest.Meta{Name: s, Slug: s, Period: digest.PeriodID(until), Until: until}
			if s == "greece-daily" {
				m.Scope = digest.Scope{Teams: []string{"greece"}}
			}
			metas = append(metas, m)
			want = append(want, s+"/"+m.Period)
		}
	}
	a := archive(t, dir, metas...)
	e := newEnv(t, func(_ *Config, d *Deps) { d.Digests = a })
	type page struct {
		Items      []digest.Meta
		NextCursor string `json:"next_cursor"`
	}
	get := func(caller, query string) page {
		t.Helper()
		r := e.do(caller, "GET", "/v1/digests"+query, "")
		if r.code != 200 {
			t.Fatalf("%s %s: %d %s", caller, query, r.code, r.body)
		}
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var got []string
	p := get("analyst", "?limit=5")
	if len(p.Items) != 5 || p.NextCursor == "" {
		t.Fatalf("first page: %d items, cursor %q", len(p.Items), p.NextCursor)
	}
	for _, m := range p.Items {
		got = append(got, m.Slug+"/"+m.Period)
	}
	// a newer digest arrives: the next pages go on where the first stopped
	newer := start.AddDate(0, 0, 4)
	archive(t, dir, digest.Meta{Name: "a-daily", Slug: "a-daily", Period: digest.PeriodID(newer), Until: newer})
	for pages := 0; p.NextCursor != "" && pages < 10; pages++ {
		p = get("analyst", "?limit=5&cursor="+p.NextCursor)
		for _, m := range p.Items {
			got = append(got, m.Slug+"/"+m.Period)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pages hold\n%v\nwant\n%v", got, want)
	}
	if p := get("analyst", ""); len(p.Items) != 13 || p.NextCursor != "" || p.Items[0].Period != digest.PeriodID(newer) {
		t.Errorf("default page: %d items, cursor %q", len(p.Items), p.NextCursor)
	}
	var gr []string
	p = page{NextCursor: "start"}
	for pages := 0; p.NextCursor != "" && pages < 10; pages++ {
		q := "?limit=2"
		if p.NextCursor != "start" {
			q += "&cursor=" + p.NextCursor
		}
		p = get("analyst-gr", q)
		for _, m := range p.Items {
			gr = append(gr, m.Slug)
		}
	}
	if strings.Join(gr, " ") != "greece-daily greece-daily greece-daily greece-daily" {
		t.Errorf("a team-scoped caller's pages: %v", gr)
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?cursor=xyz", "?cursor=" + "bzo1"} {
		if r := e.do("analyst", "GET", "/v1/digests"+q, ""); r.code != 400 {
			t.Errorf("%s: %d %s", q, r.code, r.body)
		}
	}
}
