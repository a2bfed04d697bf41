package stream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// Metrics are the pipeline's health signals, per stage.
type Metrics struct {
	reg          prometheus.Registerer
	batchSeconds *prometheus.HistogramVec
}

// NewMetrics registers the stream metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		batchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "earshot_stream_batch_duration_seconds",
			Help:    "Time from fetching a batch to committing it, per stage.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"stage"}),
	}
	reg.MustRegister(m.batchSeconds)
	return m
}

// Stats are a stage's running totals, and Oldest, the age of its oldest
// batch fetched (or read, for a source) and not yet committed (produced):
// 0 when nothing is in flight, rising while a stage is stalled.
type Stats struct {
	In, Out, Dead, Retries, Lag, InFlight int64
	Oldest                                time.Duration
}

// counters are a stage's totals, read by progress reports and by Prometheus.
type counters struct {
	in, out, dead, retries, inFlight, panics atomic.Int64
	deadBy                                   [len(post.Classes)]atomic.Int64 // dead, by post.Class index
	ages                                     inFlightAges
}

// inFlightAges holds when each batch in flight was fetched, so that a
// stalled stage shows as a batch growing old whatever the traffic: lag and
// in-flight counts cannot tell a stalled stage from a busy one, and a
// batch never committed is never observed by the duration histogram. At
// most a few batches are in flight (one per worker, and one fetch), so a
// map under a mutex, touched twice per batch, costs nothing measurable.
type inFlightAges struct {
	mu   sync.Mutex
	next uint64
	at   map[uint64]time.Time
}

// add records a batch fetched at t; remove(id) forgets it.
func (a *inFlightAges) add(t time.Time) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.at == nil {
		a.at = map[uint64]time.Time{}
	}
	a.next++
	a.at[a.next] = t
	return a.next
}

func (a *inFlightAges) remove(id uint64) {
	a.mu.Lock()
	delete(a.at, id)
	a.mu.Unlock()
}

// oldest is the age of the oldest batch in flight at now; 0 when none is.
func (a *inFlightAges) oldest(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var d time.Duration
	for _, t := range a.at {
		d = max(d, now.Sub(t))
	}
	return d
}

// produced counts outs, once produced, as records out or dead letters.
func (c *counters) produced(outs []Out) {
	for _, o := range outs {
		if o.Dead != nil {
			c.dead.Add(1)
			c.deadBy[o.Dead.Class.Index()].Add(1)
		} else {
			c.out.Add(1)
		}
	}
}

// register exposes c under the stage's label; lag is read on scrape.
func (m *Metrics) register(stage string, c *counters, lag func() int64) prometheus.Observer {
	if m == nil {
		return prometheus.ObserverFunc(func(float64) {})
	}
	labels := prometheus.Labels{"stage": stage}
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	cs := []prometheus.Collector{
		counter("earshot_stream_records_in_total", "Records a stage took in.", &c.in),
		counter("earshot_stream_records_out_total", "Records a stage produced.", &c.out),
		counter("earshot_stream_retries_total", "Failed attempts of a stage call, produce or commit that were retried.", &c.retries),
		counter("earshot_stream_stage_panics_total", "Panics a stage recovered from (each is a bug; the records that cause one are dead-lettered).", &c.panics),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "earshot_stream_in_flight_batches", Help: "Batches fetched and not yet committed.", ConstLabels: labels},
			func() float64 { return float64(c.inFlight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "earshot_stream_oldest_in_flight_seconds", Help: "Age of the stage's oldest batch fetched (for ingest: read) and not yet committed (produced); 0 when none is. It rises only while the stage, or the stage after it that it waits on, does not move: alert when it stays above a minute.", ConstLabels: labels},
			func() float64 { return c.ages.oldest(time.Now()).Seconds() }),
	}
	for i, class := range post.Classes {
		// every class from the start, at 0: a rate over a series that
		// appears with its first dead letter misses that letter
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "earshot_stream_dead_letters_total",
			Help:        "Records a stage sent to the dead-letter topic, by reason class (docs/guarantees.md says what to do for each).",
			ConstLabels: prometheus.Labels{"stage": stage, "class": string(class)}},
			func() float64 { return float64(c.deadBy[i].Load()) }))
	}
	if lag != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "earshot_stream_consumer_lag_records", Help: "Records between the stage's committed position and the end of its input topic: with Kafka, the consumer group's, the same in every copy of the stage (take the max, not the sum). Kafka records, which on the topics between stages carry up to transport.kafka.batch_items items each.", ConstLabels: labels},
			func() float64 { return float64(lag()) }))
	}
	for _, col := range cs {
		m.reg.MustRegister(col)
	}
	return m.batchSeconds.WithLabelValues(stage)
}
