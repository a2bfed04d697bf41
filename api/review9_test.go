package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"

	"encoding/json"
	"github.com/golang-jwt/jwt/v5"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/watchlist"
)

// TestDeletedWatchlistIDStaysItsTeams: the Greek team deletes its list
// acme-secret; a gatherer of another team must not take the id over, for
// the id names the Greek list's history (its keywords, notes and people)
// and the posts it caught (search, insights by watchlist). Re-creating it
// is 409 "taken", as for a live list of another team; the Greek team may
// re-create its own.
func TestDeletedWatchlistIDStaysItsTeams(t *testing.T) {
	st, err := watchlist.Open(t.TempDir(), watchlist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := search.DefaultConfig()
	cfg.Enabled, cfg.Dir = true, t.TempDir()
	x, err := search.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	if err := x.Index([]*post.Item{{
		Post:       &post.Post{Platform: "x", ID: "1", Text: "acme merger rumour", CreatedAt: time.Now().UTC().Add(-time.Hour), Author: post.Author{Handle: "@u1"}},
		Enrichment: &post.Enrichment{Lang: "en", Region: "EMEA", SentimentLabel: "neutral"},
		Matches:    []post.Match{{Watchlist: "acme-secret", Version: 1}},
	}}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Watchlists, d.Searcher = st, x })
	_, apac, err := e.tokens.Create(NewToken{Name: "gao", Role: Gatherer, Scope: Scope{Teams: []string{"apac"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tok["gatherer-apac"] = apac

	greek := `{"id":"acme-secret","team":"greece","regions":["EMEA"],"keywords":["acme merger"]}`
	if r := e.do("gatherer-gr", "POST", "/v1/watchlists", greek); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if r := e.do("gatherer-gr", "DELETE", "/v1/watchlists/acme-secret?note=project+falcon+is+off", ""); r.code != 204 && r.code != 200 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}

	r := e.do("gatherer-apac", "POST", "/v1/watchlists", `{"id":"acme-secret","team":"apac","regions":["APAC"],"keywords":["x"]}`)
	if r.code != 409 || r.errCode() != CodeConflict {
		t.Errorf("another team re-creates a deleted id: %d %s, want 409 conflict", r.code, r.body)
	}
	if r := e.do("gatherer-apac", "GET", "/v1/watchlists/acme-secret/history", ""); r.code != 404 || strings.Contains(string(r.body), "falcon") || strings.Contains(string(r.body), "merger") {
		t.Errorf("the Greek list's history, read by another team: %d %s", r.code, r.body)
	}
	body, _ := json.Marshal(map[string]any{"q": "*"})
	if r := e.do("gatherer-apac", "POST", "/v1/search", string(body)); strings.Contains(string(r.body), "rumour") {
		t.Errorf("the Greek list's posts, found by another team: %d %s", r.code, r.body)
	}
	// Its own team may bring it back.
	if r := e.do("gatherer-gr", "POST", "/v1/watchlists", greek); r.code != 201 {
		t.Errorf("the Greek team re-creates its list: %d %s", r.code, r.body)
	}
}

// TestAuthenticatedAnswersAreNotStored: an answer to a caller's token
// (alerts, posts, the audit log, a digest file, an error) carries
// Cache-Control: no-store, so no browser or proxy cache keeps it on disk for
// the next user of the machine; every answer carries nosniff and
// Referrer-Policy: no-referrer.
func TestAuthenticatedAnswersAreNotStored(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ caller, method, path, body string }{
		{"responder-emea", "GET", "/v1/queues/care-emea/alerts", ""},
		{"responder-emea", "GET", "/v1/queues/care-emea/alerts/a1", ""},
		{"responder-emea", "GET", "/v1/queues/care-apac/alerts", ""}, // 404
		{"admin", "GET", "/v1/audit", ""},
		{"admin", "GET", "/v1/whoami", ""},
		{"analyst", "POST", "/v1/search", `{"q":"acme"}`},
		{"gatherer-gr", "GET", "/v1/watchlists", ""},
	} {
		r := e.do(c.caller, c.method, c.path, c.body)
		if got := r.hdr.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s as %s (%d): Cache-Control %q, want no-store", c.method, c.path, c.caller, r.code, got)
		}
		if got := r.hdr.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s %s: Referrer-Policy %q", c.method, c.path, got)
		}
	}
	for _, path := range []string{"/healthz", "/v1/openapi.json", "/nope"} {
		r := e.do("", "GET", path, "")
		if r.hdr.Get("X-Content-Type-Options") != "nosniff" || r.hdr.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: %v", path, r.hdr)
		}
	}
}

// TestOIDCUnknownKidsFetchTheKeySetOnce: JWTs naming kids the key set does
// not have (anyone can make them: no valid signature is needed to get that
// far) must not each fetch the key set again: fifty at once, while the
// provider is slow to answer, make one fetch, not fifty.
func TestOIDCUnknownKidsFetchTheKeySetOnce(t *testing.T) {
	idp := newIdP(t)
	var fetches atomic.Int32
	slow := make(chan struct{})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fetches.Add(1) > 1 {
			<-slow
		}
		w.Write(idp.jwks)
	}))
	defer keys.Close()
	defer close(slow)
	cfg := DefaultConfig().OIDC
	cfg.Issuer, cfg.Audience, cfg.JWKSURL = "iss", "aud", keys.URL
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	o, err := NewOIDC(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(2 * time.Minute) // the set is old enough to fetch again for a new kid
	o.now = func() time.Time { return now }
	claims := jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": "s", "exp": time.Now().Add(time.Hour).Unix(), "earshot_role": "viewer"}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			o.Authenticate(ctx, idp.sign(t, fmt.Sprintf("forged-%d", i), claims))
		}()
	}
	wg.Wait()
	if n := fetches.Load(); n > 2 {
		t.Errorf("%d fetches of the key set, want at most 2 (start, one refresh)", n)
	}
}

// TestOIDCRefreshOutlivesItsCaller: the provider has rotated to r2; a
// forged JWT naming a new kid starts the fetch and its caller hangs up at
// once. The fetch must still complete, so that the next real token of r2 is
// taken, rather than the set being marked fresh and r2 refused for a minute
// (which an attacker could repeat every minute).
func TestOIDCRefreshOutlivesItsCaller(t *testing.T) {
	old, rotated := newIdP(t), newIdP(t)
	var mu sync.Mutex
	served := old.jwks
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		w.Write(served)
	}))
	defer keys.Close()
	cfg := DefaultConfig().OIDC
	cfg.Issuer, cfg.Audience, cfg.JWKSURL = "iss", "aud", keys.URL
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	o, err := NewOIDC(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(rotated.jwks, &set)
	set.Keys[0]["kid"] = "r2"
	mu.Lock()
	served, _ = json.Marshal(set)
	mu.Unlock()
	now := time.Now().Add(2 * time.Minute)
	o.now = func() time.Time { return now }
	claims := jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": "s", "exp": time.Now().Add(time.Hour).Unix(), "earshot_role": "viewer"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	if _, err := o.Authenticate(ctx, old.sign(t, "forged", claims)); err == nil {
		t.Fatal("a forged kid was accepted")
	}
	cancel()
	time.Sleep(300 * time.Millisecond)
	if id, err := o.Authenticate(context.Background(), rotated.sign(t, "r2", claims)); err != nil || id.Role != Viewer {
		t.Errorf("the rotated key, after a caller hung up on the fetch: %v, %v", id, err)
	}
}
