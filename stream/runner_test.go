package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func items(n int) []*post.Item {
	out := make([]*post.Item, n)
	for i := range out {
		out[i] = &post.Item{Post: &post.Post{Platform: "t", ID: strconv.Itoa(i), Text: strconv.Itoa(i % 3)}}
	}
	return out
}

// collect drains topic into a slice until it is closed.
func collect(t *testing.T, m *Memory, topic string) func() []Delivery {
	c, _ := m.Consumer("test", topic)
	var (
		mu  sync.Mutex
		got []Delivery
		wg  sync.WaitGroup
	)
	wg.Go(func() {
		Drain(context.Background(), c, quiet, func(d Delivery) { mu.Lock(); got = append(got, d); mu.Unlock() })
	})
	return func() []Delivery { wg.Wait(); return got }
}

func TestRunnerRoutesRejectsAndDrains(t *testing.T) {
	m := NewMemory(16)
	in, _ := m.Consumer("stage", "in")
	out, _ := m.Producer()
	odd, even, dead := collect(t, m, "odd"), collect(t, m, "even"), collect(t, m, "dead")
	r := &Runner{
		Name: "test", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
		Config: RunnerConfig{BatchSize: 7, Linger: time.Millisecond, Workers: 3, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
			var res post.Batch
			for _, it := range b.Items {
				if it.Post.Text == "0" {
					res.Rejected = append(res.Rejected, post.Rejected{Item: it, Reason: "zero"})
				} else {
					res.Items = append(res.Items, it)
				}
			}
			return res, nil
		},
		Topic: func(it *post.Item) string {
			if it.Post.Text == "1" {
				return "odd"
			}
			return "even"
		},
	}
	done := make(chan error)
	go func() { done <- r.Run(context.Background()) }()
	if err := out.Produce(context.Background(), outsOf("in", items(300))); err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("in")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("odd")
	m.CloseTopic("even")
	m.CloseTopic("dead")
	o, e, d := odd(), even(), dead()
	if len(o) != 100 || len(e) != 100 || len(d) != 100 {
		t.Fatalf("odd %d, even %d, dead %d; want 100 each", len(o), len(e), len(d))
	}
	if d[0].Dead == nil || d[0].Dead.Reason != "zero" || d[0].Dead.Stage != "test" || d[0].Dead.Key == "" {
		t.Errorf("dead letter = %+v", d[0].Dead)
	}
	if s := r.Stats(); s.In != 300 || s.Out != 200 || s.Dead != 100 || s.InFlight != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func outsOf(topic string, its []*post.Item) []Out {
	outs := make([]Out, len(its))
	for i, it := range its {
		outs[i] = Out{Topic: topic, Key: it.Key(), Item: it}
	}
	return outs
}

// commitLog is a consumer fake that serves fixed batches and records commits.
type commitLog struct {
	mu      sync.Mutex
	batches [][]Delivery
	commits []Position
}

func (c *commitLog) Fetch(ctx context.Context, _ int, _ time.Duration) ([]Delivery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.batches) == 0 {
		c.mu.Unlock()
		<-ctx.Done()
		c.mu.Lock()
		return nil, ctx.Err()
	}
	b := c.batches[0]
	c.batches = c.batches[1:]
	return b, nil
}

func (c *commitLog) Commit(_ context.Context, ps []Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits = append(c.commits, ps...)
	return nil
}
func (c *commitLog) Lag() int64   { return 0 }
func (c *commitLog) Close() error { return nil }

func batchAt(offsets ...int64) []Delivery {
	var ds []Delivery
	for _, o := range offsets {
		ds = append(ds, Delivery{Item: &post.Item{Post: &post.Post{Platform: "t", ID: strconv.FormatInt(o, 10)}}, Offset: o})
	}
	return ds
}

