package api

import (
	"encoding/json"
	"testing"

	"github.com/earshot-dev/earshot/watchlist"
)

// TestRealWatchlistStore runs the draft → pending → live path through the
// API over the real watchlist store: the API's role and scope checks and
// the store's four-eyes rule together.
func TestRealWatchlistStore(t *testing.T) {
	st, err := watchlist.Open(t.TempDir(), watchlist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnv(t, func(_ *Config, d *Deps) { d.Watchlists = st })
	steps := []struct {
		caller, method, path, body string
		want                       int
		code                       string
	}{
		{"gatherer-gr", "POST", "/v1/watchlists", `{"id":"acme-el","name":"Acme Greece","team":"greece","regions":["EMEA"],"keywords":["acme"]}`, 201, ""},
		{"gatherer-gr", "POST", "/v1/watchlists", `{"id":"acme-broken","team":"greece","rule":"acme AND ("}`, 422, CodeInvalid},
		{"gatherer-gr", "POST", "/v1/watchlists/validate", `{"id":"acme-broken","team":"greece","rule":"acme AND ("}`, 422, CodeInvalid},
		{"gatherer-gr", "POST", "/v1/watchlists/acme-el/submit", "", 200, ""},
		{"coach-apac", "POST", "/v1/watchlists/acme-el/approve", "", 404, CodeNotFound},
		{"gatherer-gr2", "POST", "/v1/watchlists/acme-el/approve", "", 403, CodeForbidden},
		{"coach-gr", "POST", "/v1/watchlists/acme-el/approve", `{"if_version":1,"note":"lgtm"}`, 200, ""},
		{"gatherer-gr", "PUT", "/v1/watchlists/acme-el", `{"if_version":1,"spec":{"id":"acme-el","team":"greece","regions":["EMEA"],"keywords":["acme","acme hellas"]}}`, 200, ""},
		{"gatherer-gr2", "PUT", "/v1/watchlists/acme-el", `{"if_version":1,"spec":{"id":"acme-el","team":"greece","regions":["EMEA"],"keywords":["acme"]}}`, 409, CodeConflict},
		{"coach-gr", "POST", "/v1/watchlists/acme-el/approve", `{"if_version":2}`, 409, CodeState},
		{"gatherer-gr", "POST", "/v1/watchlists/acme-el/submit", "", 200, ""},
		{"coach-gr", "POST", "/v1/watchlists/acme-el/reject", `{"note":"too broad"}`, 200, ""},
		{"coach-gr", "POST", "/v1/watchlists/acme-el/pause", "", 200, ""},
		{"coach-gr", "POST", "/v1/watchlists/acme-el/resume", "", 200, ""},
		{"viewer", "GET", "/v1/watchlists/acme-el/history", "", 200, ""},
		{"gatherer-gr", "DELETE", "/v1/watchlists/acme-el", "", 403, CodeForbidden}, // live: a coach must take it out first
		{"coach-gr", "POST", "/v1/watchlists/acme-el/pause", `{"note":"retiring it"}`, 200, ""},
		{"gatherer-gr", "DELETE", "/v1/watchlists/acme-el", "", 204, ""},
		{"admin", "GET", "/v1/watchlists/acme-el", "", 404, CodeNotFound},
	}
	for i, s := range steps {
		r := e.do(s.caller, s.method, s.path, s.body)
		if r.code != s.want || r.errCode() != s.code {
			t.Fatalf("step %d: %s %s as %s: %d %s, want %d %s", i, s.method, s.path, s.caller, r.code, r.body, s.want, s.code)
		}
	}
	h, err := st.History("acme-el")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range h {
		actions = append(actions, c.Action+":"+c.Actor)
	}
	want := `["apply:gina","submit:gina","approve:costas","apply:gina","submit:gina","reject:costas","pause:costas","resume:costas","pause:costas","delete:gina"]`
	if got, _ := json.Marshal(actions); string(got) != want {
		t.Errorf("store history %s, want %s", got, want)
	}
	recs, _, _ := ReadAuditFile(e.audit.Path(), func(r AuditRecord) bool { return r.ObjectID == "acme-el" }, 0, 100)
	if len(recs) != len(h) {
		t.Errorf("%d audit records for %d changes", len(recs), len(h))
	}
}
