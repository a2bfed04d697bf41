package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
)

// openFeed opens a live feed with a raw token and returns the response.
func openFeed(t *testing.T, e *env, secret, queue string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/v1/queues/"+queue+"/stream", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// feedEnd reads a feed until it ends and returns its event lines, or fails
// if it is still open after d.
func feedEnd(t *testing.T, res *http.Response, d time.Duration) []string {
	t.Helper()
	done := make(chan []string, 1)
	go func() {
		var events []string
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "event: ") || strings.HasPrefix(l, "data: ") {
				events = append(events, l)
			}
		}
		done <- events
	}()
	select {
	case ev := <-done:
		return ev
	case <-time.After(d):
		res.Body.Close()
		t.Fatalf("the feed is still open after %v", d)
		return nil
	}
}

// TestLiveFeedEndsOnRevoke: a feed opened before its token was revoked is
// cut, with an event that says why, instead of streaming alerts forever.
func TestLiveFeedEndsOnRevoke(t *testing.T) {
	e := newEnv(t)
	e.srv.authRecheck = 50 * time.Millisecond
	tok, secret, err := e.tokens.Create(NewToken{Name: "temp", Role: Responder, Scope: Scope{Regions: []string{"EMEA"}}})
	if err != nil {
		t.Fatal(err)
	}
	res := openFeed(t, e, secret, "care-emea")
	if res.StatusCode != 200 {
		t.Fatalf("feed: %d", res.StatusCode)
	}
	// Revoked by `earshot token revoke`: another store over the same file.
	cli, err := OpenTokens(e.tokens.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli.Revoke(tok.ID, "ada"); err != nil {
		t.Fatal(err)
	}
	ev := feedEnd(t, res, 3*time.Second)
	if len(ev) < 2 || ev[0] != "event: unauthorized" || !strings.Contains(ev[1], "revoked") {
		t.Fatalf("events: %q", ev)
	}
}

// TestLiveFeedEndsAtExpiry: a feed ends when its token expires.
func TestLiveFeedEndsAtExpiry(t *testing.T) {
	e := newEnv(t)
	e.srv.authRecheck = time.Hour // the expiry alone must end it
	_, secret, err := e.tokens.Create(NewToken{Name: "short", Role: Responder, TTL: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res := openFeed(t, e, secret, "care-emea")
	if res.StatusCode != 200 {
		t.Fatalf("feed: %d", res.StatusCode)
	}
	ev := feedEnd(t, res, 4*time.Second)
	if len(ev) < 2 || ev[0] != "event: unauthorized" || !strings.Contains(ev[1], "expired") {
		t.Fatalf("events: %q", ev)
	}
}

// TestLiveFeedsPerIdentity: one caller cannot hold every feed slot of the
// process; another caller still gets a feed.
func TestLiveFeedsPerIdentity(t *testing.T) {
	e := newEnv(t)
	for i := range maxStreamsPerIdentity {
		if res := openFeed(t, e, e.tok["responder-emea"], "care-emea"); res.StatusCode != 200 {
			t.Fatalf("feed %d: %d", i, res.StatusCode)
		}
	}
	res := openFeed(t, e, e.tok["responder-emea"], "care-emea")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("feed %d of one caller: %d, want 429 with Retry-After", maxStreamsPerIdentity+1, res.StatusCode)
	}
	res.Body.Close()
	if res := openFeed(t, e, e.tok["admin"], "care-emea"); res.StatusCode != 200 {
		t.Fatalf("another caller's feed: %d", res.StatusCode)
	}
}

// TestBrandScopedQueues: queues have no brand, so a caller narrowed to
// brands sees none of them (they hold every brand's alerts).
func TestBrandScopedQueues(t *testing.T) {
	e := newEnv(t)
	_, secret, err := e.tokens.Create(NewToken{Name: "brandy", Role: Viewer, Scope: Scope{Brands: []string{"acme"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := items[QueueView](t, e.do(secret, "GET", "/v1/queues", "")); len(got) != 0 {
		t.Errorf("a brand-scoped viewer sees queues %v", got)
	}
	for _, p := range []string{"/v1/queues/care-emea/alerts", "/v1/queues/care-emea/stream"} {
		if r := e.do(secret, "GET", p, ""); r.code != 404 {
			t.Errorf("GET %s as a brand-scoped viewer: %d %s", p, r.code, r.body)
		}
	}
}

// TestPathsDoNotEscape: ids in paths that are not plain ids never reach a
// store, however they are encoded.
func TestPathsDoNotEscape(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{
		"/v1/watchlists/..%2Fapac-list", "/v1/watchlists/%2e%2e", "/v1/watchlists/apac-list%00",
		"/v1/watchlists/acme-gr%2F..%2Fapac-list/history", "/v1/watchlists/ACME-GR",
		"/v1/queues/care-emea%2F..%2Fcare-apac/alerts", "/v1/queues/..%2Fcare-apac/alerts",
	} {
		r := e.do("gatherer-gr", "GET", p, "")
		if strings.Contains(p, "queues") {
			r = e.do("responder-emea", "GET", p, "")
		}
		if r.code != 400 && r.code != 404 {
			t.Errorf("GET %s: %d %s", p, r.code, r.body)
		}
		if strings.Contains(string(r.body), "apac-list\"") && r.code != 400 {
			t.Errorf("GET %s names another team's list: %s", p, r.body)
		}
	}
	for _, id := range []string{"a1'%20OR%201=1--", "a1%27", "a1%3B%20DROP%20TABLE%20x"} {
		if r := e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/"+id+"/ack", ""); r.code != 400 {
			t.Errorf("ack %s: %d %s", id, r.code, r.body)
		}
	}
}

// TestAlertsNameOnlyWatchlistsInScope: a post caught by watchlists of
// several teams reaches one queue; a scoped reader of that queue is not
// told the other teams' watchlists, brands or keywords — in the listing,
// the acknowledgement or the live feed.
func TestAlertsNameOnlyWatchlistsInScope(t *testing.T) {
	e := newEnv(t)
	item := `{"post":{"platform":"x","id":"9","text":"acme apac"},"matches":[` +
		`{"watchlist":"acme-gr","version":1,"brand":"acme","team":"greece","keywords":["acme"]},` +
		`{"watchlist":"apac-list","version":1,"team":"apac","keywords":["secret-apac-term"]}]}`
	a := Alert{ID: "m1", Queue: "care-emea", Team: "emea-care", Watchlists: []string{"acme-gr", "apac-list"}, Item: json.RawMessage(item), CreatedAt: time.Unix(3000, 0)}
	e.alerts.Add(a)
	leaks := func(what string, b []byte) {
		t.Helper()
		if strings.Contains(string(b), "apac-list") || strings.Contains(string(b), "secret-apac-term") {
			t.Errorf("%s names another team's watchlist: %s", what, b)
		}
		if !strings.Contains(string(b), "acme-gr") {
			t.Errorf("%s lost the caller's own watchlist: %s", what, b)
		}
	}
	r := e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts", "")
	leaks("listing", r.body)
	r = e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/m1/ack", "")
	leaks("ack", r.body)
	// An unscoped reader sees both.
	if r := e.do("admin", "GET", "/v1/queues/care-emea/alerts", ""); !strings.Contains(string(r.body), "secret-apac-term") {
		t.Errorf("admin listing: %s", r.body)
	}
	res := openFeed(t, e, e.tok["responder-emea"], "care-emea")
	for e.hub.Subscribers() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	e.hub.Publish(a)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") && strings.Contains(l, `"m1"`) {
			leaks("feed", []byte(l))
			return
		}
	}
	t.Fatal("no alert on the feed")
}

// TestReadyzSaysNoMoreThanFailing: /readyz needs no token, so a failing
// check's error, which names hosts and users of the backends, is not in it.
func TestReadyzSaysNoMoreThanFailing(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Ready = map[string]func(context.Context) error{"clickhouse": func(context.Context) error {
			return errors.New("dial tcp 10.1.2.3:9000: code: 516, message: default: Authentication failed")
		}}
	})
	r := e.do("", "GET", "/readyz", "")
	if r.code != 503 || !strings.Contains(string(r.body), `"clickhouse":"failing"`) || strings.Contains(string(r.body), "10.1.2.3") {
		t.Errorf("readyz: %d %s", r.code, r.body)
	}
	if r.hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("answers are not marked nosniff")
	}
}

