package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/watchlist"
)

// env is a server over in-process fakes, with a token per caller.
type env struct {
	t      testing.TB
	srv    *Server
	ts     *httptest.Server
	tokens *TokenStore
	wl     *fakeWatchlists
	search *fakeSearcher
	alerts *MemAlerts
	hub    *Hub
	audit  *Audit
	push   *fakePush
	dir    string
	tok    map[string]string // caller → secret
}

var callers = map[string]NewToken{
	"admin":          {Name: "ada", Role: Admin},
	"gatherer-gr":    {Name: "gina", Role: Gatherer, Scope: Scope{Teams: []string{"greece"}}},
	"gatherer-gr2":   {Name: "georg", Role: Gatherer, Scope: Scope{Teams: []string{"greece"}}},
	"gatherer-emea":  {Name: "gemma", Role: Gatherer, Scope: Scope{Teams: []string{"greece"}, Regions: []string{"EMEA"}}},
	"coach-gr":       {Name: "costas", Role: Coach, Scope: Scope{Teams: []string{"greece"}}},
	"coach-apac":     {Name: "chen", Role: Coach, Scope: Scope{Teams: []string{"apac"}}},
	"coach":          {Name: "cora", Role: Coach}, // the coaching staff: organisation-wide
	"analyst":        {Name: "ann", Role: Analyst},
	"analyst-gr":     {Name: "anna", Role: Analyst, Scope: Scope{Teams: []string{"greece"}}},
	"analyst-none":   {Name: "nobody", Role: Analyst, Scope: Scope{Teams: []string{"atlantis"}}},
	"responder-emea": {Name: "rita", Role: Responder, Scope: Scope{Regions: []string{"EMEA"}}},
	"responder-apac": {Name: "raj", Role: Responder, Scope: Scope{Teams: []string{"apac-care"}}},
	"ingest":         {Name: "feeder", Role: Ingest},
	"viewer":         {Name: "vic", Role: Viewer},
}

func newEnv(t testing.TB, mod ...func(*Config, *Deps)) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Addr, cfg.StateDir = "127.0.0.1:0", dir
	cfg.Rate, cfg.Burst = 1000, 1000
	tokens, err := OpenTokens(cfg.Tokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { audit.Close() })
	e := &env{t: t, tokens: tokens, wl: newFakeWatchlists(), search: &fakeSearcher{}, alerts: NewMemAlerts(100), hub: NewHub(), audit: audit, dir: dir, tok: map[string]string{}}
	for name, nt := range callers {
		_, secret, err := tokens.Create(nt)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name] = secret
	}
	ctx := context.Background()
	for _, s := range []watchlist.Spec{
		{ID: "acme-gr", Team: "greece", Brand: "acme", Regions: []string{"EMEA"}, Keywords: []string{"acme"}},
		{ID: "global-brand", Team: "global", Keywords: []string{"brand"}},
		{ID: "apac-list", Team: "apac", Regions: []string{"APAC"}, Keywords: []string{"apac"}},
		{ID: "gr-global", Team: "greece", Keywords: []string{"ellada"}},
	} {
		if _, err := e.wl.Apply(ctx, "seed", s, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []Alert{
		{ID: "a1", Queue: "care-emea", Team: "emea-care", Priority: "P2", CreatedAt: time.Unix(1000, 0)},
		{ID: "a2", Queue: "care-emea", Team: "emea-care", Priority: "P1", CreatedAt: time.Unix(2000, 0)},
		{ID: "b1", Queue: "care-apac", Team: "apac-care", Priority: "P3", CreatedAt: time.Unix(1500, 0)},
	} {
		e.alerts.Add(a)
	}
	e.push = &fakePush{}
	d := Deps{Tokens: tokens, Audit: audit, Watchlists: e.wl, Searcher: e.search, Backtester: fakeBacktester{}, Insights: fakeInsights{},
		Push:   func() PushTarget { return e.push },
		Alerts: e.alerts, Hub: e.hub, Registerer: prometheus.NewRegistry(),
		Queues: map[string]QueueInfo{"care-emea": {Team: "emea-care", Region: "EMEA"}, "care-apac": {Team: "apac-care", Region: "APAC"}},
		Ready:  map[string]func(context.Context) error{"fake": func(context.Context) error { return nil }}}
	for _, m := range mod {
		m(&cfg, &d)
	}
	srv, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv)
	t.Cleanup(e.ts.Close)
	return e
}

type resp struct {
	code int
	hdr  http.Header
	body []byte
}

