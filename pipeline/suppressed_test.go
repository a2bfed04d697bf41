package pipeline

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
)

// Every suppressed post is counted by reason on
// earshot_route_suppressed_total, and no suppression reaches a queue.
func TestSuppressionsCounted(t *testing.T) {
	dir := t.TempDir()
	policy := "queues: [care]\nrules:\n  - name: quiet\n    suppress: do not respond\n"
	if err := os.WriteFile(filepath.Join(dir, "routing.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy = filepath.Join(dir, "routing.yaml")
	cfg.Sink.Enabled = false
	cfg.Ingest.Source = "synthetic"
	cfg.Ingest.Synthetic.Rate, cfg.Ingest.Synthetic.BrandRate, cfg.Ingest.Synthetic.Limit = 0, 1, 200
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg := prometheus.NewRegistry()
	var alerts atomic.Int64
	taps := Taps{Alert: func(*post.Item) { alerts.Add(1) }}
	p, err := New(ctx, cfg, AllStages, taps, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := testutil.GatherAndCount(reg, "earshot_route_suppressed_total")
	if err != nil || n != 1 {
		t.Fatalf("earshot_route_suppressed_total series = %d (%v), want 1 (one reason)", n, err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "earshot_route_suppressed_total" {
			m := mf.GetMetric()[0]
			if m.GetLabel()[0].GetValue() != "do not respond" || m.GetCounter().GetValue() < 1 {
				t.Errorf("counter = %v", m)
			}
		}
	}
	if n := alerts.Load(); n != 0 {
		t.Errorf("%d alerts from a policy that suppresses everything", n)
	}
}
