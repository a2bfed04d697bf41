package stream

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// ckptSource hands out batches of one post each; its position is the
// number of batches handed out, and it records every checkpoint.
type ckptSource struct {
	n, max int
	mu     sync.Mutex
	saved  []int
}

func (s *ckptSource) Next(_ context.Context, _ int) (post.Batch, error) {
	if s.n == s.max {
		return post.Batch{}, io.EOF
	}
	s.n++
	return post.Batch{Items: items(s.n)[s.n-1:]}, nil
}
func (s *ckptSource) Position() any { return s.n }
func (s *ckptSource) Checkpoint(pos any, _ bool) error {
	s.mu.Lock()
	s.saved = append(s.saved, pos.(int))
	s.mu.Unlock()
	return nil
}
func (s *ckptSource) last() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saved) == 0 {
		return 0
	}
	return s.saved[len(s.saved)-1]
}

func TestTrackerMovesOnlyPastWhatIsDone(t *testing.T) {
	tr := NewTracker()
	src := &ckptSource{}
	a, b, c := tr.begin(1), tr.begin(2), tr.begin(3)
	tr.add(a, 2)
	tr.add(c, 1)
	for _, o := range []int64{a, b, c} {
		tr.release(o, 1) // the source has produced each batch
	}
	tr.Save(src, false)
	if got := src.last(); got != 0 {
		// b is done, but after a, which is not: a holds it back.
		t.Fatalf("checkpoint %d with batch 1 pending; want none", got)
	}
	tr.release(a, 2)
	tr.Save(src, false)
	if got := src.last(); got != 2 {
		t.Fatalf("checkpoint %d; want 2 (batch 3 still pending)", got)
	}
	tr.release(c, 1)
	tr.Save(src, false)
	if got, n := src.last(), tr.Pending(); got != 3 || n != 0 {
		t.Fatalf("checkpoint %d with %d pending; want 3 and 0", got, n)
	}
}

// TestTrackerFollowsFanOut: a source feeds a stage that turns each post
// into two records on a topic read by two consumer groups; the checkpoint
// must not pass a post until all four are committed.
func TestTrackerFollowsFanOut(t *testing.T) {
	m := NewMemory(64)
	tr := NewTracker()
	m.Track(tr)
	in, _ := m.Consumer("stage", "posts")
	g1, _ := m.Consumer("g1", "out")
	g2, _ := m.Consumer("g2", "out")
	out, _ := m.Producer()
	src := &ckptSource{max: 10}
	r := &Runner{
		Name: "twice", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
		Topic:  func(*post.Item) string { return "out" },
		Config: RunnerConfig{BatchSize: 3, Linger: time.Millisecond, Workers: 2, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
			var res post.Batch
			for _, it := range b.Items {
				res.Items = append(res.Items, it, it)
			}
			return res, nil
		},
	}
	sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 1, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()), Tracker: tr}
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(context.Background()) })
	if err := sr.Run(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("posts")
	wg.Wait()
	m.CloseTopic("out")
	fetchAll := func(c Consumer) []Delivery {
		var all []Delivery
		for {
			ds, err := c.Fetch(context.Background(), 100, 0)
			all = append(all, ds...)
			if err != nil {
				return all
			}
		}
	}
	d1, d2 := fetchAll(g1), fetchAll(g2)
	if len(d1) != 20 || len(d2) != 20 {
		t.Fatalf("g1 got %d, g2 %d; want 20 each", len(d1), len(d2))
	}
	tr.Save(src, false)
	if got := src.last(); got != 0 {
		t.Fatalf("checkpoint %d with nothing committed downstream; want none", got)
	}
	// g1 commits everything, g2 the first 8 records (posts 1-4 at most).
	g1.Commit(context.Background(), []Position{{Offset: d1[len(d1)-1].Offset}})
	g2.Commit(context.Background(), []Position{{Offset: d2[7].Offset}})
	tr.Save(src, false)
	if got := src.last(); got > 4 {
		t.Fatalf("checkpoint %d with g2 having committed 8 records of 2 per post; want at most 4", got)
	}
	g2.Commit(context.Background(), []Position{{Offset: d2[len(d2)-1].Offset}})
	tr.Save(src, false)
	if got := src.last(); got != 10 {
		t.Fatalf("checkpoint %d with everything committed; want 10", got)
	}
}

// TestTrackerRunAtOnce: with no interval (the push endpoint, whose senders
// wait for the checkpoint), Run saves as soon as the checkpoint moves,
// without a ticker, and never passes what is pending.
func TestTrackerRunAtOnce(t *testing.T) {
	tr := NewTracker()
	src := &ckptSource{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx, src, 0, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	for i := 1; i <= 50; i++ {
		o := tr.begin(i)
		tr.add(o, 1)
		tr.release(o, 1) // produced
		time.Sleep(time.Millisecond)
		if got := src.last(); got == i {
			t.Fatalf("batch %d saved with a record pending", i)
		}
		start := time.Now()
		tr.release(o, 1) // its record committed
		for src.last() != i {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("batch %d done, checkpoint %d after 2 s", i, src.last())
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// drainSource holds records its senders wait for (the push endpoint):
// Next hands out nothing, Drain all of them, after which the position
// covers them.
type drainSource struct {
	ckptSource
	held int
}

func (s *drainSource) Next(ctx context.Context, _ int) (post.Batch, error) {
	<-ctx.Done()
	return post.Batch{}, ctx.Err()
}
func (s *drainSource) Drain() post.Batch {
	s.n += s.held
	return post.Batch{Items: items(s.held)}
}

// TestTrackerCoversDrained: with a Tracker (embedded mode), what a Drainer
// hands over as the run stops is tracked as any batch, so the checkpoint
// passes it once it is fully processed (and the push endpoint's senders
// are answered), and not before.
func TestTrackerCoversDrained(t *testing.T) {
	m := NewMemory(64)
	tr := NewTracker()
	m.Track(tr)
	c, _ := m.Consumer("sink", "posts")
	out, _ := m.Producer()
	src := &drainSource{held: 3}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stopping: the held records are drained
	sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 10, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()), Tracker: tr}
	if err := sr.Run(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	tr.Save(src, false)
	if got := src.last(); got != 0 {
		t.Fatalf("checkpoint %d before the drained records were consumed", got)
	}
	ds, err := c.Fetch(context.Background(), 10, 0)
	if err != nil || len(ds) != 3 {
		t.Fatalf("fetched %d, %v; want the 3 drained", len(ds), err)
	}
	c.Commit(context.Background(), []Position{{Offset: ds[len(ds)-1].Offset}})
	tr.Save(src, false)
	if got := src.last(); got != 3 {
		t.Errorf("checkpoint %d after the drained records were committed; want 3", got)
	}
}