func (r resp) errCode() string {
	var b struct {
		Error Error `json:"error"`
	}
	json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (e *env) do(caller, method, path, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if caller != "" {
		tok := e.tok[caller]
		if tok == "" {
			tok = caller // a raw token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") == "text/event-stream" {
		return resp{res.StatusCode, res.Header, nil} // a live feed does not end
	}
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

// TestEndpointsRolesAndScopes is the matrix the issue asks for: for every
// endpoint the role that may, the role that may not (403) and the scope
// that may not (404, or 403 out_of_scope where the object is the caller's
// own new one).
func TestEndpointsRolesAndScopes(t *testing.T) {
	spec := func(id, team string) string {
		return `{"id":"` + id + `","team":"` + team + `","keywords":["x"]}`
	}
	type row struct {
		name, caller, method, path, body string
		want                             int
		code                             string // error code, when an error
	}
	rows := []row{
		{"list may", "analyst", "GET", "/v1/watchlists", "", 200, ""},
		{"list may not", "ingest", "GET", "/v1/watchlists", "", 403, CodeForbidden},
		{"create may", "gatherer-gr", "POST", "/v1/watchlists", spec("gr-new", "greece"), 201, ""},
		{"create may not", "analyst", "POST", "/v1/watchlists", spec("gr-new2", "greece"), 403, CodeForbidden},
		{"create out of scope", "gatherer-gr", "POST", "/v1/watchlists", spec("ap-new", "apac"), 403, CodeOutOfScope},
		{"create another team's id", "gatherer-gr", "POST", "/v1/watchlists", spec("apac-list", "greece"), 409, CodeConflict},
		{"validate may", "gatherer-gr", "POST", "/v1/watchlists/validate", spec("v", "greece"), 200, ""},
		{"validate invalid", "gatherer-gr", "POST", "/v1/watchlists/validate", `{"id":"v","team":"greece"}`, 422, CodeInvalid},
		{"validate may not", "responder-emea", "POST", "/v1/watchlists/validate", spec("v", "greece"), 403, CodeForbidden},
		{"backtest spec may", "gatherer-gr", "POST", "/v1/watchlists/backtest", `{"since":"7d","spec":` + spec("d", "greece") + `}`, 200, ""},
		{"backtest spec may not", "analyst", "POST", "/v1/watchlists/backtest", `{"spec":` + spec("d", "greece") + `}`, 403, CodeForbidden},
		{"backtest spec out of scope", "gatherer-gr", "POST", "/v1/watchlists/backtest", `{"spec":` + spec("d", "apac") + `}`, 403, CodeOutOfScope},
		{"backtest since too long", "gatherer-gr", "POST", "/v1/watchlists/backtest", `{"since":"90d","spec":` + spec("d", "greece") + `}`, 400, CodeBadRequest},
		{"get may", "gatherer-gr", "GET", "/v1/watchlists/acme-gr", "", 200, ""},
		{"get may not", "ingest", "GET", "/v1/watchlists/acme-gr", "", 403, CodeForbidden},
		{"get scope", "gatherer-gr", "GET", "/v1/watchlists/apac-list", "", 404, CodeNotFound},
		{"get missing", "admin", "GET", "/v1/watchlists/nope", "", 404, CodeNotFound},
		{"put may", "gatherer-gr", "PUT", "/v1/watchlists/acme-gr", `{"if_version":1,"spec":` + spec("acme-gr", "greece") + `}`, 200, ""},
		{"put stale", "gatherer-gr", "PUT", "/v1/watchlists/gr-global", `{"if_version":7,"spec":` + spec("gr-global", "greece") + `}`, 409, CodeConflict},
		{"put may not", "coach-gr", "PUT", "/v1/watchlists/acme-gr", `{"if_version":1,"spec":` + spec("acme-gr", "greece") + `}`, 403, CodeForbidden},
		{"put scope", "gatherer-gr", "PUT", "/v1/watchlists/apac-list", `{"if_version":1,"spec":` + spec("apac-list", "greece") + `}`, 404, CodeNotFound},
		{"put moves out of scope", "gatherer-gr", "PUT", "/v1/watchlists/gr-global", `{"if_version":1,"spec":` + spec("gr-global", "apac") + `}`, 403, CodeOutOfScope},
		{"put global list by a region-scoped gatherer", "gatherer-emea", "PUT", "/v1/watchlists/gr-global", `{"if_version":1,"spec":` + spec("gr-global", "greece") + `}`, 403, CodeOutOfScope},
		{"history may", "viewer", "GET", "/v1/watchlists/acme-gr/history", "", 200, ""},
		{"history may not", "responder-emea", "GET", "/v1/watchlists/acme-gr/history", "", 403, CodeForbidden},
		{"history scope", "gatherer-gr", "GET", "/v1/watchlists/global-brand/history", "", 404, CodeNotFound},
		{"backtest may", "gatherer-gr", "POST", "/v1/watchlists/acme-gr/backtest", `{"since":"24h"}`, 200, ""},
		{"backtest may not", "analyst", "POST", "/v1/watchlists/acme-gr/backtest", "", 403, CodeForbidden},
		{"backtest scope", "gatherer-gr", "POST", "/v1/watchlists/apac-list/backtest", "", 404, CodeNotFound},
		{"submit may", "gatherer-gr", "POST", "/v1/watchlists/acme-gr/submit", `{"note":"ready"}`, 200, ""},
		{"submit may not", "coach-gr", "POST", "/v1/watchlists/acme-gr/submit", "", 403, CodeForbidden},
		{"submit scope", "gatherer-gr", "POST", "/v1/watchlists/apac-list/submit", "", 404, CodeNotFound},
		{"approve may not", "gatherer-gr2", "POST", "/v1/watchlists/acme-gr/approve", "", 403, CodeForbidden},
		{"approve scope", "coach-apac", "POST", "/v1/watchlists/acme-gr/approve", "", 404, CodeNotFound},
		{"approve may", "coach-gr", "POST", "/v1/watchlists/acme-gr/approve", `{"if_version":2,"note":"ok"}`, 200, ""},
		{"approve twice", "coach-gr", "POST", "/v1/watchlists/acme-gr/approve", `{"if_version":2}`, 409, CodeState},
		{"pause may not", "analyst", "POST", "/v1/watchlists/acme-gr/pause", "", 403, CodeForbidden},
		{"pause scope", "coach-apac", "POST", "/v1/watchlists/acme-gr/pause", "", 404, CodeNotFound},
		{"pause may", "coach-gr", "POST", "/v1/watchlists/acme-gr/pause", "", 200, ""},
		{"resume may not", "gatherer-gr", "POST", "/v1/watchlists/acme-gr/resume", "", 403, CodeForbidden},
		{"resume scope", "coach-apac", "POST", "/v1/watchlists/acme-gr/resume", "", 404, CodeNotFound},
		{"resume may", "coach-gr", "POST", "/v1/watchlists/acme-gr/resume", "", 200, ""},
		{"submit gr-global", "gatherer-gr", "POST", "/v1/watchlists/gr-global/submit", "", 200, ""},
		{"reject may not", "viewer", "POST", "/v1/watchlists/gr-global/reject", "", 403, CodeForbidden},
		{"reject scope", "coach-apac", "POST", "/v1/watchlists/gr-global/reject", "", 404, CodeNotFound},
		{"reject may", "coach-gr", "POST", "/v1/watchlists/gr-global/reject", `{"note":"too broad"}`, 200, ""},
		{"delete may not", "viewer", "DELETE", "/v1/watchlists/gr-new", "", 403, CodeForbidden},
		{"delete scope", "gatherer-gr", "DELETE", "/v1/watchlists/apac-list", "", 404, CodeNotFound},
		{"delete may", "gatherer-gr", "DELETE", "/v1/watchlists/gr-new", "", 204, ""},

		{"queues may", "responder-emea", "GET", "/v1/queues", "", 200, ""},
		{"queues may not", "analyst", "GET", "/v1/queues", "", 403, CodeForbidden},
		{"alerts may", "responder-emea", "GET", "/v1/queues/care-emea/alerts", "", 200, ""},
		{"alerts may not", "analyst", "GET", "/v1/queues/care-emea/alerts", "", 403, CodeForbidden},
		{"alerts scope", "responder-emea", "GET", "/v1/queues/care-apac/alerts", "", 404, CodeNotFound},
		{"alerts scope by team", "responder-apac", "GET", "/v1/queues/care-emea/alerts", "", 404, CodeNotFound},
		{"alerts unknown queue", "admin", "GET", "/v1/queues/nope/alerts", "", 404, CodeNotFound},
		{"ack may", "responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/ack", `{"note":"on it"}`, 200, ""},
		{"ack may not", "viewer", "POST", "/v1/queues/care-emea/alerts/a1/ack", "", 403, CodeForbidden},
		{"ack scope", "responder-emea", "POST", "/v1/queues/care-apac/alerts/b1/ack", "", 404, CodeNotFound},
		{"ack unknown alert", "responder-emea", "POST", "/v1/queues/care-emea/alerts/zz/ack", "", 404, CodeNotFound},
		{"stream may not", "analyst", "GET", "/v1/queues/care-emea/stream", "", 403, CodeForbidden},
		{"stream scope", "responder-emea", "GET", "/v1/queues/care-apac/stream", "", 404, CodeNotFound},

		{"push may", "ingest", "POST", "/v1/posts", `{"platform":"x","id":"1","text":"acme"}`, 202, ""},
		{"push may not", "analyst", "POST", "/v1/posts", `{"platform":"x","id":"1","text":"acme"}`, 403, CodeForbidden},
		{"search may", "analyst", "POST", "/v1/search", `{"q":"acme"}`, 200, ""},
		{"search may not", "responder-emea", "POST", "/v1/search", `{"q":"acme"}`, 403, CodeForbidden},
		{"insights may", "analyst", "GET", "/v1/insights", "", 200, ""},
		{"insights may not", "gatherer-gr", "GET", "/v1/insights", "", 403, CodeForbidden},
		{"insight run may", "analyst", "POST", "/v1/insights/volume_by_platform", `{"params":{"since":"1h"}}`, 200, ""},
		{"insight run may not", "viewer", "POST", "/v1/insights/volume_by_platform", "", 403, CodeForbidden},
		{"insight run scope", "analyst-gr", "POST", "/v1/insights/mentions_by_watchlist", `{"params":{"watchlist":"apac-list"}}`, 404, CodeNotFound},
		{"insight run scoped, unscoped query", "analyst-gr", "POST", "/v1/insights/volume_by_platform", "", 403, CodeOutOfScope},
		{"insight run scoped, own watchlist", "analyst-gr", "POST", "/v1/insights/mentions_by_watchlist", `{"params":{"watchlist":"acme-gr"}}`, 200, ""},
		{"insight unknown", "analyst", "POST", "/v1/insights/nope", "", 404, CodeNotFound},
		{"audit may", "admin", "GET", "/v1/audit", "", 200, ""},
		{"audit may not", "coach-gr", "GET", "/v1/audit", "", 403, CodeForbidden},
		{"whoami", "ingest", "GET", "/v1/whoami", "", 200, ""},
		{"whoami unauthenticated", "", "GET", "/v1/whoami", "", 401, CodeUnauthorized},
		{"healthz", "", "GET", "/healthz", "", 200, ""},
		{"readyz", "", "GET", "/readyz", "", 200, ""},
		{"openapi", "", "GET", "/v1/openapi.json", "", 200, ""},
		{"unknown route", "", "GET", "/v1/nope", "", 404, CodeNotFound},
		{"wrong method", "admin", "PATCH", "/v1/watchlists", "", 405, CodeMethod},
	}
	e := newEnv(t)
	for _, r := range rows {
		got := e.do(r.caller, r.method, r.path, r.body)
		if got.code != r.want || got.errCode() != r.code {
			t.Errorf("%s: %s %s as %s: %d %s, want %d %q", r.name, r.method, r.path, r.caller, got.code, got.body, r.want, r.code)
		}
		if got.hdr.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", r.name)
		}
	}
}

func items[T any](t *testing.T, r resp) []T {
	t.Helper()
	var p Page[T]
	if err := json.Unmarshal(r.body, &p); err != nil || r.code != 200 {
		t.Fatalf("%d %s: %v", r.code, r.body, err)
	}
	return p.Items
}

func TestListsAreScoped(t *testing.T) {
	e := newEnv(t)
	ids := func(caller string) []string {
		var out []string
		for _, r := range items[watchlist.Record](t, e.do(caller, "GET", "/v1/watchlists", "")) {
			out = append(out, r.ID)
		}
		return out
	}
	if got := ids("gatherer-gr"); !slices.Equal(got, []string{"acme-gr", "gr-global"}) {
		t.Errorf("gatherer of greece sees %v", got)
	}
	if r := e.do("analyst", "GET", "/v1/watchlists?status=bogus", ""); r.code != 400 {
		t.Errorf("status=bogus: %d", r.code)
	}
	if got := items[watchlist.Record](t, e.do("analyst", "GET", "/v1/watchlists?status=draft&team=apac", "")); len(got) != 1 || got[0].ID != "apac-list" {
		t.Errorf("status=draft&team=apac: %v", got)
	}
	if got := ids("analyst"); len(got) != 4 {
		t.Errorf("unscoped analyst sees %v", got)
	}
	var queues []string
	for _, q := range items[QueueView](t, e.do("responder-emea", "GET", "/v1/queues", "")) {
		queues = append(queues, q.Name)
	}
	if !slices.Equal(queues, []string{"care-emea"}) {
		t.Errorf("EMEA responder sees queues %v", queues)
	}
	// Paging: two alerts on care-emea, newest first, one a page.
	p1 := e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts?limit=1", "")
	var page1 Page[Alert]
	json.Unmarshal(p1.body, &page1)
	if len(page1.Items) != 1 || page1.Items[0].ID != "a2" || page1.NextCursor == "" {
		t.Fatalf("page 1: %s", p1.body)
	}
	p2 := items[Alert](t, e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts?limit=1&cursor="+page1.NextCursor, ""))
	if len(p2) != 1 || p2[0].ID != "a1" {
		t.Fatalf("page 2: %v", p2)
	}
	for _, bad := range []string{"limit=0", "limit=501", "limit=x", "cursor=zzz", "cursor=" + cursor(-1)} {
		if r := e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts?"+bad, ""); r.code != 400 {
			t.Errorf("%s: %d", bad, r.code)
		}
	}
}

func TestSearchScope(t *testing.T) {
	e := newEnv(t)
	if r := e.do("analyst-gr", "POST", "/v1/search", `{"q":"x","region":["EMEA"]}`); r.code != 200 {
		t.Fatal(r.code, string(r.body))
	}
	if e.search.last.Scope == nil || !slices.Equal(e.search.last.Scope.Watchlists, []string{"acme-gr", "gr-global"}) {
		t.Errorf("scope of a greece analyst: %+v", e.search.last.Scope)
	}
	e.search.last = nil
	r := e.do("analyst-none", "POST", "/v1/search", `{"q":"x"}`)
	if r.code != 200 || e.search.last != nil || !strings.Contains(string(r.body), `"total":0`) {
		t.Errorf("an analyst of a team with no watchlists must see nothing (an empty scope would be everything): %d %s, searched %v", r.code, r.body, e.search.last)
	}
	e.do("analyst", "POST", "/v1/search", `{"q":"x"}`)
	if e.search.last == nil || e.search.last.Scope != nil {
		t.Errorf("unscoped analyst: scope %+v", e.search.last)
	}
	if r := e.do("analyst", "POST", "/v1/search", `{"q":"x","size":1000}`); r.code != 400 {
		t.Errorf("size 1000: %d", r.code)
	}
	if r := e.do("analyst", "POST", "/v1/search", `{"q":"x","exhaustive":true}`); r.code != 200 || !e.search.last.Exhaustive {
		t.Errorf("exhaustive: %d %s, searched %+v", r.code, r.body, e.search.last)
	}
}

func TestSelfApprovalAndAudit(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) {})
	// An admin who edited a list may not approve it: the store's four-eyes rule.
	if r := e.do("admin", "PUT", "/v1/watchlists/acme-gr", `{"if_version":1,"spec":{"id":"acme-gr","team":"greece","brand":"acme","regions":["EMEA"],"keywords":["acme","acme corp"]}}`, "X-Request-Id", "req-edit-1"); r.code != 200 {
		t.Fatal(r.code, string(r.body))
	}
	e.do("admin", "POST", "/v1/watchlists/acme-gr/submit", "")
	if r := e.do("admin", "POST", "/v1/watchlists/acme-gr/approve", `{"if_version":2}`); r.code != 403 || r.errCode() != CodeSelfApproval {
		t.Fatalf("self approval: %d %s", r.code, r.body)
	}
	if r := e.do("coach-gr", "POST", "/v1/watchlists/acme-gr/approve", `{"if_version":2}`); r.code != 200 {
		t.Fatalf("approval: %d %s", r.code, r.body)
	}
	recs, _, err := ReadAuditFile(e.audit.Path(), func(r AuditRecord) bool { return r.ObjectID == "acme-gr" }, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action+" by "+r.Actor+" ("+r.Role+")")
	}
	want := []string{"watchlist.edit by ada (admin)", "watchlist.submit by ada (admin)", "watchlist.approve by costas (coach)"}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit: %v, want %v", actions, want)
	}
	edit := recs[0]
	if edit.RequestID != "req-edit-1" || !strings.Contains(string(edit.Before), `"version":1`) || !strings.Contains(string(edit.After), `"acme corp"`) || edit.At.IsZero() {
		t.Errorf("edit record: %+v", edit)
	}
	// The audit endpoint reads the same log.
	got := items[AuditRecord](t, e.do("admin", "GET", "/v1/audit?object_id=acme-gr", ""))
	if len(got) != 3 {
		t.Errorf("GET /v1/audit: %d records", len(got))
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) { c.MaxBodyBytes = 2048 })
	big := `{"id":"big","team":"greece","keywords":["` + strings.Repeat("k", 4000) + `"]}`
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
		code                     string
	}{
		{"malformed JSON", "POST", "/v1/watchlists", `{"id":`, nil, 400, CodeBadRequest},
		{"not JSON", "POST", "/v1/watchlists", `hello`, nil, 400, CodeBadRequest},
		{"wrong type", "POST", "/v1/watchlists", `{"id":5,"team":"greece"}`, nil, 400, CodeBadRequest},
		{"unknown field", "POST", "/v1/watchlists", `{"id":"u","team":"greece","keywords":["a"],"owner":"me"}`, nil, 400, CodeBadRequest},
		{"two values", "POST", "/v1/watchlists", `{"id":"u","team":"greece","keywords":["a"]} {}`, nil, 400, CodeBadRequest},
		{"empty body", "POST", "/v1/watchlists", ``, nil, 400, CodeBadRequest},
		{"oversized", "POST", "/v1/watchlists", big, nil, 413, CodeTooLarge},
		{"content type", "POST", "/v1/watchlists", `{}`, []string{"Content-Type", "text/plain"}, 415, CodeMediaType},
		{"bad id in spec", "POST", "/v1/watchlists", `{"id":"../etc","team":"greece","keywords":["a"]}`, nil, 422, CodeInvalid},
		{"unknown field in a note", "POST", "/v1/watchlists/acme-gr/submit", `{"notes":"x"}`, nil, 400, CodeBadRequest},
		{"traversal encoded", "GET", "/v1/watchlists/..%2f..%2ftokens.json", "", nil, 400, CodeBadRequest},
		{"traversal dot", "GET", "/v1/watchlists/%2e%2e", "", nil, 400, CodeBadRequest},
		{"traversal in queue", "GET", "/v1/queues/..%2Fcare-apac/alerts", "", nil, 400, CodeBadRequest},
		{"traversal in alert id", "POST", "/v1/queues/care-emea/alerts/..%2f..%2fa1/ack", "", nil, 400, CodeBadRequest},
		{"upper case id", "GET", "/v1/watchlists/ACME", "", nil, 400, CodeBadRequest},
		{"null byte", "GET", "/v1/watchlists/a%00b", "", nil, 400, CodeBadRequest},
	}
	for _, c := range cases {
		caller := "gatherer-gr"
		if strings.Contains(c.path, "/queues/") {
			caller = "admin"
		}
		r := e.do(caller, c.method, c.path, c.body, c.hdr...)
		if r.code != c.want || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.code, r.body, c.want, c.code)
		}
	}
	// A raw ../ in the path is cleaned by the router and redirected, never served.
	req, _ := http.NewRequest("GET", e.ts.URL+"/v1/watchlists/../queues", nil)
	req.URL.Opaque = "/v1/watchlists/../queues"
	req.Header.Set("Authorization", "Bearer "+e.tok["admin"])
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 3 || res.Header.Get("Location") != "/v1/queues" {
		t.Errorf("raw ../: %d", res.StatusCode)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	// A second store over the same file stands for `earshot token` in another process.
	cli, err := OpenTokens(e.tokens.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := cli.Create(NewToken{Name: "temp", Role: Viewer, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(secret, "GET", "/v1/whoami", ""); r.code != 200 || !strings.Contains(string(r.body), `"name":"temp"`) {
		t.Fatalf("new token: %d %s", r.code, r.body)
	}
	if _, _, err := cli.Revoke(tok.ID, "ada"); err != nil {
		t.Fatal(err)
	}
	r := e.do(secret, "GET", "/v1/whoami", "")
	if r.code != 401 || !strings.Contains(string(r.body), "revoked") || r.hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("replayed after revocation: %d %s", r.code, r.body)
	}
	if _, _, err := cli.Revoke(tok.ID, "ada"); err == nil {
		t.Error("revoking twice succeeded")
	}
	// Expired: a store whose clock is past the expiry.
	_, secret2, _ := cli.Create(NewToken{Name: "short", Role: Viewer, TTL: time.Minute})
	e.tokens.now = func() time.Time { return now.Add(2 * time.Minute) }
	if r := e.do(secret2, "GET", "/v1/whoami", ""); r.code != 401 || !strings.Contains(string(r.body), "expired") {
		t.Errorf("expired: %d %s", r.code, r.body)
	}
	e.tokens.now = time.Now
	for _, bad := range []string{"es_" + strings.Repeat("A", 43), "nonsense", secret2[:len(secret2)-1]} {
		if r := e.do(bad, "GET", "/v1/whoami", ""); r.code != 401 {
			t.Errorf("token %q: %d", bad, r.code)
		}
	}
	// The file holds hashes, never secrets.
	data, _ := readFile(e.tokens.path)
	if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte(secret2)) {
		t.Error("a secret is stored in the tokens file")
	}
	list, _ := cli.List()
	for _, tk := range list {
		if tk.Hash != "" {
			t.Error("List shows hashes")
		}
	}
	if _, _, err := cli.Create(NewToken{Name: "x", Role: "superuser"}); err == nil {
		t.Error("unknown role accepted")
	}
	if _, _, err := cli.Create(NewToken{Name: "bad name", Role: Viewer, Scope: Scope{Teams: []string{"../x"}}}); err == nil {
		t.Error("bad name and scope accepted")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) { c.Rate, c.Burst = 1, 5 })
	var codes []int
	var retry string
	for range 8 {
		r := e.do("viewer", "GET", "/v1/whoami", "")
		codes = append(codes, r.code)
		if r.code == 429 {
			retry = r.hdr.Get("Retry-After")
			if r.errCode() != CodeRateLimited {
				t.Errorf("429 body: %s", r.body)
			}
		}
	}
	if !slices.Equal(codes[:5], []int{200, 200, 200, 200, 200}) || codes[5] != 429 || codes[7] != 429 {
		t.Fatalf("burst of 8 with burst 5: %v", codes)
	}
	if retry != "1" {
		t.Errorf("Retry-After %q, want 1", retry)
	}
	// Another token has its own bucket.
	if r := e.do("analyst", "GET", "/v1/whoami", ""); r.code != 200 {
		t.Errorf("another token: %d", r.code)
	}
	// Unauthenticated guessing is limited per address too.
	var last int
	for range 8 {
		last = e.do("es_guess", "GET", "/v1/whoami", "").code
	}
	if last != 429 {
		t.Errorf("guessing tokens: last %d, want 429", last)
	}
}

