package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// TestPushInvalidUTF8: a line that is not UTF-8, in NDJSON or in a JSON
// array, is refused by line in the answer and queued as a dead letter; the
// other lines of the request go on. Nothing is replaced with U+FFFD.
func TestPushInvalidUTF8(t *testing.T) {
	for name, body := range map[string]string{
		"ndjson": "{\"platform\":\"f\",\"id\":\"1\",\"text\":\"ok\",\"created_at\":\"2026-11-01T10:00:00Z\"}\n{\"platform\":\"f\",\"id\":\"2\",\"text\":\"caf\xe9\",\"created_at\":\"2026-11-01T10:00:00Z\"}\n",
		"array":  "[{\"platform\":\"f\",\"id\":\"1\",\"text\":\"ok\",\"created_at\":\"2026-11-01T10:00:00Z\"},{\"platform\":\"f\",\"id\":\"2\",\"text\":\"caf\xe9\",\"created_at\":\"2026-11-01T10:00:00Z\"}]",
	} {
		t.Run(name, func(t *testing.T) {
			p := testPush(t, nil)
			w, b := p.send(pushReq{token: "acme-token-0123456789", tenant: "acme", body: []byte(body)})
			if w.Code != 202 || !strings.Contains(w.Body.String(), `"accepted":1,"rejected":[{"line":2,"reason":"invalid UTF-8 at byte`) {
				t.Fatalf("%d %s, want line 2 refused for its invalid UTF-8", w.Code, w.Body.String())
			}
			if len(b.Items) != 1 || b.Items[0].Post.Text != "ok" || len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Reason, "push acme line 2: invalid UTF-8") {
				t.Errorf("queued %d posts and dead letters %+v", len(b.Items), b.Rejected)
			} else if c := b.Rejected[0].Class; c != post.ClassDecode {
				t.Errorf("invalid UTF-8: class %q, want decode", c)
			}
		})
	}
}

// TestPushStopHandsOnAccepted: when the run stops before the source has
// taken the queued requests, they are still produced, and only then
// answered 202; a request that comes after the stop is a 503 to retry, not
// a 202 that nothing would read.
func TestPushStopHandsOnAccepted(t *testing.T) {
	p := testPush(t, nil)
	var answered sync.WaitGroup
	for i := range 5 {
		body := fmt.Sprintf(`{"platform":"f","id":"%d","text":"t","created_at":"2026-11-01T10:00:00Z"}`, i)
		answered.Go(func() {
			if w := p.do(pushReq{token: "acme-token-0123456789", body: []byte(body)}); w.Code != 202 {
				t.Errorf("request %d: %d %s", i, w.Code, w.Body.String())
			}
		})
	}
	for p.waitingNow() < 5 {
		time.Sleep(time.Millisecond)
	}
	mem := stream.NewMemory(100)
	c, _ := mem.Consumer("g", "posts")
	out, _ := mem.Producer()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stopped before the source took any of them
	sr := &stream.SourceRunner{Name: "ingest", Src: live.NewMetrics(nil).Counted("push", p), Out: out, Topic: "posts", DeadTopic: "dead",
		BatchSize: 500, Log: slog.New(slog.DiscardHandler), Metrics: stream.NewMetrics(prometheus.NewRegistry())}
	if err := sr.Run(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	answered.Wait()
	if st := sr.Stats(); st.Out != 5 {
		t.Errorf("%d of the 5 accepted posts produced", st.Out)
	}
	fctx, fcancel := context.WithTimeout(context.Background(), time.Second)
	defer fcancel()
	if ds, _ := c.Fetch(fctx, 10, 10*time.Millisecond); len(ds) != 5 {
		t.Errorf("%d posts on the topic, want 5", len(ds))
	}
	w := p.do(pushReq{token: "acme-token-0123456789", body: []byte(`{"platform":"f","id":"late","text":"t","created_at":"2026-11-01T10:00:00Z"}`)})
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("a request after the stop: %d %s, want 503 with Retry-After", w.Code, w.Body.String())
	}
}
