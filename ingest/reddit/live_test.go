package reddit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
)

// fakeReddit serves the OAuth token endpoint and the two listings of
// r/gadgets as Reddit's API does (newest first, pages of `limit` or
// pageSize, `after` the last fullname of a page), with the payloads of the
// decoder's tests.
type fakeReddit struct {
	t  *testing.T
	mu sync.Mutex
	// things per listing path, newest first
	things   map[string][]map[string]any
	pageSize int
	tokens   int
	requests []string
	// replies to hand out before the normal ones, in order
	script []func(w http.ResponseWriter) bool
	header map[string]string // extra headers on listing pages
	tok    string
}

func newFake(t *testing.T) (*fakeReddit, *httptest.Server) {
	f := &fakeReddit{t: t, things: map[string][]map[string]any{}, pageSize: 100, header: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeReddit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ua := r.Header.Get("User-Agent"); ua != "test:earshot:1.0 (by /u/tester)" {
		http.Error(w, "bad user agent "+ua, http.StatusTooManyRequests)
		return
	}
	if r.URL.Path == "/api/v1/access_token" {
		user, pass, ok := r.BasicAuth()
		r.ParseForm()
		if !ok || user != "cid" || pass != "s3cret" || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		f.tokens++
		f.tok = "tok" + strconv.Itoa(f.tokens)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token": %q, "token_type": "bearer", "expires_in": 86400, "scope": "*"}`, f.tok)
		return
	}
	f.requests = append(f.requests, r.URL.Path+"?"+r.URL.RawQuery)
	if r.Header.Get("Authorization") != "Bearer "+f.tok {
		http.Error(w, `{"message": "Unauthorized", "error": 401}`, http.StatusUnauthorized)
		return
	}
	if len(f.script) > 0 {
		step := f.script[0]
		f.script = f.script[1:]
		if step(w) {
			return
		}
	}
	list := f.things[r.URL.Path]
	start := 0
	if a := r.URL.Query().Get("after"); a != "" {
		for i, th := range list {
			if th["data"].(map[string]any)["name"] == a {
				start = i + 1
			}
		}
	}
	end := min(start+f.pageSize, len(list))
	var after any
	if end < len(list) {
		after = list[end-1]["data"].(map[string]any)["name"]
	}
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	json.NewEncoder(w).Encode(map[string]any{"kind": "Listing", "data": map[string]any{"after": after, "before": nil, "children": list[start:end]}})
}

// add puts things at the top of a listing (newest first).
func (f *fakeReddit) add(path string, things ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.things[path] = append(things, f.things[path]...)
}

func comment(id string, created int64, body string) map[string]any {
	return map[string]any{"kind": "t1", "data": map[string]any{"id": id, "name": "t1_" + id, "author": "ann", "body": body,
		"created_utc": float64(created), "subreddit": "gadgets", "score": 12, "parent_id": "t3_s1", "link_id": "t3_s1"}}
}

func submission(id string, created int64, title string) map[string]any {
	return map[string]any{"kind": "t3", "data": map[string]any{"id": id, "name": "t3_" + id, "author": "bob", "title": title,
		"selftext": "anyone else?", "is_self": true, "created_utc": float64(created), "subreddit": "gadgets", "score": 3, "num_comments": 5}}
}

const (
	newPath      = "/r/gadgets/new"
	commentsPath = "/r/gadgets/comments"
)

var liveNow = time.Unix(1_763_720_000, 0).UTC()

func testConfig(t *testing.T, srv *httptest.Server) Config {
	c := DefaultConfig()
	c.Subreddits, c.ClientID, c.UserAgent = []string{"gadgets"}, "cid", "test:earshot:1.0 (by /u/tester)"
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("s3cret\n"), 0o600)
	c.ClientSecretFile = secretFile
	c.APIURL, c.TokenURL = srv.URL, srv.URL+"/api/v1/access_token"
	c.PollInterval = time.Second
	return c
}

