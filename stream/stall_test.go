package stream

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// gaugeValue is the value of a one-series gauge in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestRunnerReportsAStalledBatch: a stage whose store is down retries its
// batch for ever; the operator must see it as the age of the oldest batch
// in flight (earshot_stream_oldest_in_flight_seconds, Stats.Oldest), which
// rises while nothing is committed and falls back to 0 once the batch is
// committed. An idle stage (nothing fetched) is 0, not stalled.
func TestRunnerReportsAStalledBatch(t *testing.T) {
	in := &commitLog{batches: [][]Delivery{batchAt(0, 1)}}
	m := NewMemory(16)
	out, _ := m.Producer()
	got := collect(t, m, "out")
	var down atomic.Bool
	down.Store(true)
	reg := prometheus.NewRegistry()
	r := &Runner{
		Name: "sink", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(reg),
		Config: RunnerConfig{BatchSize: 10, Workers: 1, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
			if down.Load() {
				return post.Batch{}, errors.New("store down")
			}
			return b, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	if s := r.Stats(); s.Oldest < 250*time.Millisecond {
		t.Errorf("stalled 300ms: Stats().Oldest = %v", s.Oldest)
	}
	if v := gaugeValue(t, reg, "earshot_stream_oldest_in_flight_seconds"); v < 0.25 {
		t.Errorf("stalled 300ms: earshot_stream_oldest_in_flight_seconds = %v", v)
	}
	down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().InFlight > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := r.Stats(); s.Oldest != 0 || s.InFlight != 0 {
		t.Errorf("committed and idle: Oldest %v, in flight %d; want 0", s.Oldest, s.InFlight)
	}
	if v := gaugeValue(t, reg, "earshot_stream_oldest_in_flight_seconds"); v != 0 {
		t.Errorf("committed and idle: earshot_stream_oldest_in_flight_seconds = %v, want 0", v)
	}
	cancel()
	<-done
	m.CloseTopic("out")
	if n := len(got()); n != 2 {
		t.Errorf("produced %d, want 2", n)
	}
}

// TestSourceReportsAStalledProduce: a source whose output cannot take its
// posts (a full queue, a broker down) holds them in flight; the age shows.
func TestSourceReportsAStalledProduce(t *testing.T) {
	m := NewMemory(1)
	out, _ := m.Producer()
	m.Consumer("match", "posts") // a reader that takes nothing
	reg := prometheus.NewRegistry()
	s := &SourceRunner{Name: "ingest", Src: &fixedSource{b: post.Batch{Items: items(5)}}, Out: out, Topic: "posts", DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(reg), BatchSize: 10}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx, 100*time.Millisecond) }()
	time.Sleep(300 * time.Millisecond) // nobody reads posts: the produce waits
	if st := s.Stats(); st.Oldest < 250*time.Millisecond {
		t.Errorf("blocked 300ms: Stats().Oldest = %v", st.Oldest)
	}
	if v := gaugeValue(t, reg, "earshot_stream_oldest_in_flight_seconds"); v < 0.25 {
		t.Errorf("blocked 300ms: earshot_stream_oldest_in_flight_seconds = %v", v)
	}
	cancel()
	<-done
}

// fixedSource returns its batch once, then waits for the end.
type fixedSource struct {
	b    post.Batch
	done bool
}

func (f *fixedSource) Next(ctx context.Context, _ int) (post.Batch, error) {
	if !f.done {
		f.done = true
		return f.b, nil
	}
	<-ctx.Done()
	return post.Batch{}, ctx.Err()
}
