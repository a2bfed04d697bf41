package stream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// fakeRemote is a broker: it keeps what it acknowledged, can refuse
// records of a key as too large, fail every call, or hold every call
// until released.
type fakeRemote struct {
	mu       sync.Mutex
	got      []Out
	tooLarge string // key of the items refused as too large (not its dead letter)
	fail     error
	hold     chan struct{} // when set, Produce waits for it to close
}

func (f *fakeRemote) Consumer(string, string) (Consumer, error) {
	return nil, errors.New("fakeRemote: no consumers")
}
func (f *fakeRemote) Producer() (Producer, error)                   { return f, nil }
func (f *fakeRemote) EnsureTopics(context.Context, ...string) error { return nil }
func (f *fakeRemote) Close() error                                  { return nil }
func (f *fakeRemote) Produce(ctx context.Context, outs []Out) error {
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	var tl TooLargeError
	for i, o := range outs {
		if o.Key == f.tooLarge && o.Dead == nil {
			tl.Records = append(tl.Records, TooLarge{Index: i, Size: 99})
		}
	}
	if len(tl.Records) > 0 {
		return &tl
	}
	f.got = append(f.got, outs...)
	return nil
}
func (f *fakeRemote) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for _, o := range f.got {
		ks = append(ks, o.Topic+"/"+o.Key)
	}
	return ks
}

func TestSplitRoutesByTopic(t *testing.T) {
	remote := &fakeRemote{}
	s := NewSplit(NewMemory(16), remote, "posts")
	c, _ := s.Consumer("match", "posts")
	p, _ := s.Producer()
	ctx := context.Background()
	outs := []Out{{Topic: "posts", Key: "a"}, {Topic: "dead", Key: "b"}, {Topic: "posts", Key: "c"}}
	if err := p.Produce(ctx, outs); err != nil {
		t.Fatal(err)
	}
	if got := remote.keys(); len(got) != 1 || got[0] != "dead/b" {
		t.Fatalf("remote got %v; want only dead/b", got)
	}
	ds, err := c.Fetch(ctx, 10, 0)
	if err != nil || len(ds) != 2 {
		t.Fatalf("local consumer fetched %d records (%v); want the 2 on posts", len(ds), err)
	}
	if _, err := s.Consumer("x", "matched"); err == nil {
		t.Fatal("a remote topic's consumer came from the memory transport")
	}
}

// TestSplitTooLargeIndexesTheCallersRecords: the producer's caller
// replaces records by their index into what it passed, so a remote
// refusal must name those, and nothing may be queued locally yet (the
// caller produces the whole batch again).
func TestSplitTooLargeIndexesTheCallersRecords(t *testing.T) {
	remote := &fakeRemote{tooLarge: "big"}
	m := NewMemory(16)
	s := NewSplit(m, remote, "posts")
	s.Consumer("match", "posts")
	p, _ := s.Producer()
	outs := []Out{{Topic: "posts", Key: "a"}, {Topic: "matched", Key: "ok"}, {Topic: "matched", Key: "big"}}
	err := p.Produce(context.Background(), outs)
	var tl *TooLargeError
	if !errors.As(err, &tl) || len(tl.Records) != 1 || tl.Records[0].Index != 2 {
		t.Fatalf("err %v; want one record too large at index 2", err)
	}
	if n := m.Depth("match", "posts"); n != 0 {
		t.Fatalf("%d local records queued by a call that failed; want 0 (the retry queues them)", n)
	}
	// What the runners do: the oversized record becomes a dead letter,
	// the call is made again, and every record is written once.
	if err := produce(context.Background(), p, "match", "dead", outs); err != nil {
		t.Fatal(err)
	}
	if n := m.Depth("match", "posts"); n != 1 {
		t.Fatalf("%d local records after the retry; want 1", n)
	}
	if got := remote.keys(); len(got) != 2 || got[0] != "matched/ok" || got[1] != "dead/big" {
		t.Fatalf("remote got %v; want matched/ok and the dead letter of big", got)
	}
}