func TestRunnerRetriesThenCommits(t *testing.T) {
	in := &commitLog{batches: [][]Delivery{batchAt(0, 1), batchAt(2, 3)}}
	m := NewMemory(16)
	out, _ := m.Producer()
	got := collect(t, m, "out")
	fails := 2
	r := &Runner{
		Name: "flaky", In: in, Out: out, DeadTopic: "dead", Log: quiet, Config: RunnerConfig{BatchSize: 10, Workers: 1, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
			if fails > 0 {
				fails--
				return post.Batch{}, errors.New("store down")
			}
			return b, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in.mu.Lock()
		n := len(in.commits)
		in.mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	m.CloseTopic("out")
	if len(got()) != 4 {
		t.Errorf("produced %d records, want 4 (each once)", len(got()))
	}
	if !slices.Equal(in.commits, []Position{{0, 1}, {0, 3}}) {
		t.Errorf("commits = %v", in.commits)
	}
	if s := r.Stats(); s.Retries != 2 {
		t.Errorf("retries = %d, want 2", s.Retries)
	}
}

func TestRunnerAbandonsUncommittedOnStop(t *testing.T) {
	in := &commitLog{batches: [][]Delivery{batchAt(0, 1)}}
	m := NewMemory(16)
	out, _ := m.Producer()
	called := make(chan struct{}, 100)
	r := &Runner{
		Name: "down", In: in, Out: out, DeadTopic: "dead", Log: quiet, Config: RunnerConfig{BatchSize: 10, Workers: 1, ShutdownTimeout: time.Second},
		Stage: func(context.Context, post.Batch) (post.Batch, error) {
			called <- struct{}{}
			return post.Batch{}, errors.New("store down")
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	<-called
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel while the stage kept failing")
	}
	if len(in.commits) != 0 {
		t.Errorf("committed %v for a batch that never succeeded", in.commits)
	}
}

func TestMemoryBackpressure(t *testing.T) {
	m := NewMemory(2)
	m.Consumer("g", "t")
	p, _ := m.Producer()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := p.Produce(ctx, outsOf("t", items(3)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("producing past a full queue: %v, want it to block until the deadline", err)
	}
	if d := m.Depth("g", "t"); d != 2 {
		t.Errorf("depth = %d, want 2", d)
	}
}

// A record that panics the stage is dead-lettered, the rest of its batch
// passes, and the runner goes on: it neither crashes nor stalls on it.
func TestRunnerSurvivesAPanickingRecord(t *testing.T) {
	m := NewMemory(16)
	in, _ := m.Consumer("stage", "in")
	out, _ := m.Producer()
	good, dead := collect(t, m, "out"), collect(t, m, "dead")
	reg := prometheus.NewRegistry()
	r := &Runner{
		Name: "test", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(reg),
		Config: RunnerConfig{BatchSize: 10, Linger: time.Millisecond, Workers: 2, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
			var res post.Batch
			for _, it := range b.Items {
				if it.Post.ID == "7" || it.Post.ID == "42" {
					var m map[string]int
					m["boom"]++ // a nil-map write: a bug only these records reach
				}
				res.Items = append(res.Items, it)
			}
			return res, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	done := make(chan error)
	go func() { done <- r.Run(context.Background()) }()
	if err := out.Produce(context.Background(), outsOf("in", items(100))); err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("in")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("out")
	m.CloseTopic("dead")
	g, d := good(), dead()
	if len(g) != 98 || len(d) != 2 {
		t.Fatalf("passed %d, dead-lettered %d; want 98 and 2", len(g), len(d))
	}
	ids := []string{d[0].Dead.Item.Post.ID, d[1].Dead.Item.Post.ID}
	slices.Sort(ids)
	if ids[0] != "42" || ids[1] != "7" || !strings.Contains(d[0].Dead.Reason, "panicked") || !strings.Contains(d[0].Dead.Reason, "nil map") {
		t.Errorf("dead letters %v: %q", ids, d[0].Dead.Reason)
	}
	if s := r.Stats(); s.In != 100 || s.Out != 98 || s.Dead != 2 {
		t.Errorf("stats = %+v", s)
	}
	for _, l := range d {
		if l.Dead.Class != post.ClassPanic {
			t.Errorf("dead letter class %q, want panic", l.Dead.Class)
		}
	}
	if byClass := deadByClass(t, reg); len(byClass) != len(post.Classes) || byClass[post.ClassPanic] != 2 || byClass[post.ClassOther] != 0 {
		t.Errorf("dead letters by class %v: want every class exported, 2 of them panic", byClass)
	}
	if n := counterValue(t, reg, "earshot_stream_stage_panics_total"); n != 4 {
		t.Errorf("panics counted %v, want 4 (two batches, then each record alone)", n)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// deadByClass is the stage's dead-letter counter by its class label.
func deadByClass(t *testing.T, reg *prometheus.Registry) map[post.Class]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	by := map[post.Class]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "earshot_stream_dead_letters_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "class" {
					by[post.Class(l.GetValue())] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return by
}