func TestLiveFeed(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.ts.URL+"/v1/queues/care-emea/stream", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok["responder-emea"])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := e.ts.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for e.hub.Subscribers() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	e.hub.Publish(Alert{ID: "other", Queue: "care-apac"})
	e.hub.Publish(Alert{ID: "live-1", Queue: "care-emea", Priority: "P1"})
	sc := bufio.NewScanner(res.Body)
	var got []string
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "id: ") || strings.HasPrefix(line, "event: ") {
			got = append(got, line)
		}
		if len(got) == 2 {
			break
		}
	}
	if !slices.Equal(got, []string{"id: live-1", "event: alert"}) {
		t.Fatalf("feed: %v", got)
	}
}

func TestHubDropsSlowSubscriber(t *testing.T) {
	h := NewHub()
	s := h.Subscribe("q", 2)
	for i := range 3 {
		h.Publish(Alert{ID: string(rune('a' + i)), Queue: "q"})
	}
	select {
	case <-s.Lost:
	default:
		t.Fatal("a subscriber over its buffer was not told it lost alerts")
	}
	if h.Subscribers() != 0 {
		t.Error("dropped subscriber still counted")
	}
}

func TestMemAlertsBoundedAndRetractions(t *testing.T) {
	m := NewMemAlerts(3)
	for i := range 5 {
		m.Add(Alert{ID: string(rune('a' + i)), Queue: "q"})
	}
	got, more, _ := m.List(context.Background(), "q", 0, 10)
	if len(got) != 3 || got[0].ID != "e" || got[2].ID != "c" || more {
		t.Fatalf("%v %v", got, more)
	}
	if _, err := m.Ack(context.Background(), "q", "a", "rita", ""); err != ErrAlertNotFound {
		t.Errorf("evicted alert acked: %v", err)
	}
	a, err := m.Ack(context.Background(), "q", "d", "rita", "")
	if err != nil || a.AcknowledgedBy != "rita" {
		t.Fatal(a, err)
	}
	m.Add(Alert{ID: "d", Queue: "q", Priority: "P1"}) // redelivered: keeps its ack
	m.Add(Alert{ID: "d", Queue: "q", Retracted: true})
	got, _, _ = m.List(context.Background(), "q", 1, 1)
	if got[0].ID != "d" || got[0].AcknowledgedBy != "rita" || !got[0].Retracted || got[0].Priority != "P1" {
		t.Errorf("%+v", got[0])
	}
}

