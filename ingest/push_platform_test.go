package ingest

import (
	"fmt"
	"strings"
	"testing"
)

// TestPushPlatformAndLinksAreBounded: a pushed post's platform is the
// sender's choice; "Bluesky" is taken as bluesky, while a platform of
// 100 KiB, one with a ':' (the key's separator) or a look-alike letter,
// and a hashtag or URL over its limit are refused by line and queued as
// dead letters with a short reason, never cut.
func TestPushPlatformAndLinksAreBounded(t *testing.T) {
	line := func(platform, extra string) string {
		return fmt.Sprintf(`{"platform":%q,"id":"1","text":"acme","created_at":"2026-11-01T10:00:00Z"%s}`, platform, extra)
	}
	lines := []string{
		line("Bluesky", ""),
		line(strings.Repeat("p", 100<<10), ""),
		line("x:evil", ""),
		line("bluеsky", ""), // Cyrillic е
		line("f", fmt.Sprintf(`,"hashtags":[%q]`, strings.Repeat("h", 1000))),
		line("f", fmt.Sprintf(`,"urls":[%q]`, "https://a.example/"+strings.Repeat("u", 9000))),
	}
	p := testPush(t, nil)
	pu := pump(t, p) // hands each request on at once, so it is answered
	w := p.do(pushReq{token: "acme-token-0123456789", tenant: "acme", body: []byte(strings.Join(lines, "\n") + "\n")})
	if w.Code != 202 || !strings.Contains(w.Body.String(), `"accepted":1,`) || len(w.Body.String()) > 4<<10 {
		t.Fatalf("%d %.2000s, want one accepted and a short answer", w.Code, w.Body.String())
	}
	batches := pu.all()
	if len(batches) != 1 {
		t.Fatalf("%d batches handed on, want the request's one", len(batches))
	}
	b := batches[0]
	if len(b.Items) != 1 || b.Items[0].Post.Platform != "bluesky" {
		t.Errorf("queued %d posts (%+v), want the bluesky one", len(b.Items), b.Items)
	}
	if len(b.Rejected) != 5 {
		t.Fatalf("%d dead letters, want 5", len(b.Rejected))
	}
	for _, r := range b.Rejected {
		if len(r.Reason) > 300 || !strings.Contains(r.Reason, "platform") && !strings.Contains(r.Reason, "over the limit") {
			t.Errorf("dead letter reason %.300q (%d bytes), want a short one naming the platform or the limit", r.Reason, len(r.Reason))
		}
	}
}
