package pipeline

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// Suppressed names the topic of suppression records, from route to the
// sink: each post a routing rule decided not to respond to.
func (t Topics) Suppressed() string { return t.prefix + ".suppressed" }

// routeTopic sends suppression records to the suppressed topic and alerts
// to their queue's.
func (t Topics) routeTopic(it *post.Item) string {
	if it.Suppression != nil {
		return t.Suppressed()
	}
	return t.Alerts(it.Alert.Queue)
}

// countSuppressed wraps the route stage: it counts the suppression records
// it passes on, by the rule's reason (a label bounded by the policy's
// rules). A redelivered post is counted again; the sink's table is not.
func countSuppressed(stage stream.Stage, reg prometheus.Registerer) stream.Stage {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "earshot_route_suppressed_total",
		Help: "Posts a routing rule suppressed (\"do not respond\"), by the rule's reason.",
	}, []string{"reason"})
	reg.MustRegister(c)
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		out, err := stage(ctx, in)
		for _, it := range out.Items {
			if it.Suppression != nil {
				c.WithLabelValues(it.Suppression.Reason).Inc()
			}
		}
		return out, err
	}
}