// blockingSearcher holds every search until its context ends or release
// is closed.
type blockingSearcher struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingSearcher) Search(ctx context.Context, q search.Query) (*search.Result, error) {
	b.started <- struct{}{}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.release:
		return &search.Result{Hits: []search.Hit{}}, nil
	}
}

// TestQueriesPerIdentity: one caller runs at most maxQueriesPerIdentity
// searches at once (429 once the next has waited queryWait); another caller
// is not held up by them.
func TestQueriesPerIdentity(t *testing.T) {
	bs := &blockingSearcher{started: make(chan struct{}, 100), release: make(chan struct{})}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Searcher = bs })
	e.srv.queryWait = 200 * time.Millisecond
	codes := make(chan int, maxQueriesPerIdentity)
	for range maxQueriesPerIdentity {
		go func() { codes <- e.do("analyst", "POST", "/v1/search", `{"q":"acme"}`).code }()
	}
	for range maxQueriesPerIdentity {
		<-bs.started
	}
	if r, err := searchWithin(e, "analyst", 3*time.Second); err != nil || r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("search %d at once: %v %v, want 429", maxQueriesPerIdentity+1, r, err)
	}
	other := make(chan int, 1)
	go func() { other <- e.do("admin", "POST", "/v1/search", `{"q":"acme"}`).code }()
	<-bs.started
	close(bs.release)
	if c := <-other; c != 200 {
		t.Errorf("another caller's search: %d", c)
	}
	for range maxQueriesPerIdentity {
		if c := <-codes; c != 200 {
			t.Errorf("a search within the limit: %d", c)
		}
	}
	if r := e.do("analyst", "POST", "/v1/search", `{"q":"acme"}`); r.code != 200 {
		t.Errorf("a search after the others ended: %d %s", r.code, r.body)
	}
}

