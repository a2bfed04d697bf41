package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

func testPush(t *testing.T, mod func(*PushConfig)) *Push {
	t.Setenv("PUSH_TOKEN_ACME", "acme-token-0123456789")
	t.Setenv("PUSH_TOKEN_GLOBEX", "globex-token-0123456789")
	cfg := DefaultPushConfig()
	cfg.Tenants = []PushTenant{{Name: "acme", TokenEnv: "PUSH_TOKEN_ACME"}, {Name: "globex", TokenEnv: "PUSH_TOKEN_GLOBEX"}}
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return testNow }
	p, err := NewPush(cfg, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pumped plays the pipeline: it takes every request's batch and hands it
// on at once (Checkpoint), keeping the batches.
type pumped struct {
	mu      sync.Mutex
	batches []post.Batch
}

func pump(t *testing.T, p *Push) *pumped {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	pu := &pumped{}
	go func() {
		defer close(done)
		for {
			b, err := p.Next(ctx, 100)
			if err != nil {
				return
			}
			pu.mu.Lock()
			pu.batches = append(pu.batches, b)
			pu.mu.Unlock()
			if err := p.Checkpoint(p.Position(), false); err != nil {
				t.Error(err)
			}
		}
	}()
	return pu
}

func (pu *pumped) all() []post.Batch {
	pu.mu.Lock()
	defer pu.mu.Unlock()
	return slices.Clone(pu.batches)
}

type pushReq struct {
	token, tenant, key, encoding string
	body                         []byte
}

func (p *Push) do(r pushReq) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/posts", bytes.NewReader(r.body))
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.tenant != "" {
		req.Header.Set("X-Earshot-Tenant", r.tenant)
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	if r.encoding != "" {
		req.Header.Set("Content-Encoding", r.encoding)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, req)
	return w
}

const pushBody = `{"platform":"f","id":"1","text":"hello","created_at":"2026-11-01T10:00:00Z"}
{"data":{"id":"7","text":"tweet","created_at":"2026-11-01T10:00:00.000Z"}}
{"platform":"f","id":"2",
`

func TestPushAuthAndBody(t *testing.T) {
	p := testPush(t, nil)
	pu := pump(t, p)
	acme := "acme-token-0123456789"
	gzipped := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	bomb := gzipped(bytes.Repeat([]byte("a"), 16<<20)) // 16 MiB in about 16 KiB, over the 8 MiB limit
	for _, c := range []struct {
		name   string
		req    pushReq
		status int
		want   string
	}{
		{"no token", pushReq{body: []byte(pushBody)}, 401, "bearer token"},
		{"unknown token", pushReq{token: "nope-nope-nope-nope", body: []byte(pushBody)}, 401, "bearer token"},
		{"another tenant's token", pushReq{token: acme, tenant: "globex", body: []byte(pushBody)}, 403, "not this tenant's"},
		{"over max body", pushReq{token: acme, body: bytes.Repeat([]byte("x"), 9<<20)}, 413, "body over"},
		{"gzip bomb", pushReq{token: acme, encoding: "gzip", body: bomb}, 413, "body over"},
		{"bad gzip", pushReq{token: acme, encoding: "gzip", body: []byte("not gzip")}, 400, "gzip"},
		{"accepted with a refused line", pushReq{token: acme, tenant: "acme", body: []byte(pushBody)}, 202, `"accepted":2,"rejected":[{"line":3,"reason":"malformed JSON`},
		{"gzip accepted", pushReq{token: acme, encoding: "gzip", body: gzipped([]byte(pushBody))}, 202, `"accepted":2`},
		{"JSON array", pushReq{token: acme, body: []byte(` [{"platform":"f","id":"3","text":"a","created_at":"2026-11-01T10:00:00Z"}, {"platform":"f","text":"no id","created_at":"2026-11-01T10:00:00Z"}]`)}, 202, `"accepted":1,"rejected":[{"line":2,`},
		{"broken JSON array", pushReq{token: acme, body: []byte(`[{"platform":"f"`)}, 400, "not a JSON array"},
	} {
		w := p.do(c.req)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, w.Code, w.Body.String(), c.status, c.want)
		}
	}
	b, err := pu.all()[0], error(nil)
	if err != nil || len(b.Items) != 2 || len(b.Rejected) != 1 || b.Items[0].Post.Source != "push:acme" || !strings.Contains(b.Rejected[0].Reason, "push acme line 3") {
		t.Errorf("Next = %+v, %v", b, err)
	}
}