// TestSplitCheckpointWaitsForTheRemote: a source feeds a stage over a
// local topic and the stage writes to the broker; while the broker has
// not acknowledged, the source's checkpoint must not move.
func TestSplitCheckpointWaitsForTheRemote(t *testing.T) {
	m := NewMemory(64)
	tr := NewTracker()
	m.Track(tr)
	remote := &fakeRemote{hold: make(chan struct{})}
	s := NewSplit(m, remote, "posts")
	in, _ := s.Consumer("match", "posts")
	out, _ := s.Producer()
	src := &ckptSource{max: 10}
	r := &Runner{
		Name: "match", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
		Topic:  func(*post.Item) string { return "matched" },
		Config: RunnerConfig{BatchSize: 3, Linger: time.Millisecond, Workers: 1, ShutdownTimeout: 5 * time.Second},
		Stage:  func(_ context.Context, b post.Batch) (post.Batch, error) { return b, nil },
	}
	sr := &SourceRunner{Name: "ingest", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 1, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()), Tracker: tr}
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(context.Background()) })
	if err := sr.Run(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the stage has its first batch, the broker holds it
	tr.Save(src, false)
	if got := src.last(); got != 0 {
		t.Fatalf("checkpoint %d while the broker acknowledged nothing; want none", got)
	}
	close(remote.hold)
	m.CloseTopic("posts")
	wg.Wait()
	tr.Save(src, true)
	if got, n := src.last(), len(remote.keys()); got != 10 || n != 10 {
		t.Fatalf("checkpoint %d with %d records acknowledged; want 10 and 10", got, n)
	}
}

// TestMemoryPacedEndsBatchWhenIdle: a chain's in-memory hop ends a batch
// once no record came for fetch_idle, as a Kafka consumer does, instead
// of waiting out the runner's linger; small batches still begin at most
// every batch_interval.
func TestMemoryPacedEndsBatchWhenIdle(t *testing.T) {
	ctx := context.Background()
	fetch := func(m *Memory, c Consumer, n int) (int, time.Duration) {
		p, _ := m.Producer()
		outs := make([]Out, n)
		for i := range outs {
			outs[i] = Out{Topic: "posts", Item: &post.Item{}}
		}
		p.Produce(ctx, outs)
		start := time.Now()
		ds, err := c.Fetch(ctx, 1000, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds), time.Since(start)
	}
	paced := NewMemory(100)
	paced.Pace(time.Millisecond, 50*time.Millisecond)
	pc, _ := paced.Consumer("match", "posts")
	if n, took := fetch(paced, pc, 3); n != 3 || took > time.Second {
		t.Fatalf("paced: %d records after %v; want 3 well before the 2s linger", n, took)
	}
	// The next small batch begins within 50 ms of the first: it is held
	// until then, gathering what comes meanwhile.
	if n, took := fetch(paced, pc, 2); n != 2 || took < 20*time.Millisecond || took > time.Second {
		t.Fatalf("paced, second small batch: %d records after %v; want 2, held to about 50 ms after the first began", n, took)
	}
	plain := NewMemory(100) // embedded mode: linger is waited out
	c, _ := plain.Consumer("match", "posts")
	if n, took := fetch(plain, c, 3); n != 3 || took < time.Second {
		t.Fatalf("unpaced: %d records after %v; want 3 after the 2s linger", n, took)
	}
}

// TestMemoryWaitOutLinger: a paced in-memory consumer told to wait out
// linger (the sink's) gathers records that come after pauses far longer
// than fetch_idle into one batch, until linger; another consumer of the
// same transport still ends its batch at the first pause.
func TestMemoryWaitOutLinger(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(100)
	m.Pace(time.Millisecond, 5*time.Millisecond)
	sink, _ := m.Consumer("sink", "enriched")
	WaitOutLinger(sink)
	route, _ := m.Consumer("route", "enriched")
	p, _ := m.Producer()
	go func() {
		for range 4 {
			p.Produce(ctx, []Out{{Topic: "enriched", Item: &post.Item{}}})
			time.Sleep(40 * time.Millisecond)
		}
	}()
	routed := make(chan int, 1)
	go func() {
		ds, _ := route.Fetch(ctx, 1000, 600*time.Millisecond)
		routed <- len(ds)
	}()
	start := time.Now()
	ds, err := sink.Fetch(ctx, 1000, 600*time.Millisecond)
	if took := time.Since(start); err != nil || len(ds) != 4 || took < 500*time.Millisecond {
		t.Fatalf("sink: %d records after %v (%v); want all 4 in one batch at the 600ms linger", len(ds), took, err)
	}
	if n := <-routed; n != 1 {
		t.Fatalf("route: %d records; want 1: its batch ends at the first pause", n)
	}
}
