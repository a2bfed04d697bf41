package stream

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// seqSource yields batches of one post each, numbered, and records its
// checkpoints; it is a Checkpointer without a Tracker (distributed mode).
type seqSource struct {
	n, limit int
	calls    atomic.Int64 // Next calls begun
	mu       sync.Mutex
	ckpts    []int
}

func (s *seqSource) Next(ctx context.Context, max int) (post.Batch, error) {
	s.calls.Add(1)
	if s.n == s.limit {
		return post.Batch{}, io.EOF
	}
	s.n++
	time.Sleep(2 * time.Millisecond) // reading takes time, as a real source's does
	return post.Batch{Items: []*post.Item{{Post: &post.Post{Platform: "s", ID: fmt.Sprint(s.n), CreatedAt: time.Unix(1, 0)}}}}, nil
}
func (s *seqSource) Position() any { return s.n }
func (s *seqSource) Checkpoint(pos any, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ckpts = append(s.ckpts, pos.(int))
	return nil
}

// slowProducer takes its time over every produce, and notes whether the
// source was reading meanwhile.
type slowProducer struct {
	src     *seqSource
	overlap atomic.Int64
	mu      sync.Mutex
	keys    []string
}

func (p *slowProducer) Produce(ctx context.Context, outs []Out) error {
	before := p.src.calls.Load()
	time.Sleep(5 * time.Millisecond)
	if p.src.calls.Load() > before {
		p.overlap.Add(1) // the source read meanwhile
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range outs {
		p.keys = append(p.keys, o.Key)
	}
	return nil
}
func (p *slowProducer) Close() error { return nil }

// TestSourceRunnerReadsWhileProducing: the source reads its next batch
// while the last one is produced (a produce waits for the brokers'
// acknowledgement, which at full speed was most of ingest's time), yet the
// batches are produced in order and a position is saved only after its
// batch and every one before it was produced.
func TestSourceRunnerReadsWhileProducing(t *testing.T) {
	src := &seqSource{limit: 40}
	out := &slowProducer{src: src}
	sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 1, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry())}
	if err := sr.Run(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if n := out.overlap.Load(); n < 10 {
		t.Errorf("the source read during %d of 40 produces, want most", n)
	}
	if len(out.keys) != 40 {
		t.Fatalf("%d produced, want 40", len(out.keys))
	}
	for i, k := range out.keys {
		if k != fmt.Sprintf("s:%d", i+1) {
			t.Fatalf("produced %s at %d: out of order", k, i)
		}
	}
	last := 0
	for _, c := range src.ckpts {
		if c < last {
			t.Fatalf("checkpoints went back: %v", src.ckpts)
		}
		last = c
	}
	if last != 40 {
		t.Errorf("last checkpoint %d, want 40", last)
	}
}

// TestSourceRunnerCheckpointsOnlyProduced: a produce that never succeeds
// leaves the checkpoint behind its batch, even with the next read.
func TestSourceRunnerCheckpointsOnlyProduced(t *testing.T) {
	src := &seqSource{limit: 1000}
	out := &failAfter{ok: 3}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 1, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry())}
	if err := sr.Run(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, c := range src.ckpts {
		if c > 3 {
			t.Fatalf("checkpoint %d past the 3 batches produced: %v", c, src.ckpts)
		}
	}
}

type failAfter struct {
	ok int
	n  atomic.Int64
}

func (p *failAfter) Produce(ctx context.Context, outs []Out) error {
	if p.n.Add(1) > int64(p.ok) {
		return fmt.Errorf("broker down")
	}
	return nil
}
func (p *failAfter) Close() error { return nil }

// countingProducer counts its produce calls and takes its time over each.
type countingProducer struct {
	calls, outs atomic.Int64
}

func (p *countingProducer) Produce(ctx context.Context, outs []Out) error {
	p.calls.Add(1)
	p.outs.Add(int64(len(outs)))
	time.Sleep(5 * time.Millisecond)
	return nil
}
func (p *countingProducer) Close() error { return nil }

// rateSource hands over the posts due at a rate since its last read (at
// least one, waiting for it), as the synthetic source does.
type rateSource struct {
	seqSource
	every time.Duration
	last  time.Time
	reads atomic.Int64
}

