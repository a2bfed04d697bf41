package pipeline

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// TestPostToAlertLatencyIsObserved: post→alert latency, the number the
// capacity docs give (p50/p99 in ms), is a histogram an operator can alert
// on: one observation per new alert, by queue, with a bucket edge at the
// 50 ms the benchmarks hold it to, so the share of alerts within 50 ms is
// exact rather than interpolated.
func TestPostToAlertLatencyIsObserved(t *testing.T) {
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy, cfg.Route.Org = "../deploy/examples/routing.yaml", "../deploy/examples/org.yaml"
	cfg.Ingest.Synthetic.Rate, cfg.Ingest.Synthetic.BrandRate, cfg.Ingest.Synthetic.Limit = 0, 1, 300
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := prometheus.NewRegistry()
	var alerts atomic.Int64
	taps := Taps{Alert: func(it *post.Item) {
		if !it.Alert.Retracted && it.Alert.Spike == nil {
			alerts.Add(1)
		}
	}}
	p, err := New(ctx, cfg, AllStages, taps, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	queues := 0
	for _, mf := range mfs {
		if mf.GetName() != "earshot_route_alert_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			queues++
			h := m.GetHistogram()
			count += h.GetSampleCount()
			at50 := false
			for _, b := range h.GetBucket() {
				at50 = at50 || b.GetUpperBound() == 0.05
			}
			if !at50 {
				t.Errorf("no bucket edge at 0.05 s: %v", h.GetBucket())
			}
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != "queue" {
				t.Errorf("labels %v, want queue", m.GetLabel())
			}
		}
	}
	if alerts.Load() == 0 || count != uint64(alerts.Load()) || queues == 0 {
		t.Errorf("%d new alerts, %d latencies observed over %d queues; want one per alert", alerts.Load(), count, queues)
	}
}
