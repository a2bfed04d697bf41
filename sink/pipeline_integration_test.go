//go:build integration

package sink_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// The embedded pipeline with the sink, end to end into the 18.16 server:
// volume counts every post the match stage saw, matched or not; every
// alert routed is in alerts_latest with its created event; the roll-ups
// agree with the tables they are fed from.
func TestPipelineFillsStorage(t *testing.T) {
	const posts = 12_000
	db := fmt.Sprintf("sink_pipeline_%d", time.Now().UnixNano()%1e9)
	root, _ := filepath.Abs("..")
	path := filepath.Join(t.TempDir(), "earshot.yaml")
	cfg := fmt.Sprintf(`transport: {kind: memory, topic_prefix: sinkpipe}
ingest:
  source: synthetic
  synthetic: {rate: 0, seed: 5, limit: %d, brand_rate: 0.1}
match: {watchlists: %s}
route: {policy: %s}
sink: {enabled: true, database: %s, username: earshot_writer, password: earshot, batch_size: 3000, flush_interval: 100ms}
`, posts, filepath.Join(root, "deploy/examples/watchlists"), filepath.Join(root, "deploy/examples/routing.yaml"), db)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := pipeline.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	alerts := map[string]bool{}
	taps := pipeline.Taps{Alert: func(it *post.Item) {
		mu.Lock()
		alerts[it.Alert.Queue+"/"+it.Alert.ID] = true
		mu.Unlock()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := pipeline.New(ctx, c, pipeline.AllStages, taps, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.DeadLetters != 0 {
		t.Fatalf("%d dead letters", st.DeadLetters)
	}

	conn, err := sink.Open(sink.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
		conn.Close()
	})
	count := func(q string) uint64 {
		t.Helper()
		var n uint64
		if err := conn.QueryRow(context.Background(), fmt.Sprintf(q, db)).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count("SELECT sum(posts) FROM %s.volume_per_minute"); n != posts {
		t.Errorf("volume_per_minute: %d posts, want all %d", n, posts)
	}
	if n, want := count("SELECT count() FROM %s.alerts_latest"), uint64(len(alerts)); n != want || n == 0 {
		t.Errorf("alerts_latest: %d alerts, want the %d distinct alerts routed", n, want)
	}
	if n, want := count("SELECT count() FROM %s.alert_events FINAL WHERE event = 'created'"), uint64(len(alerts)); n != want {
		t.Errorf("alert_events: %d created, want %d", n, want)
	}
	matched := count("SELECT count() FROM %s.matches_dedup")
	if n := count("SELECT sum(mentions) FROM %s.mentions_hourly"); n != matched || n == 0 {
		t.Errorf("mentions_hourly: %d, want %d (matches_dedup)", n, matched)
	}
	if n, want := count("SELECT sum(mentions) FROM %s.terms_daily"), count("SELECT count() FROM (SELECT DISTINCT post_key, watchlist, toDate(created_at), arrayJoin(keywords) FROM %s.matches_dedup)"); n != want || n == 0 {
		t.Errorf("terms_daily: %d, want %d", n, want)
	}
}