// TestQueriesWaitTheirTurn: a burst of one caller's queries (a dashboard
// loading its panels) over the limit waits for a turn instead of failing.
func TestQueriesWaitTheirTurn(t *testing.T) {
	bs := &blockingSearcher{started: make(chan struct{}, 100), release: make(chan struct{})}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Searcher = bs })
	n := 2*maxQueriesPerIdentity + 1
	codes := make(chan int, n)
	for range n {
		go func() { codes <- e.do("analyst", "POST", "/v1/search", `{"q":"acme"}`).code }()
	}
	for range maxQueriesPerIdentity {
		<-bs.started
	}
	select {
	case <-bs.started:
		t.Fatalf("more than %d of one caller's searches ran at once", maxQueriesPerIdentity)
	case <-time.After(100 * time.Millisecond):
	}
	close(bs.release) // every search ends as soon as it starts: the waiting ones take their turns
	for range n {
		if c := <-codes; c != 200 {
			t.Errorf("a search of the burst: %d, want 200 after waiting its turn", c)
		}
	}
}

// TestQueryTimeout: a search that runs past the query timeout is stopped
// and answered 503, not left running as long as the client waits.
func TestQueryTimeout(t *testing.T) {
	bs := &blockingSearcher{started: make(chan struct{}, 100), release: make(chan struct{})}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Searcher = bs })
	e.srv.queryTimeout = 100 * time.Millisecond
	if r, err := searchWithin(e, "analyst", 3*time.Second); err != nil || r.StatusCode != 503 {
		t.Errorf("a search past the timeout: %v %v, want 503", r, err)
	}
}

// searchWithin searches as caller, giving up after d.
func searchWithin(e *env, caller string, d time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.ts.URL+"/v1/search", strings.NewReader(`{"q":"acme"}`))
	req.Header.Set("Authorization", "Bearer "+e.tok[caller])
	res, err := e.ts.Client().Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	return res, nil
}

