package stream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// faultyInput hands out fixed batches over several partitions and checks,
// at every commit, that each record at or below the committed offset of its
// partition has been produced (by the faultyOutput it shares a ledger
// with). A commit may fail.
type faultyInput struct {
	mu       sync.Mutex
	batches  [][]Delivery
	commits  map[int]int64 // highest committed offset per partition
	ledger   *ledger
	rng      *rand.Rand
	failRate float64
	t        *testing.T
}

func (f *faultyInput) Fetch(ctx context.Context, _ int, _ time.Duration) ([]Delivery, error) {
	f.mu.Lock()
	if len(f.batches) == 0 {
		f.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b := f.batches[0]
	f.batches = f.batches[1:]
	f.mu.Unlock()
	return b, nil
}

func (f *faultyInput) Commit(_ context.Context, ps []Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() < f.failRate {
		return errors.New("injected: commit failed (coordinator moved)")
	}
	for _, p := range ps {
		if missing := f.ledger.unproducedUpTo(p.Partition, p.Offset); missing != "" {
			f.t.Errorf("committed partition %d at %d before %s was produced", p.Partition, p.Offset, missing)
		}
		f.commits[p.Partition] = max(f.commits[p.Partition], p.Offset)
	}
	return nil
}

func (f *faultyInput) Lag() int64   { return 0 }
func (f *faultyInput) Close() error { return nil }

// ledger records which input records (by partition/offset, carried in
// Post.Text) have been acknowledged by the producer.
type ledger struct {
	mu       sync.Mutex
	input    map[string]int64 // "p/off" -> offset, per partition below
	part     map[string]int
	produced map[string]bool
}

func (l *ledger) unproducedUpTo(p int, off int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, o := range l.input {
		if l.part[id] == p && o <= off && !l.produced[id] {
			return id
		}
	}
	return ""
}

// faultyOutput fails a share of produce calls; a failed call may first
// have acknowledged a prefix of its records (as a produce to several
// partitions does when one partition's leader is gone).
type faultyOutput struct {
	mu       sync.Mutex
	rng      *rand.Rand
	failRate float64
	ledger   *ledger
}

func (o *faultyOutput) Produce(_ context.Context, outs []Out) error {
	o.mu.Lock()
	fail := o.rng.Float64() < o.failRate
	n := len(outs)
	if fail {
		n = o.rng.IntN(len(outs) + 1)
	}
	o.mu.Unlock()
	o.ledger.mu.Lock()
	for _, out := range outs[:n] {
		if out.Item != nil {
			o.ledger.produced[out.Item.Post.Text] = true
		}
	}
	o.ledger.mu.Unlock()
	if fail {
		return fmt.Errorf("injected: %d of %d records acknowledged, then the broker went away", n, len(outs))
	}
	return nil
}

func (o *faultyOutput) Close() error { return nil }

// With several workers, produce calls, stage calls and commits that fail
// at random (a restarting broker, a ClickHouse outage, a moved
// coordinator) must neither commit a record before it is produced nor
// leave any record unproduced or any partition uncommitted: every batch
// ends committed, and the runner stops cleanly.
func TestRunnerWithWorkersLosesNothingUnderFaults(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 1))
			l := &ledger{input: map[string]int64{}, part: map[string]int{}, produced: map[string]bool{}}
			next := map[int]int64{}
			var batches [][]Delivery
			for range 80 {
				var b []Delivery
				for range 1 + rng.IntN(60) {
					p := rng.IntN(4)
					off := next[p]
					next[p]++
					id := fmt.Sprintf("%d/%d", p, off)
					l.input[id], l.part[id] = off, p
					kind := ""
					if rng.IntN(4) == 0 {
						kind = post.KindDelete
					}
					it := &post.Item{Post: &post.Post{Platform: "t", ID: fmt.Sprint(rng.IntN(30)), Kind: kind, Text: id}}
					b = append(b, Delivery{Item: it, Partition: p, Offset: off})
				}
				batches = append(batches, b)
			}
			in := &faultyInput{batches: batches, commits: map[int]int64{}, ledger: l, rng: rand.New(rand.NewPCG(seed, 2)), failRate: 0.1, t: t}
			out := &faultyOutput{rng: rand.New(rand.NewPCG(seed, 3)), failRate: 0.15, ledger: l}
			var smu sync.Mutex
			srng := rand.New(rand.NewPCG(seed, 4))
			r := &Runner{
				Name: "faults", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
				Config: RunnerConfig{BatchSize: 40, Workers: workers, ShutdownTimeout: 5 * time.Second},
				Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
					smu.Lock()
					fail := srng.IntN(20) == 0
					smu.Unlock()
					if fail {
						return post.Batch{}, errors.New("injected: store down")
					}
					return b, nil
				},
				Topic: func(*post.Item) string { return "out" },
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- r.Run(ctx) }()
			committed := func() bool {
				in.mu.Lock()
				defer in.mu.Unlock()
				for p, n := range next {
					if c, ok := in.commits[p]; !ok || c != n-1 {
						return false
					}
				}
				return true
			}
			deadline := time.Now().Add(60 * time.Second)
			for !committed() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			in.mu.Lock()
			defer in.mu.Unlock()
			for p, n := range next {
				if in.commits[p] != n-1 {
					t.Errorf("partition %d committed at %d, want its last offset %d", p, in.commits[p], n-1)
				}
			}
			if id := l.unproducedUpTo(0, 1<<62) + l.unproducedUpTo(1, 1<<62) + l.unproducedUpTo(2, 1<<62) + l.unproducedUpTo(3, 1<<62); id != "" {
				t.Errorf("never produced: %s", id)
			}
			if s := r.Stats(); s.InFlight != 0 {
				t.Errorf("in flight %d after the stop, want 0", s.InFlight)
			}
		})
	}
}