func TestMetricsAndReady(t *testing.T) {
	reg := prometheus.NewRegistry()
	bad := false
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Registerer, d.Gatherer = reg, reg
		d.Ready = map[string]func(context.Context) error{"clickhouse": func(context.Context) error {
			if bad {
				return io.ErrUnexpectedEOF
			}
			return nil
		}}
	})
	e.do("viewer", "GET", "/v1/watchlists", "")
	r := e.do("", "GET", "/metrics", "")
	if r.code != 200 || !strings.Contains(string(r.body), `earshot_api_requests_total{code="200",route="GET /v1/watchlists"} 1`) {
		t.Errorf("metrics: %d %s", r.code, r.body)
	}
	bad = true
	if r := e.do("", "GET", "/readyz", ""); r.code != 503 || !strings.Contains(string(r.body), "clickhouse") {
		t.Errorf("readyz with ClickHouse down: %d %s", r.code, r.body)
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("off: %v", err)
	}
	c.Addr, c.Rate, c.MaxBodyBytes = "nope", 0, 1
	c.OIDC.Issuer = "https://id.example"
	err := c.Validate()
	for _, want := range []string{"api.addr", "api.rate", "api.max_body_bytes", "api.oidc.audience", "jwks_file and jwks_url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	c = DefaultConfig()
	c.Addr = "127.0.0.1:8080"
	c.OIDC = OIDCConfig{Issuer: "i", Audience: "a", JWKSURL: "http://evil.example/keys", JWKSRefresh: time.Hour, RoleClaim: "r", NameClaim: "sub"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http key set: %v", err)
	}
	if c.Tokens() != filepath.Join(c.StateDir, "tokens.json") {
		t.Error(c.Tokens())
	}
}

