package mastodon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
)

// sseServer serves the SSE transcript in Mastodon's framing. Connection n
// follows script[n]: cut after some events, stall, or send garbage first.
type sseServer struct {
	blocks   []string // "event: …\ndata: …" blocks of the transcript
	script   []sseStep
	conns    atomic.Int32
	backfill string // a status only the timeline has: it was posted while the stream was down
	mu       sync.Mutex
	minIDs   []string // min_id of every backfill request, in order
}

type sseStep struct {
	cutAfter, stallAfter int
	garbage              bool
}

func (s *sseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/timelines/") {
		s.mu.Lock()
		s.minIDs = append(s.minIDs, r.URL.Query().Get("min_id"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("[" + s.backfill + "]"))
		return
	}
	if r.URL.Path != "/api/v1/streaming/public" {
		http.NotFound(w, r)
		return
	}
	n := int(s.conns.Add(1)) - 1
	var st sseStep
	if n < len(s.script) {
		st = s.script[n]
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	w.Write([]byte(":)\n\n"))
	fl.Flush()
	if st.garbage {
		w.Write([]byte("event: update\ndata: {\"id\": \"1\", \"content\": \n\nevent: update\ndata: \xff\xfe\n\n"))
	}
	for i, b := range s.blocks {
		if st.cutAfter > 0 && i == st.cutAfter {
			panic(http.ErrAbortHandler)
		}
		if st.stallAfter > 0 && i == st.stallAfter {
			<-r.Context().Done()
			return
		}
		w.Write([]byte(b + "\n\n:thump\n\n"))
		fl.Flush()
	}
	// Idle but alive, as Mastodon is: a heartbeat comment now and then, so
	// only the scripted stall looks like one, however slow the machine.
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
			w.Write([]byte(":thump\n\n"))
			fl.Flush()
		}
	}
}

func sseBlocks(t *testing.T) []string {
	b, err := os.ReadFile("../testdata/mastodon/events.sse.txt")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, blk := range strings.Split(string(b), "\n\n") {
		if strings.HasPrefix(blk, "event:") {
			blocks = append(blocks, blk)
		}
	}
	return blocks
}

func TestStreamingServers(t *testing.T) {
	blocks := sseBlocks(t)
	gap, _ := json.Marshal(map[string]any{"id": "113000000000000050", "created_at": "2026-11-20T10:30:00.000Z", "content": "<p>posted during the outage</p>", "account": map[string]any{"id": "9", "acct": "late"}})
	a := &sseServer{blocks: blocks, script: []sseStep{{cutAfter: 2}, {garbage: true}}, backfill: string(gap)}
	b := &sseServer{blocks: blocks, script: []sseStep{{stallAfter: 1}}}
	sa, sb := httptest.NewServer(a), httptest.NewServer(b)
	defer sa.Close()
	defer sb.Close()
	cfg := Config{Servers: []Server{{URL: sa.URL, Stream: "public"}, {URL: sb.URL, Stream: "public"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lc := live.DefaultConfig()
	lc.IdleTimeout, lc.MinBackoff, lc.MaxBackoff = 300*time.Millisecond, 5*time.Millisecond, 20*time.Millisecond
	m := live.NewMetrics(prometheus.NewRegistry())
	src, err := Open(cfg, lc, canon.NewNormalizer(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	hostA, hostB := mustHost(t, sa.URL), mustHost(t, sb.URL)
	got := map[string]int{}
	var reasons []string
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// per server: 5 statuses + 2 deletes; a also backfills the gap
	for len(got) < 15 || len(reasons) < 2 {
		bt, err := src.Next(ctx, 10)
		if err != nil {
			t.Fatalf("got %v, dead letters %q: %v", got, reasons, err)
		}
		for _, it := range bt.Items {
			got[it.Post.Kind+" "+it.Post.Key()]++
		}
		for _, r := range bt.Rejected {
			reasons = append(reasons, r.Reason)
		}
	}
	for _, k := range []string{
		" mastodon:" + hostA + "/113000000000000001", "edit mastodon:" + hostA + "/113000000000000001",
		"delete mastodon:" + hostB + "/113000000000000003", " mastodon:" + hostA + "/113000000000000050",
		" mastodon:" + hostB + "/113000000000000005",
	} {
		if got[k] != 1 {
			t.Errorf("%q handed on %d times; got %v", k, got[k], got)
		}
	}
	if r := strings.Join(reasons, "\n"); !strings.Contains(r, "malformed JSON") || !strings.Contains(r, "invalid UTF-8") {
		t.Errorf("dead letters %q", reasons)
	}
	// The first backfill follows the cut; later reconnects (the garbage
	// step) backfill again from what they have seen by then.
	a.mu.Lock()
	ids := slices.Clone(a.minIDs)
	a.mu.Unlock()
	if len(ids) == 0 || ids[0] != "113000000000000002" {
		t.Errorf("backfills asked for min_id %q, want the first to be the newest status seen before the cut", ids)
	}
	if n := testutil.ToFloat64(m.Reconnects("mastodon")); n < 2 {
		t.Errorf("reconnects = %v, want at least 2 (cut, stall)", n)
	}
	// skipped events are counted, not queued: give the readers a moment
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && testutil.ToFloat64(m.Skipped("mastodon", "notification")) < 2; {
		time.Sleep(10 * time.Millisecond)
	}
	if n := testutil.ToFloat64(m.Skipped("mastodon", "notification")); n < 2 {
		t.Errorf("notifications skipped = %v, want one per server", n)
	}
}

func mustHost(t *testing.T, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}
