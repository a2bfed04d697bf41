package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestSlowChannelDoesNotHoldBackAnothersDigest: a channel that hangs (a
// Slack or Teams endpoint answering in 30 s) holds its own digest for its
// tries and timeouts, not every other channel's: each channel's digests go
// out on their own, as its alerts do.
func TestSlowChannelDoesNotHoldBackAnothersDigest(t *testing.T) {
	var hang atomic.Bool
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer slow.Close()
	defer close(release)
	fast := newReceiver(t, http.StatusOK)
	limit := RateLimit{Messages: 1, Per: time.Minute}
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		// Sorted first: a digest round that goes channel by channel
		// reaches it first.
		"a-slow": {Kind: Slack, URLEnv: "A", Queues: []string{"care"}, RateLimit: limit, Timeout: 2 * time.Second, MaxAttempts: 3},
		"b-fast": {Kind: Slack, URLEnv: "B", Queues: []string{"care"}, RateLimit: limit},
	}}, map[string]string{"A": slow.URL, "B": fast.URL})
	for _, ch := range []string{"a-slow", "b-fast"} {
		var batch []*post.Item
		for i := range 3 {
			batch = append(batch, alert(fmt.Sprint(ch, i), "care", "P3", "x"))
		}
		if rej := run(t, n, ch, "care", batch...); len(rej) != 0 {
			t.Fatalf("%s: dead letters %+v", ch, rej)
		}
	}
	hang.Store(true)
	clk.add(time.Minute)
	start := time.Now()
	done := make(chan struct{})
	go func() { n.Flush(context.Background()); close(done) }()
	for len(fast.got()) < 2 && time.Since(start) < 10*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	<-done
	got := fast.got()
	if len(got) != 2 || !strings.Contains(string(got[1]), "2 more P3 alerts in care") {
		t.Fatalf("b-fast got %d messages, want its alert and its digest: %q", len(got), got)
	}
	if took > time.Second {
		t.Errorf("b-fast's digest took %v: it waited for a-slow's tries (3 × 2 s)", took)
	}
}
