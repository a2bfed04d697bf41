package x

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/post"
)

func readLines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// TestFilteredStream replays the captured stream over chunked HTTP: a 429
// first, then the lines with keep-alives, an aborted connection, a stall,
// the captured truncated line and an over-long line.
func TestFilteredStream(t *testing.T) {
	lines := readLines(t, "../testdata/x/streaming_output_with_error.jsonl")
	var conns atomic.Int32
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := conns.Add(1)
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if n == 1 {
			w.Header().Set("x-rate-limit-reset", "1700000000")
			http.Error(w, "too many connections", http.StatusTooManyRequests)
			return
		}
		fl := w.(http.Flusher)
		send := func(s string) {
			w.Write([]byte(s + "\r\n"))
			fl.Flush()
		}
		send("") // keep-alive
		switch n {
		case 2: // three lines, then the connection is cut mid-line
			for _, l := range lines[:3] {
				send(l)
			}
			w.Write([]byte(lines[3][:40]))
			fl.Flush()
			panic(http.ErrAbortHandler)
		case 3: // a backfill resends from the start; then silence
			for _, l := range lines[:5] {
				send(l)
			}
			<-r.Context().Done()
			return
		}
		send(`{"data":{"id":"9","text":"` + strings.Repeat("x", 20000) + `","created_at":"2026-11-01T00:00:00Z"}}`)
		for _, l := range lines {
			send(l)
			send("")
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	t.Setenv("X_TEST_TOKEN", "s3cret")
	cfg := DefaultConfig()
	cfg.URL, cfg.BearerTokenEnv, cfg.BackfillMinutes = srv.URL+"/2/tweets/search/stream", "X_TEST_TOKEN", 2
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lc := live.DefaultConfig()
	lc.IdleTimeout, lc.MinBackoff, lc.MaxBackoff, lc.MaxMessage = 300*time.Millisecond, 5*time.Millisecond, 20*time.Millisecond, 16<<10
	m := live.NewMetrics(prometheus.NewRegistry())
	src, err := Open(cfg, lc, canon.NewNormalizer(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	want := map[string]bool{}
	d := &Decoder{N: canon.NewNormalizer()}
	for _, l := range lines {
		evs, _ := d.Line([]byte(l), nil)
		for _, ev := range evs {
			if ev.Post != nil {
				want[ev.Post.ID] = true
			}
		}
	}
	got := map[string]int{}
	var reasons []string
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for len(got) < len(want) || len(reasons) < 2 {
		b, err := src.Next(ctx, 10)
		if err != nil {
			t.Fatalf("%d of %d posts, dead letters %.300q: %v", len(got), len(want), reasons, err)
		}
		for _, it := range b.Items {
			got[it.Post.ID]++
		}
		for _, r := range b.Rejected {
			reasons = append(reasons, r.Reason)
			// classed where the connector refuses the record
			if want := map[bool]post.Class{true: post.ClassTooBig, false: post.ClassDecode}[strings.Contains(r.Reason, "over max_message")]; r.Class != want {
				t.Errorf("dead letter %.200q: class %q, want %q", r.Reason, r.Class, want)
			}
		}
	}
	for id, n := range got {
		if !want[id] || n != 1 {
			t.Errorf("post %s handed on %d times", id, n)
		}
	}
	if r := strings.Join(reasons, "\n"); !strings.Contains(r, "over max_message") || !strings.Contains(r, "malformed JSON") {
		t.Errorf("dead letters %q; want the over-long line and the truncated one", reasons)
	}
	if n := testutil.ToFloat64(m.Reconnects("x")); n < 3 {
		t.Errorf("reconnects = %v, want at least 3 (429, cut, stall)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(queries[0], "backfill") || !strings.Contains(queries[2], "backfill_minutes=2") {
		t.Errorf("queries %q; want backfill on reconnects only", queries)
	}
}