// open starts a live source over the fake; sleeps are recorded, not slept
// (a poll round waits 5 ms).
func open(t *testing.T, c Config, lc live.Config) (*live.Source, *poller, func() []time.Duration) {
	t.Helper()
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return liveNow }
	p, err := newPoller(c, lc, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var slept []time.Duration
	p.sleep = func(ctx context.Context, _ *live.Conn, d time.Duration) bool {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
			return true
		}
	}
	var cursor *live.CursorFile
	if c.CursorFile != "" {
		cursor = &live.CursorFile{Path: c.CursorFile}
	}
	s := live.New("reddit", lc, []live.Dialer{p.dial}, cursor, nil, nil)
	t.Cleanup(func() { s.Close() })
	return s, p, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), slept...)
	}
}

func testLive() live.Config {
	lc := live.DefaultConfig()
	lc.MinBackoff, lc.MaxBackoff = time.Millisecond, 5*time.Millisecond
	return lc
}

// next reads until want posts or dead letters arrived (or 5 s passed).
func next(t *testing.T, s *live.Source, want int) ([]*post.Post, []post.Rejected) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ps []*post.Post
	var rej []post.Rejected
	for len(ps)+len(rej) < want {
		b, err := s.Next(ctx, 100)
		if err != nil {
			t.Fatalf("after %d posts and %d dead letters of %d: %v", len(ps), len(rej), want, err)
		}
		for _, it := range b.Items {
			ps = append(ps, it.Post)
		}
		rej = append(rej, b.Rejected...)
	}
	return ps, rej
}