func (s *rateSource) Next(ctx context.Context, max int) (post.Batch, error) {
	s.reads.Add(1)
	if s.n == s.limit {
		return post.Batch{}, io.EOF
	}
	if s.last.IsZero() {
		s.last = time.Now()
	}
	due := int(time.Since(s.last) / s.every)
	if due == 0 {
		time.Sleep(s.every)
		due = 1
	}
	s.last = s.last.Add(time.Duration(due) * s.every)
	var b post.Batch
	for range min(due, max, s.limit-s.n) {
		s.n++
		b.Items = append(b.Items, &post.Item{Post: &post.Post{Platform: "s", ID: fmt.Sprint(s.n), CreatedAt: time.Unix(1, 0)}})
	}
	return b, nil
}

// TestSourceRunnerGathersWhileProducing: a source at a rate, below what
// the producer can take, is read once per produce (what came while it was
// under way, in one batch), not a post at a time: each read there is a
// wake-up, and each produce a request and a Kafka record per partition.
func TestSourceRunnerGathersWhileProducing(t *testing.T) {
	src := &rateSource{seqSource: seqSource{limit: 200}, every: 200 * time.Microsecond}
	out := &countingProducer{}
	sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 500, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry())}
	if err := sr.Run(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if n := out.outs.Load(); n != 200 {
		t.Fatalf("%d produced, want 200", n)
	}
	// 200 posts at 5,000/s take 40ms; a produce takes 5ms: about 8 calls.
	if c, r := out.calls.Load(), src.reads.Load(); c > 40 || r > 2*c+2 {
		t.Errorf("%d reads and %d produce calls for 200 posts, want them gathered", r, c)
	}
	if last := src.ckpts[len(src.ckpts)-1]; last != 200 {
		t.Errorf("last checkpoint %d, want 200", last)
	}
}

// TestSourceRunnerPaces: with Pace, a source at a rate is produced at most
// once per Pace (more posts per call, fewer requests); without it, once
// per produce (5ms here). Both produce every post.
func TestSourceRunnerPaces(t *testing.T) {
	calls := map[time.Duration]int64{}
	for _, pace := range []time.Duration{0, 25 * time.Millisecond} {
		src := &rateSource{seqSource: seqSource{limit: 500}, every: 200 * time.Microsecond}
		out := &countingProducer{}
		sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 1000, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()), Pace: pace}
		if err := sr.Run(context.Background(), time.Second); err != nil {
			t.Fatal(err)
		}
		if n := out.outs.Load(); n != 500 {
			t.Fatalf("pace %v: %d produced, want 500", pace, n)
		}
		calls[pace] = out.calls.Load()
	}
	// 500 posts at 5,000/s take 100ms: at most 100/25+1 paced calls (and
	// the last read's), about 100/5 unpaced.
	if c := calls[25*time.Millisecond]; c > 7 {
		t.Errorf("paced every 25ms: %d produce calls in 100ms, want at most 7", c)
	}
	if c := calls[0]; c < 10 {
		t.Errorf("unpaced: %d produce calls in 100ms, want one per 5ms produce", c)
	}
}

// TestSourceRunnerStopWhilePaced: a stop while the runner waits out Pace
// (here 1s, the most batch_interval allows) ends the wait at once, and
// every post read before it is produced and checkpointed; none is left
// for the restart to read again, none is lost.
func TestSourceRunnerStopWhilePaced(t *testing.T) {
	src := &rateSource{seqSource: seqSource{limit: 1000}, every: 100 * time.Millisecond}
	out := &countingProducer{}
	sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 1000, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()), Pace: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 550*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := sr.Run(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("Run returned %v after the start, stopped at 550ms: the pace was waited out", d)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if n := out.outs.Load(); n != int64(src.n) || n == 0 {
		t.Errorf("%d produced, %d read", n, src.n)
	}
	if len(src.ckpts) == 0 || src.ckpts[len(src.ckpts)-1] != src.n {
		t.Errorf("checkpoints %v, want the last at %d", src.ckpts, src.n)
	}
}