func TestPushLimits(t *testing.T) {
	p := testPush(t, func(c *PushConfig) { c.QueueSize, c.Rate, c.Burst = 2, 1, 3 })
	now := testNow
	p.now = func() time.Time { return now }
	acme := "acme-token-0123456789"
	// the queue holds two requests, waiting to be handed on; the third is
	// pushed back
	var first sync.WaitGroup
	for range 2 {
		first.Go(func() {
			if w := p.do(pushReq{token: acme, body: []byte(pushBody)}); w.Code != 202 {
				t.Errorf("a queued request: %d %s", w.Code, w.Body)
			}
		})
	}
	for p.waitingNow() < 2 {
		time.Sleep(time.Millisecond)
	}
	w := p.do(pushReq{token: acme, body: []byte(pushBody)})
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Errorf("backpressure: %d %q, want 429 with Retry-After 1", w.Code, w.Header().Get("Retry-After"))
	}
	// taken by the pipeline but not yet handed on, they still count
	p.Next(context.Background(), 10)
	if w := p.do(pushReq{token: acme, body: []byte(pushBody)}); w.Code != 429 {
		t.Errorf("a request taken, none handed on: %d, want 429", w.Code)
	}
	pump(t, p)
	first.Wait()
	// burst 3 spent: the rate limit answers with how long to wait
	w = p.do(pushReq{token: acme, body: []byte(pushBody)})
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "rate limit") {
		t.Errorf("over the rate: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}
	// another tenant has its own bucket
	if w := p.do(pushReq{token: "globex-token-0123456789", body: []byte("\n")}); w.Code != 202 {
		t.Errorf("other tenant: %d", w.Code)
	}
	now = now.Add(2 * time.Second)
	if w := p.do(pushReq{token: acme, body: []byte(pushBody)}); w.Code != 202 {
		t.Errorf("after waiting and draining: %d %s", w.Code, w.Body.String())
	}
}

func TestPushIdempotency(t *testing.T) {
	p := testPush(t, nil)
	pu := pump(t, p)
	acme := "acme-token-0123456789"
	first := p.do(pushReq{token: acme, key: "k1", body: []byte(pushBody)})
	again := p.do(pushReq{token: acme, key: "k1", body: []byte(pushBody)})
	if first.Code != 202 || again.Code != 202 || again.Header().Get("Idempotent-Replayed") != "true" || again.Body.String() != first.Body.String() {
		t.Errorf("replay: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	// the same key from another tenant is another request
	if w := p.do(pushReq{token: "globex-token-0123456789", key: "k1", body: []byte(pushBody)}); w.Header().Get("Idempotent-Replayed") != "" {
		t.Error("a key was shared across tenants")
	}
	queued := 0
	for _, b := range pu.all() {
		queued += len(b.Items)
	}
	if queued != 4 {
		t.Errorf("%d posts queued, want 4: the replay must not queue its posts again", queued)
	}
}

// send does r as the pipeline sees it: the request's batch, if it queues
// one, is taken (Next) and handed on (Checkpoint). It returns the answer
// and that batch.
func (p *Push) send(r pushReq) (*httptest.ResponseRecorder, post.Batch) {
	res := make(chan *httptest.ResponseRecorder, 1)
	go func() { res <- p.do(r) }()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan post.Batch, 1)
	go func() {
		b, err := p.Next(ctx, 100)
		if err == nil {
			p.Checkpoint(p.Position(), false)
		}
		got <- b
	}()
	w := <-res
	cancel()
	return w, <-got
}

// waitingNow is how many requests wait to be handed on.
func (p *Push) waitingNow() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiting)
}
