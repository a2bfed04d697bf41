package live

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// Metrics are the live connectors' Prometheus metrics, labelled by source
// (bluesky, mastodon, x, file, push: a bounded set) and, for posts and skipped records,
// by a bounded kind.
type Metrics struct {
	events     *prometheus.CounterVec
	posts      *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	dead       *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	lag        *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg; a nil reg keeps them
// unregistered, which makes them no-ops for the outside.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_ingest_events_total",
			Help: "Records received from a live source, whatever they were."}, []string{"source"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_ingest_posts_total",
			Help: "Canonical posts produced, by kind (post, edit, delete)."}, []string{"source", "kind"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_ingest_skipped_events_total",
			Help: "Records that carry no post (likes, follows, notifications…), by kind."}, []string{"source", "kind"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_ingest_dead_letters_total",
			Help: "Records refused, each sent on as a dead letter with its reason."}, []string{"source"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_ingest_reconnects_total",
			Help: "Connections that ended and were retried."}, []string{"source"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "earshot_ingest_lag_seconds",
			Help: "How far behind the source's clock the newest record received is."}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.posts, m.skipped, m.dead, m.reconnects, m.lag)
	}
	return m
}

type sourceMetrics struct {
	events, dead, reconnects prometheus.Counter
	posts, skipped           *prometheus.CounterVec
	lag                      prometheus.Gauge
}

func (m *Metrics) source(name string) *sourceMetrics {
	l := prometheus.Labels{"source": name}
	return &sourceMetrics{
		events: m.events.With(l), dead: m.dead.With(l), reconnects: m.reconnects.With(l),
		posts: m.posts.MustCurryWith(l), skipped: m.skipped.MustCurryWith(l), lag: m.lag.With(l),
	}
}

// Reconnects returns the reconnect counter of a source, for tests and
// progress reports.
func (m *Metrics) Reconnects(source string) prometheus.Counter {
	return m.reconnects.WithLabelValues(source)
}

// Skipped returns the counter of skipped records of a kind.
func (m *Metrics) Skipped(source, kind string) prometheus.Counter {
	return m.skipped.WithLabelValues(source, kind)
}

// Counted wraps a source that keeps no metrics of its own (a file, the
// push endpoint), so every source reports the same events, posts and dead
// letters under its name. Lag is left out: a replayed file is behind by
// design.
func (m *Metrics) Counted(name string, src stream.Source) stream.Source {
	c := counted{Source: src, m: m.source(name)}
	if cp, ok := src.(stream.Checkpointer); ok {
		return countedCheckpointer{c, cp} // stream.Checkpointer passed on
	}
	return c
}

type counted struct {
	stream.Source
	m *sourceMetrics
}

func (c counted) Next(ctx context.Context, max int) (post.Batch, error) {
	b, err := c.Source.Next(ctx, max)
	c.count(b)
	return b, err
}

// Drain passes stream.Drainer on to the counted source.
func (c counted) Drain() post.Batch {
	d, ok := c.Source.(stream.Drainer)
	if !ok {
		return post.Batch{}
	}
	b := d.Drain()
	c.count(b)
	return b
}

func (c counted) count(b post.Batch) {
	c.m.events.Add(float64(len(b.Items) + len(b.Rejected)))
	c.m.dead.Add(float64(len(b.Rejected)))
	for _, it := range b.Items {
		kind := it.Post.Kind
		if kind == "" {
			kind = "post"
		}
		c.m.posts.WithLabelValues(kind).Inc()
	}
}

// countedCheckpointer is a counted source that keeps a checkpoint.
type countedCheckpointer struct {
	counted
	cp stream.Checkpointer
}

func (c countedCheckpointer) Position() any { return c.cp.Position() }
func (c countedCheckpointer) Checkpoint(pos any, force bool) error {
	return c.cp.Checkpoint(pos, force)
}

// Lag returns the lag gauge of a source.
func (m *Metrics) Lag(source string) prometheus.Gauge {
	return m.lag.WithLabelValues(source)
}