// TestSlowReaderIsCut: a client that asks for a large answer and stops
// reading it does not hold the handler for ever: the write times out and
// the request ends (it is counted when it ends).
func TestSlowReaderIsCut(t *testing.T) {
	e := newEnv(t)
	e.srv.writeTimeout = 300 * time.Millisecond
	big := json.RawMessage(`{"post":{"text":"` + strings.Repeat("x", 64<<10) + `"}}`)
	for i := range 100 {
		e.alerts.Add(Alert{ID: fmt.Sprintf("big%d", i), Queue: "care-emea", Item: big})
	}
	conn, err := net.Dial("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /v1/queues/care-emea/alerts?limit=100 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", e.tok["admin"])
	ended := func() float64 {
		return testutil.ToFloat64(e.srv.metrics.requests.WithLabelValues("GET /v1/queues/{queue}/alerts", "200"))
	}
	deadline := time.Now().Add(5 * time.Second)
	for ended() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the handler of an unread 6.5 MB answer is still writing after 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A client that reads gets the whole answer (at the default timeout:
	// the race detector makes writing 6.5 MB slow).
	e2 := newEnv(t)
	for i := range 100 {
		e2.alerts.Add(Alert{ID: fmt.Sprintf("big%d", i), Queue: "care-emea", Item: big})
	}
	if r := e2.do("admin", "GET", "/v1/queues/care-emea/alerts?limit=100", ""); r.code != 200 || len(r.body) < 6<<20 {
		t.Errorf("a reading client: %d, %d bytes", r.code, len(r.body))
	}
}

// TestOIDCEmptyScopeClaim: an empty scope narrows nothing, so an OIDC
// token whose teams claim is there but empty (a user in no team) must be
// refused, not read as organisation-wide; a bad single value is refused
// like a bad array element.
func TestOIDCEmptyScopeClaim(t *testing.T) {
	idp := newIdP(t)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwksFile, idp.jwks, 0o600)
	e := newEnv(t, func(c *Config, d *Deps) {
		c.OIDC.Issuer, c.OIDC.Audience, c.OIDC.JWKSFile = "https://id.example.org", "earshot", jwksFile
		o, err := NewOIDC(context.Background(), c.OIDC, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC = o
	})
	claims := func(teams any) jwt.MapClaims {
		return jwt.MapClaims{"iss": "https://id.example.org", "aud": "earshot", "sub": "u-7", "exp": time.Now().Add(time.Hour).Unix(),
			"earshot_role": "gatherer", "earshot_teams": teams}
	}
	for name, teams := range map[string]any{"empty array": []any{}, "empty string": "", "null": nil, "bad string": "../x"} {
		r := e.do(idp.sign(t, "r1", claims(teams)), "GET", "/v1/watchlists/apac-list", "")
		if r.code != 401 {
			t.Errorf("teams claim %s: %d %s, want 401", name, r.code, r.body)
		}
	}
	if r := e.do(idp.sign(t, "r1", claims("greece")), "GET", "/v1/watchlists/acme-gr", ""); r.code != 200 {
		t.Errorf("teams claim \"greece\": %d %s", r.code, r.body)
	}
}

// TestQueuesFollowTheOrganisation: when a routing change gives a queue to
// another team, its old team's responders stop reading it — listing and
// open live feed — without restarting the API.
func TestQueuesFollowTheOrganisation(t *testing.T) {
	var mu sync.Mutex
	queues := map[string]QueueInfo{"care-emea": {Team: "emea-care", Region: "EMEA"}, "care-apac": {Team: "apac-care", Region: "APAC"}}
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.QueuesFrom = func() (map[string]QueueInfo, error) {
			mu.Lock()
			defer mu.Unlock()
			return maps.Clone(queues), nil
		}
	})
	e.srv.queuesMaxAge = 0
	e.srv.authRecheck = 50 * time.Millisecond
	if r := e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts", ""); r.code != 200 {
		t.Fatalf("before: %d %s", r.code, r.body)
	}
	res := openFeed(t, e, e.tok["responder-emea"], "care-emea")
	if res.StatusCode != 200 {
		t.Fatalf("feed: %d", res.StatusCode)
	}
	mu.Lock()
	queues["care-emea"] = QueueInfo{Team: "apac-care", Region: "APAC"}
	mu.Unlock()
	if r := e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts", ""); r.code != 404 {
		t.Errorf("after the queue moved to APAC: %d %s", r.code, r.body)
	}
	if r := e.do("responder-apac", "GET", "/v1/queues/care-emea/alerts", ""); r.code != 200 {
		t.Errorf("its new team: %d %s", r.code, r.body)
	}
	ev := feedEnd(t, res, 3*time.Second)
	if len(ev) < 2 || ev[0] != "event: unauthorized" || !strings.Contains(ev[1], "out_of_scope") {
		t.Fatalf("feed events: %q", ev)
	}
}

