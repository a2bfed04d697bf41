package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPushAnswersOnceHandedOn: a request is answered 202 only once its
// batch is handed on (Checkpoint of its position), not when it is queued
// nor when the pipeline takes it: a crash before then loses nothing the
// sender was told was taken.
func TestPushAnswersOnceHandedOn(t *testing.T) {
	p := testPush(t, nil)
	acme := "acme-token-0123456789"
	answers := make(chan *httptest.ResponseRecorder, 2)
	go func() { answers <- p.do(pushReq{token: acme, body: []byte(pushBody)}) }()
	b1, err := p.Next(context.Background(), 100)
	if err != nil || len(b1.Items) != 2 {
		t.Fatalf("Next: %+v %v", b1, err)
	}
	first := p.Position()
	go func() { answers <- p.do(pushReq{token: acme, key: "k2", body: []byte(pushBody)}) }()
	if _, err := p.Next(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-answers:
		t.Fatalf("answered %d %s before its batch was handed on", w.Code, w.Body)
	case <-time.After(100 * time.Millisecond):
	}
	// the first request's position releases it, and it only
	if err := p.Checkpoint(first, false); err != nil {
		t.Fatal(err)
	}
	if w := <-answers; w.Code != 202 || !strings.Contains(w.Body.String(), `"accepted":2`) {
		t.Errorf("first: %d %s", w.Code, w.Body)
	}
	select {
	case w := <-answers:
		t.Fatalf("the second answered %d before its batch was handed on", w.Code)
	case <-time.After(50 * time.Millisecond):
	}
	p.Checkpoint(p.Position(), false)
	if w := <-answers; w.Code != 202 {
		t.Errorf("second: %d %s", w.Code, w.Body)
	}
	if err := p.Checkpoint("a file's offset", false); err == nil {
		t.Error("a position that is not a request's was taken")
	}
}

// TestPushAckTimeout: a batch not handed on within ack_timeout is a 503
// with Retry-After saying the posts may or may not have been taken, and
// the Idempotency-Key is not remembered with it: the retry is taken anew
// (its posts queued again) and answered 202 once handed on.
func TestPushAckTimeout(t *testing.T) {
	p := testPush(t, func(c *PushConfig) { c.AckTimeout = 50 * time.Millisecond })
	acme := "acme-token-0123456789"
	w := p.do(pushReq{token: acme, key: "k", body: []byte(pushBody)}) // nothing takes it
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "may or may not have been taken") {
		t.Fatalf("not handed on in time: %d %q %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	pu := pump(t, p)
	w = p.do(pushReq{token: acme, key: "k", body: []byte(pushBody)})
	if w.Code != 202 || w.Header().Get("Idempotent-Replayed") != "" {
		t.Errorf("the retry: %d replayed=%q %s, want a new 202", w.Code, w.Header().Get("Idempotent-Replayed"), w.Body)
	}
	// the timed-out batch went on too (a restart would have lost it, which
	// is why the sender was told to retry): 2 posts twice
	n := 0
	for _, b := range pu.all() {
		n += len(b.Items)
	}
	if n != 4 {
		t.Errorf("%d posts taken, want 4", n)
	}
	if w := p.do(pushReq{token: acme, key: "k", body: []byte(pushBody)}); w.Header().Get("Idempotent-Replayed") != "true" || w.Code != 202 {
		t.Errorf("the final answer is the key's: %d replayed=%q", w.Code, w.Header().Get("Idempotent-Replayed"))
	}
}

// TestPushAbandon: a process stopping without handing on what waits tells
// its senders so at once (503), and refuses what comes after.
func TestPushAbandon(t *testing.T) {
	p := testPush(t, nil)
	acme := "acme-token-0123456789"
	answer := make(chan *httptest.ResponseRecorder, 1)
	go func() { answer <- p.do(pushReq{token: acme, body: []byte(pushBody)}) }()
	if _, err := p.Next(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	p.Abandon()
	if w := <-answer; w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("abandoned: %d %s, want 503 with Retry-After", w.Code, w.Body)
	}
	if w := p.do(pushReq{token: acme, body: []byte(pushBody)}); w.Code != 503 {
		t.Errorf("after Abandon: %d, want 503", w.Code)
	}
}

// push.ack_timeout is required and bounded: a waiting request holds its
// connection and a place in the queue.
func TestPushAckTimeoutValidated(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, 11 * time.Minute, 1e12 * time.Millisecond} {
		c := DefaultPushConfig()
		c.Addr, c.AckTimeout = "", d
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ingest.push.ack_timeout") {
			t.Errorf("ack_timeout %v: %v", d, err)
		}
	}
}

// A request whose context ends while it waits (the client hung up, or the
// server that carries it stops) is answered 503 "may or may not have been
// taken", never left unanswered: net/http would send an empty 200 for it
// to a client still there, who would take its posts as accepted.
func TestPushContextEndIsNotAnEmptyOK(t *testing.T) {
	p := testPush(t, nil)
	for _, key := range []string{"", "key-1"} {
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, "POST", "/v1/posts", strings.NewReader(`{"platform":"x","id":"1","text":"acme","created_at":"2026-01-01T00:00:00Z"}`))
		req.Header.Set("Authorization", "Bearer acme-token-0123456789")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); p.ServeHTTP(w, req) }()
		if _, err := p.Next(context.Background(), 100); err != nil { // taken, never handed on
			t.Fatal(err)
		}
		cancel()
		<-done
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("key %q: answered %d %q, want 503 with Retry-After", key, w.Code, w.Body)
		}
	}
}
