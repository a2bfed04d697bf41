package ingest

import (
	"context"
	"strings"
	"testing"
	"time"
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
			w := p.do(pushReq{token: "acme-token-0123456789", tenant: "acme", body: []byte(body)})
			if w.Code != 202 || !strings.Contains(w.Body.String(), `"accepted":1,"rejected":[{"line":2,"reason":"invalid UTF-8 at byte`) {
				t.Fatalf("%d %s, want line 2 refused for its invalid UTF-8", w.Code, w.Body.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			b, err := p.Next(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Items) != 1 || b.Items[0].Post.Text != "ok" || len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Reason, "push acme line 2: invalid UTF-8") {
				t.Errorf("queued %d posts and dead letters %+v", len(b.Items), b.Rejected)
			}
		})
	}
}
