package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPushIdempotencyKeyWithAnotherBody: a key reused with a different body
// is a client error (422), not a 202 whose posts are silently dropped; the
// same body (even gzipped) is the replay; after the key's time to live the
// key is free again and the body is taken as a new request.
func TestPushIdempotencyKeyWithAnotherBody(t *testing.T) {
	p := testPush(t, nil)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	acme := "acme-token-0123456789"
	other := []byte(`{"platform":"f","id":"9","text":"acme lawsuit fraud","created_at":"2026-11-01T10:00:00Z"}` + "\n")
	queued := 0
	send := func(r pushReq) *httptest.ResponseRecorder {
		w, b := p.send(r)
		queued += len(b.Items)
		return w
	}
	first := send(pushReq{token: acme, key: "k1", body: []byte(pushBody)})
	if first.Code != 202 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	w := send(pushReq{token: acme, key: "k1", body: other})
	if w.Code != 422 || w.Header().Get("Idempotent-Replayed") != "" || !strings.Contains(w.Body.String(), "Idempotency-Key") {
		t.Errorf("the key with another body: %d %s, want 422 naming the key", w.Code, w.Body)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(pushBody))
	zw.Close()
	if w := send(pushReq{token: acme, key: "k1", body: gz.Bytes(), encoding: "gzip"}); w.Code != 202 || w.Header().Get("Idempotent-Replayed") != "true" || w.Body.String() != first.Body.String() {
		t.Errorf("the same body gzipped: %d %s", w.Code, w.Body)
	}
	if n := queued; n != 2 {
		t.Errorf("%d posts queued, want the first request's 2 only", n)
	}
	now = now.Add(p.cfg.IdempotencyTTL + time.Second)
	if w := send(pushReq{token: acme, key: "k1", body: other}); w.Code != 202 || w.Header().Get("Idempotent-Replayed") != "" {
		t.Errorf("the key after its time to live, another body: %d %s, want a new request", w.Code, w.Body)
	}
	if n := queued - 2; n != 1 {
		t.Errorf("%d posts queued after expiry, want 1", n)
	}
}

// TestPushIdempotencyBytesBounded: the answers kept for replay are bounded
// in bytes as well as in count: requests whose answers list many rejected
// lines do not grow the store past its budget.
func TestPushIdempotencyBytesBounded(t *testing.T) {
	p := testPush(t, func(c *PushConfig) { c.QueueSize = 10_000; c.Rate = 1e6; c.Burst = 1e6 })
	pump(t, p)
	var body strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&body, `{"platform":"f","id":"%d"}`+"\n", i) // no created_at: every line rejected
	}
	acme := "acme-token-0123456789"
	for i := range 400 {
		if w := p.do(pushReq{token: acme, key: fmt.Sprint("k", i), body: []byte(body.String())}); w.Code != 202 {
			t.Fatalf("request %d: %d %.200s", i, w.Code, w.Body)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for _, e := range p.idem {
		total += len(e.body)
	}
	if total > idempotencyBytes {
		t.Errorf("%d bytes of answers kept for %d keys, over the budget of %d", total, len(p.idem), idempotencyBytes)
	}
}
