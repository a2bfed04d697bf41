package stream

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// kafkaRequests counts the requests a process's readers and writers send
// to the brokers, by kind: at moderate rates the brokers' cost is per
// request, not per byte, so this is what a setting that trades latency for
// fewer requests changes. kafka-go's own statistics reset on every read;
// these are running totals.
type kafkaRequests struct {
	fetch, produce, commit atomic.Int64

	mu      sync.Mutex
	readers []*kafka.Reader
	writers []*kafka.Writer
}

func (q *kafkaRequests) addReader(r *kafka.Reader) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.readers = append(q.readers, r)
}

func (q *kafkaRequests) addWriter(w *kafka.Writer) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.writers = append(q.writers, w)
}

// collect moves what the readers and writers counted since the last call
// into the totals.
func (q *kafkaRequests) collect() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range q.readers {
		q.fetch.Add(r.Stats().Fetches)
	}
	for _, w := range q.writers {
		q.produce.Add(w.Stats().Writes)
	}
}

// Register exposes the transport's request counts on reg as
// earshot_kafka_requests_total{kind="fetch"|"produce"|"commit"}.
func (k *Kafka) Register(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	q := &k.requests
	for kind, v := range map[string]*atomic.Int64{"fetch": &q.fetch, "produce": &q.produce, "commit": &q.commit} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "earshot_kafka_requests_total",
			Help:        "Requests this process sent to the Kafka brokers: fetch and produce requests (one per partition each), and synchronous offset commits (with transport.kafka.commit_interval above 0, the default, commits are sent in the background and not counted).",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 {
			q.collect()
			return float64(v.Load())
		}))
	}
}