// TestLiveFeedOutlivesReadTimeout serves over a real listener with a short
// read timeout: a feed must stay open past it.
func TestLiveFeedOutlivesReadTimeout(t *testing.T) {
	e := newEnv(t)
	e.srv.readTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+ln.Addr().String()+"/v1/queues/care-emea/stream", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok["responder-emea"])
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatal(err, res)
	}
	defer res.Body.Close()
	time.Sleep(time.Second)
	e.hub.Publish(Alert{ID: "late", Queue: "care-emea"})
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if sc.Text() == "id: late" {
			return
		}
	}
	t.Fatalf("the feed ended before the alert: %v", sc.Err())
}

// TestBrokenStateFiles: a tokens file that does not parse is 503 (never a
// crash, never a pass), and a change whose audit record cannot be written
// is a 500 that says so, counted.
func TestBrokenStateFiles(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(e.tokens.path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.do("admin", "GET", "/v1/whoami", ""); r.code != 503 || r.errCode() != CodeUnavailable {
		t.Errorf("corrupt tokens file: %d %s", r.code, r.body)
	}

	e = newEnv(t)
	e.audit.Close() // writes now fail
	r := e.do("gatherer-gr", "POST", "/v1/watchlists", `{"id":"gr-x","team":"greece","keywords":["x"]}`)
	if r.code != 500 || !strings.Contains(string(r.body), "audit record could not be written") {
		t.Errorf("audit write failure: %d %s", r.code, r.body)
	}
	if got := testutil.ToFloat64(e.srv.metrics.auditErrors); got != 1 {
		t.Errorf("audit errors counted: %v", got)
	}
}

// fakePush stands in for the push source: it notes the tenant and accepts.
type fakePush struct {
	mu      sync.Mutex
	tenants []string
}

func (f *fakePush) ServeTenant(w http.ResponseWriter, r *http.Request, tenant string) {
	f.mu.Lock()
	f.tenants = append(f.tenants, tenant)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"accepted":1}` + "\n"))
}

// Pushed posts are taken as the identity's tenant, and a process without a
// push source says so.
func TestPushThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	if r := e.do("ingest", "POST", "/v1/posts", `{"platform":"x","id":"1","text":"hi"}`); r.code != 202 {
		t.Fatalf("push: %d %s", r.code, r.body)
	}
	e.push.mu.Lock()
	got := slices.Clone(e.push.tenants)
	e.push.mu.Unlock()
	if len(got) != 1 || got[0] != callers["ingest"].Name {
		t.Errorf("tenants %v, want the ingest identity's name %q", got, callers["ingest"].Name)
	}
	none := newEnv(t, func(_ *Config, d *Deps) { d.Push = nil })
	if r := none.do("ingest", "POST", "/v1/posts", `{}`); r.code != 503 || !strings.Contains(string(r.body), CodeNotConfigured) {
		t.Errorf("no push source: %d %s", r.code, r.body)
	}
}

// TestBearerSchemeCaseInsensitive: the authentication scheme is
// case-insensitive (RFC 9110 11.1), so "bearer …" and "BEARER …" are the
// same credentials as "Bearer …"; another scheme is still refused.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	for scheme, want := range map[string]int{"Bearer": 200, "bearer": 200, "BEARER": 200, "Basic": 401, "Bearerx": 401} {
		req, _ := http.NewRequest("GET", e.ts.URL+"/v1/queues", nil)
		req.Header.Set("Authorization", scheme+" "+e.tok["admin"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", scheme, res.StatusCode, want)
		}
	}
}
