package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/ingest/canon"
)

// TestStopWaitsForPushesInFlight: the API stops before the pipeline, so a
// push still waiting for its batch to be handed on when the API is told to
// stop gets its answer (202 once handed on), however long past the API's
// grace for other requests that takes, up to ingest.push.ack_timeout; it
// is neither cut nor answered with an empty 200. Nothing else waits: Serve
// returns once the push is answered.
func TestStopWaitsForPushesInFlight(t *testing.T) {
	cfg := ingest.DefaultPushConfig()
	cfg.Addr, cfg.AckTimeout = "", 20*time.Second
	push, err := ingest.NewPush(cfg, canon.NewNormalizer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Push, d.PushWait = func() PushTarget { return push }, cfg.AckTimeout })
	e.srv.shutdownGrace = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()

	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/posts", strings.NewReader(`{"platform":"x","id":"1","text":"acme","created_at":"2026-01-01T00:00:00Z"}`))
		req.Header.Set("Authorization", "Bearer "+e.tok["ingest"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answered <- answer{code: res.StatusCode, body: string(b)}
	}()
	// The pipeline takes the batch; then the API is told to stop.
	tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b, err := push.Next(tctx, 500); err != nil || len(b.Items) != 1 {
		t.Fatalf("the pipeline took %d posts: %v", len(b.Items), err)
	}
	stop()
	time.Sleep(500 * time.Millisecond) // well past the grace
	select {
	case a := <-answered:
		t.Fatalf("answered before the batch was handed on: %+v", a)
	case err := <-served:
		t.Fatalf("Serve returned with a push in flight: %v", err)
	default:
	}
	if err := push.Checkpoint(push.Position(), false); err != nil { // handed on
		t.Fatal(err)
	}
	select {
	case a := <-answered:
		if a.err != nil || a.code != http.StatusAccepted {
			t.Errorf("push answered %d %q (%v), want 202", a.code, a.body, a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer once handed on")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Serve did not return once the push was answered")
	}
}