func ids(ps []*post.Post) string {
	var out []string
	for _, p := range ps {
		s := p.ID
		if p.Kind != "" {
			s += "(" + p.Kind + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestLivePollsEachPostOnce: the live connector authenticates
// (application-only, client secret from a file, the configured
// User-Agent on every request), reads new submissions and comments of the
// subreddits, hands them on oldest first, each once however often it polls,
// and a removed comment is a delete.
func TestLivePollsEachPostOnce(t *testing.T) {
	f, srv := newFake(t)
	f.add(newPath, submission("s2", 1_763_719_300, "Acme recall?"), submission("s1", 1_763_719_100, "Acme phone"))
	f.add(commentsPath, comment("c2", 1_763_719_250, "[removed]"), comment("c1", 1_763_719_200, "my acme phone broke"))
	s, _, _ := open(t, testConfig(t, srv), testLive())
	ps, rej := next(t, s, 4)
	if got := ids(ps); got != "t3_s1 t1_c1 t1_c2(delete) t3_s2" || len(rej) != 0 {
		t.Fatalf("first round: %s, dead letters %v", got, rej)
	}
	if ps[1].Text != "my acme phone broke" || ps[1].Community != "gadgets" || ps[1].Source != SourceName || ps[1].ReplyTo != "reddit:t3_s1" {
		t.Errorf("comment: %+v", ps[1])
	}
	time.Sleep(50 * time.Millisecond) // several more rounds over the same pages
	f.add(commentsPath, comment("c3", 1_763_719_400, "acme again"))
	ps, _ = next(t, s, 1)
	if got := ids(ps); got != "t1_c3" {
		t.Fatalf("later rounds: %s, want only the new comment", got)
	}
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if b, _ := s.Next(ctx, 100); len(b.Items) != 0 {
		t.Errorf("read again: %v", b.Items[0].Post.ID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokens != 1 || len(f.requests) < 6 {
		t.Errorf("%d tokens, %d requests: want one token for many polls", f.tokens, len(f.requests))
	}
	for _, r := range f.requests {
		if !strings.Contains(r, "limit=100") || !strings.Contains(r, "raw_json=1") {
			t.Errorf("request %s", r)
		}
	}
}

// TestLiveRateLimits: a used-up window (X-Ratelimit-Remaining 0) waits
// for its reset (X-Ratelimit-Reset), a 429 for its Retry-After and is
// retried, a 5xx ends the connection and the live loop reconnects, and a
// 401 asks for a new token once.
func TestLiveRateLimits(t *testing.T) {
	f, srv := newFake(t)
	f.add(newPath, submission("s1", 1_763_719_100, "Acme"))
	f.add(commentsPath, comment("c1", 1_763_719_200, "acme"))
	f.script = []func(w http.ResponseWriter) bool{
		func(w http.ResponseWriter) bool {
			w.Header().Set("Retry-After", "42")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		},
		func(w http.ResponseWriter) bool { http.Error(w, "upstream", http.StatusBadGateway); return true },
		func(w http.ResponseWriter) bool {
			w.Header().Set("X-Ratelimit-Remaining", "0.0")
			w.Header().Set("X-Ratelimit-Used", "100")
			w.Header().Set("X-Ratelimit-Reset", "17")
			return false
		},
		func(w http.ResponseWriter) bool {
			http.Error(w, `{"message": "Unauthorized", "error": 401}`, http.StatusUnauthorized)
			return true
		},
	}
	s, _, slept := open(t, testConfig(t, srv), testLive())
	ps, _ := next(t, s, 2)
	if got := ids(ps); got != "t3_s1 t1_c1" {
		t.Fatalf("posts: %s", got)
	}
	var waits []string
	for _, d := range slept() {
		if d != time.Second { // the poll interval
			waits = append(waits, d.String())
		}
	}
	if strings.Join(waits, " ") != "42s 17s" {
		t.Errorf("waits %v, want 42s (Retry-After of the 429) then 17s (the window's reset)", waits)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokens != 2 {
		t.Errorf("%d tokens, want a second one after the 401", f.tokens)
	}
}

// TestLiveResumesFromItsCursor: the cursor (the newest created_utc handed
// on, saved by the pipeline's checkpoint) brings a restarted source back
// to where it was, less resume_overlap: pages are followed back with
// `after` until a post older than that, and nothing older is read again.
func TestLiveResumesFromItsCursor(t *testing.T) {
	f, srv := newFake(t)
	f.pageSize = 1
	c := testConfig(t, srv)
	c.CursorFile = filepath.Join(t.TempDir(), "reddit.cursor")
	c.Listings = []string{ListingComments}
	c.ResumeOverlap = time.Minute
	f.add(commentsPath, comment("c4", 1_763_719_400, "d"), comment("c3", 1_763_719_250, "c"), comment("c2", 1_763_719_150, "b"), comment("c1", 1_763_719_000, "a"))
	if err := os.WriteFile(c.CursorFile, []byte("1763719200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, _ := open(t, c, testLive())
	ps, _ := next(t, s, 3)
	if got := ids(ps); got != "t1_c2 t1_c3 t1_c4" {
		t.Fatalf("resumed: %s, want c2 (inside the minute of overlap), c3, c4 and not c1", got)
	}
	if err := s.Checkpoint(s.Position(), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(c.CursorFile); strings.TrimSpace(string(b)) != "1763719400" {
		t.Errorf("cursor saved %q, want c4's created_utc", b)
	}
	f.mu.Lock()
	var afters int
	for _, r := range f.requests[:4] {
		if strings.Contains(r, "after=") {
			afters++
		}
	}
	f.mu.Unlock()
	if afters != 3 {
		t.Errorf("first round followed %d pages back, want 3 (to c1, older than the floor)", afters)
	}
}

// TestLiveWorstInput: a thing that is not a post or has a bad id is a dead
// letter, a page over max_message ends the connection with the reason
// (and, after max_failures of them, the source).
func TestLiveWorstInput(t *testing.T) {
	f, srv := newFake(t)
	f.add(commentsPath, comment("x!y", 1_763_719_100, "bad id"), comment("c1", 1_763_719_200, strings.Repeat("acme ", 10)))
	c := testConfig(t, srv)
	c.Listings = []string{ListingComments}
	s, _, _ := open(t, c, testLive())
	ps, rej := next(t, s, 2)
	if len(ps) != 1 || len(rej) != 1 || !strings.Contains(rej[0].Reason, "not a Reddit id") || !strings.HasPrefix(rej[0].Reason, "reddit: ") {
		t.Fatalf("posts %s, dead letters %v", ids(ps), rej)
	}
	// After the first round (a floor is set): a comment without a date and
	// a child that is not an object are dead letters, once each, never
	// dropped in silence.
	undated := comment("c9", 0, "no date")
	delete(undated["data"].(map[string]any), "created_utc")
	f.add(commentsPath, map[string]any{"kind": "t1", "data": "not an object"}, undated)
	ps, rej = next(t, s, 2)
	if len(ps) != 0 || len(rej) != 2 {
		t.Fatalf("posts %s, dead letters %v", ids(ps), rej)
	}
	time.Sleep(50 * time.Millisecond)
	ctx0, cancel0 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel0()
	if b, _ := s.Next(ctx0, 100); len(b.Items)+len(b.Rejected) != 0 {
		t.Errorf("read again: %d posts, dead letters %v", len(b.Items), b.Rejected)
	}
	s.Close()

	f2, srv2 := newFake(t)
	f2.add(commentsPath, comment("c1", 1_763_719_200, strings.Repeat("acme ", 1000)))
	lc := testLive()
	lc.MaxMessage, lc.MaxFailures = 2048, 2
	s2, _, _ := open(t, testConfig(t, srv2), lc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s2.Next(ctx, 10)
	if err == nil || !strings.Contains(err.Error(), "over max_message") {
		t.Fatalf("oversized page: %v", err)
	}
}

// TestLiveConfig: credentials are checked at start, and every key is
// bounded.
func TestLiveConfig(t *testing.T) {
	_, srv := newFake(t)
	good := testConfig(t, srv)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(c *Config){
		"subreddits":                       func(c *Config) { c.Subreddits = []string{"r/gadgets"} },
		"subreddits: 0":                    func(c *Config) { c.Subreddits = nil },
		"listings":                         func(c *Config) { c.Listings = []string{"hot"} },
		"client_id":                        func(c *Config) { c.ClientID = "" },
		"client_secret_file":               func(c *Config) { c.ClientSecretFile = "/nonexistent/secret" },
		"client_secret_file: set together": func(c *Config) { c.ClientSecret = secret.New("inline") },
		"client_secret_env":                func(c *Config) { c.ClientSecretFile, c.ClientSecretEnv = "", "EARSHOT_TEST_UNSET_REDDIT" },
		"password":                         func(c *Config) { c.Password = secret.New("pw") },
		"user_agent":                       func(c *Config) { c.UserAgent = " " },
		"poll_interval":                    func(c *Config) { c.PollInterval = time.Millisecond },
		"max_pages":                        func(c *Config) { c.MaxPages = 1e9 },
		"resume_overlap":                   func(c *Config) { c.ResumeOverlap = -time.Second },
		"api_url":                          func(c *Config) { c.APIURL = "ftp://x" },
	}
	for want, mod := range cases {
		c := good
		mod(&c)
		err := errors.Join(c.Validate(), c.ReadSecrets()) // ReadSecrets: the files and variables, in the ingest process
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
		if _, err := newPoller(c, testLive(), canon.NewNormalizer(), nil); err == nil {
			t.Errorf("%s: the source opened", want)
		}
	}
	if s := fmt.Sprintf("%+v", Config{ClientSecret: secret.New("hunter2")}); strings.Contains(s, "hunter2") {
		t.Errorf("an inline secret prints: %s", s)
	}
}

// TestLiveQuietSubredditKeepsGoing: polls that answer with nothing new
// count as working connections, so occasional 5xx on a quiet subreddit
// never add up to max_failures.
func TestLiveQuietSubredditKeepsGoing(t *testing.T) {
	f, srv := newFake(t)
	c := testConfig(t, srv)
	c.Listings = []string{ListingComments}
	ok := func(w http.ResponseWriter) bool { return false }
	bad := func(w http.ResponseWriter) bool { http.Error(w, "upstream", http.StatusBadGateway); return true }
	for range 5 {
		f.script = append(f.script, ok, bad)
	}
	lc := testLive()
	lc.MaxFailures = 2
	s, _, _ := open(t, c, lc)
	go func() {
		time.Sleep(200 * time.Millisecond)
		f.add(commentsPath, comment("c1", 1_763_719_200, "at last"))
	}()
	ps, _ := next(t, s, 1)
	if ids(ps) != "t1_c1" {
		t.Fatalf("posts %s", ids(ps))
	}
}
