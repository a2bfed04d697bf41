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
