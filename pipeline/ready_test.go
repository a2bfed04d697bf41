package pipeline

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestReadyzGoesRedWhileAStageIsStalled: with ClickHouse unreachable the
// sink retries its batch for ever and no post moves; the metrics server's
// /readyz must say so (503, naming the stage) once the oldest batch in
// flight is older than metrics.stalled_after, while /healthz (liveness)
// stays 200: restarting the process would not bring ClickHouse back.
func TestReadyzGoesRedWhileAStageIsStalled(t *testing.T) {
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy, cfg.Route.Org = "../deploy/examples/routing.yaml", "../deploy/examples/org.yaml"
	cfg.Metrics.Addr = "127.0.0.1:0"
	cfg.Metrics.StalledAfter = time.Second
	cfg.Ingest.Synthetic.Rate, cfg.Ingest.Synthetic.BrandRate = 200, 0.5
	cfg.Sink.Enabled, cfg.Sink.Addr, cfg.Sink.Database = true, []string{"127.0.0.1:9"}, "r13_never"
	cfg.Runner.ShutdownTimeout = time.Second
	p, err := NewProcess(context.Background(), cfg, ProcessOptions{Name: Run, Alerts: io.Discard, Progress: time.Hour, ProgressTo: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + p.MetricsAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := p.Run(ctx); done <- err }()
	defer func() { cancel(); <-done }()

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Served from the start (200 until a batch is old; on a loaded
	// machine the sink may already be stalled past a second).
	if code, body := get("/readyz"); code != http.StatusOK && code != http.StatusServiceUnavailable {
		t.Errorf("at start: /readyz %d %q, want 200 or 503", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	var code int
	var body string
	for time.Now().Before(deadline) {
		if code, body = get("/readyz"); code == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "sink") {
		t.Errorf("sink stalled: /readyz %d %q, want 503 naming the sink", code, body)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Errorf("sink stalled: /healthz %d %q, want 200 (alive)", code, body)
	}
}

func TestMetricsStalledAfterBounds(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, 500 * time.Millisecond, time.Duration(1 << 62), 25 * time.Hour} {
		cfg := Default()
		cfg.Metrics.StalledAfter = d
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "metrics.stalled_after") {
			t.Errorf("metrics.stalled_after %v: %v", d, err)
		}
	}
	if d := Default().Metrics.StalledAfter; d != 2*time.Minute {
		t.Errorf("default metrics.stalled_after %v, want 2m", d)
	}
}
