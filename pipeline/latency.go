package pipeline

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// alertLatencyBuckets have an edge at 50 ms, the post→alert p99 the
// benchmarks hold a quiet deployment to (docs/capacity.md), so that the
// share of alerts within it is read exactly, and reach a minute for a
// backlog after an outage.
var alertLatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// observeAlertLatency wraps the route stage: for each new alert it passes
// on, it observes the time since its post was ingested (post.IngestedAt,
// stamped by ingest: across hosts, their clocks' skew is in it), by queue
// (a label bounded by the routing policy). Retractions and volume-spike
// alerts (whose post is the spike's first, old by design) are left out; a
// redelivered post is observed again, with the delay it really had.
func observeAlertLatency(stage stream.Stage, reg prometheus.Registerer) stream.Stage {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "earshot_route_alert_latency_seconds",
		Help:    "Time from a post's ingest to its alert leaving the route stage, by queue (new alerts; not retractions or volume spikes).",
		Buckets: alertLatencyBuckets,
	}, []string{"queue"})
	reg.MustRegister(h)
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		out, err := stage(ctx, in)
		now := time.Now()
		for _, it := range out.Items {
			a := it.Alert
			if a == nil || a.Retracted || a.Spike != nil || it.Post == nil || it.Post.IngestedAt.IsZero() {
				continue
			}
			h.WithLabelValues(a.Queue).Observe(now.Sub(it.Post.IngestedAt).Seconds())
		}
		return out, err
	}
}