// TestScopedAdminAndTheAuditLog: the audit log holds every team's
// watchlists before and after each change, so an admin token narrowed to a
// team may not read it.
func TestScopedAdminAndTheAuditLog(t *testing.T) {
	e := newEnv(t)
	if r := e.do("admin", "PUT", "/v1/watchlists/apac-list", `{"if_version":1,"spec":{"id":"apac-list","team":"apac","regions":["APAC"],"keywords":["apac-secret"]}}`); r.code != 200 {
		t.Fatalf("edit: %d %s", r.code, r.body)
	}
	_, secret, err := e.tokens.Create(NewToken{Name: "greek-admin", Role: Admin, Scope: Scope{Teams: []string{"greece"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(secret, "GET", "/v1/audit", "")
	if r.code != 403 || r.errCode() != CodeOutOfScope || strings.Contains(string(r.body), "apac-secret") {
		t.Errorf("audit as a team-scoped admin: %d %s", r.code, r.body)
	}
	if r := e.do("admin", "GET", "/v1/audit", ""); r.code != 200 || !strings.Contains(string(r.body), "apac-secret") {
		t.Errorf("audit as an admin: %d %s", r.code, r.body)
	}
}

// TestSearchScopeOnARealIndex: a team-scoped caller's search, over a real
// index, never returns a post only another team's watchlist caught, nor
// names that watchlist in a hit or a facet, whatever the query text asks.
func TestSearchScopeOnARealIndex(t *testing.T) {
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
	}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Searcher = x })
	_, emea, err := e.tokens.Create(NewToken{Name: "emma", Role: Analyst, Scope: Scope{Regions: []string{"EMEA"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tok["analyst-emea"] = emea
	for _, caller := range []string{"gatherer-gr", "analyst-emea"} {
		for _, q := range []string{"*", "secret", "apac", "+watchlist:apac-list", "watchlist:apac-list", "apac*", "/.*/", "-acme", "secret~1", `"apac secret"`} {
			body, _ := json.Marshal(map[string]any{"q": q, "exhaustive": true})
			r := e.do(caller, "POST", "/v1/search", string(body))
			if r.code != 200 && r.code != 400 {
				t.Errorf("q %s: %d %s", q, r.code, r.body)
				continue
			}
			if s := string(r.body); strings.Contains(s, "apac-list") || strings.Contains(s, `"x:2"`) || strings.Contains(s, "secret launch") {
				t.Errorf("q %s as %s: %s", q, caller, s)
			}
		}
	}
	// The EMEA analyst finds the EMEA post that APAC's list caught too,
	// without being told so.
	if r := e.do("analyst-emea", "POST", "/v1/search", `{"q":"together"}`); !strings.Contains(string(r.body), `"x:3"`) {
		t.Errorf("EMEA analyst, the shared post: %d %s", r.code, r.body)
	}
	// The unscoped analyst finds the APAC post: the index does hold it.
	if r := e.do("analyst", "POST", "/v1/search", `{"q":"secret"}`); !strings.Contains(string(r.body), "secret launch") {
		t.Errorf("unscoped: %d %s", r.code, r.body)
	}
}

// TestTokensStayOutOfLogs: refused, revoked and good credentials, and the
// audit record of a change, never hold a token secret.
func TestTokensStayOutOfLogs(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Log = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tok, secret, err := e.tokens.Create(NewToken{Name: "tmp", Role: Gatherer, Scope: Scope{Teams: []string{"greece"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.do(secret, "POST", "/v1/watchlists", `{"id":"gr-logs","team":"greece","keywords":["x"]}`)
	e.tokens.Revoke(tok.ID, "ada")
	guess := "es_" + strings.Repeat("Q", 43)
	jwtish := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViIn0.c2lnbmF0dXJlLXNlY3JldA"
	for _, s := range []string{secret, guess, jwtish} {
		e.do(s, "GET", "/v1/whoami", "")
	}
	audit, _ := os.ReadFile(e.audit.Path())
	mu.Lock()
	defer mu.Unlock()
	for _, s := range []string{secret, secret[3:20], guess, jwtish, "c2lnbmF0dXJlLXNlY3JldA"} {
		if strings.Contains(logs.String(), s) || strings.Contains(string(audit), s) {
			t.Errorf("a secret is in the log or the audit log: %q", s)
		}
	}
	if !strings.Contains(string(audit), "gr-logs") || !strings.Contains(logs.String(), "revoked") {
		t.Errorf("the test saw nothing: audit %q, log %q", audit, logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRoutingValidateIsOrgWide: validating a routing change is part of
// proposing one, which callers scoped to teams, brands or regions may not.
func TestRoutingValidateIsOrgWide(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "routing.yaml")
	os.WriteFile(policy, []byte(testPolicy), 0o644)
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Routing = &RoutingFiles{Policy: policy, Proposal: filepath.Join(dir, "routing-proposal.json")}
	})
	body, _ := json.Marshal(map[string]string{"policy": testPolicy})
	if r := e.do("coach-gr", "POST", "/v1/routing/validate", string(body)); r.code != 403 || r.errCode() != CodeOutOfScope {
		t.Errorf("validate as a team-scoped coach: %d %s", r.code, r.body)
	}
	if r := e.do("coach", "POST", "/v1/routing/validate", string(body)); r.code != 200 {
		t.Errorf("validate as a coach: %d %s", r.code, r.body)
	}
}
