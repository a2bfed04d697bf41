package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Source yields posts from outside the pipeline. Next returns io.EOF once
// the source is exhausted; rejected inputs come back in Batch.Rejected.
type Source interface {
	Next(ctx context.Context, max int) (post.Batch, error)
}

// Drainer is a Source that holds records its senders wait for (the push
// endpoint's requests, queued). When the run stops, Drain refuses new
// records and returns those still held, which the runner produces before
// it returns, so that their senders get an answer. A Drainer that is also
// a Checkpointer has its position cover the drained records.
type Drainer interface {
	Drain() post.Batch
}

// SourceRunner feeds a source into a topic. While the source is ahead (its
// reads come back full) it reads while the last batches are produced: what
// it reads meanwhile, up to BatchSize posts, is produced together as soon
// as the produce under way is acknowledged. Once a read comes back short
// the next waits for the produce, as it then gathers what arrived meanwhile.
// So a slow broker slows the source instead of piling up posts in memory
// (at most one produce under way and BatchSize posts read ahead), the
// source's time and the brokers' overlap instead of adding up, and a
// source that hands over a few posts at a time (a rate) still has them
// produced together, in records of many posts.
type SourceRunner struct {
	Name      string
	Src       Source
	Out       Producer
	Topic     string
	DeadTopic string
	BatchSize int
	Log       *slog.Logger
	Metrics   *Metrics
	// Tracker, in embedded mode, follows each batch of a Checkpointer
	// through the pipeline; its owner saves the checkpoint (Tracker.Run).
	// Without one, a Checkpointer's position is saved once its batch is
	// produced: the transport (Kafka, acks=all) then holds it.
	Tracker *Tracker
	// Pace is transport.kafka.batch_interval: while the source is not
	// ahead, a produce call starts at most every Pace, so that a source
	// handing over a few posts at a time (a rate) has them produced in
	// fewer, larger records. 0 produces as soon as the last produce is done.
	Pace time.Duration

	c counters
}

// Stats returns the runner's totals so far.
func (s *SourceRunner) Stats() Stats {
	return Stats{In: s.c.in.Load(), Out: s.c.out.Load(), Dead: s.c.dead.Load(), Retries: s.c.retries.Load(), Oldest: s.c.ages.oldest(time.Now())}
}

// read is one batch the source returned, on its way to the producer.
type read struct {
	b      post.Batch
	origin int64
	pos    any // the source's position after it (Checkpointer only)
	start  time.Time
}

// readAhead holds the batches read and not yet taken by the producer.
type readAhead struct {
	mu     sync.Mutex
	cond   *sync.Cond
	reads  []read
	n      int       // records in reads
	busy   bool      // the producer is producing what it took
	taken  time.Time // when the producer last took reads
	closed bool      // the reader is done
	failed bool      // the producer stopped
}

// put adds r, waiting while max records or more are held already; it
// reports false, keeping nothing, once the producer has stopped.
func (q *readAhead) put(r read, max int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n >= max && !q.failed {
		q.cond.Wait()
	}
	if q.failed {
		return false
	}
	q.reads = append(q.reads, r)
	q.n += len(r.b.Items) + len(r.b.Rejected)
	q.cond.Broadcast()
	return true
}

// take waits for reads and takes them all; none once the reader closed
// the queue and everything was taken.
func (q *readAhead) take() []read {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.reads) == 0 && !q.closed {
		q.cond.Wait()
	}
	rs := q.reads
	q.reads, q.n, q.busy = nil, 0, len(rs) > 0
	if len(rs) > 0 {
		q.taken = time.Now()
	}
	q.cond.Broadcast()
	return rs
}

// done says the producer finished what it took.
func (q *readAhead) done() {
	q.mu.Lock()
	q.busy = false
	q.cond.Broadcast()
	q.mu.Unlock()
}

// waitIdle waits until the producer has produced everything handed to it
// (or stopped), and returns when it last took reads.
func (q *readAhead) waitIdle() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	for (q.busy || len(q.reads) > 0) && !q.failed {
		q.cond.Wait()
	}
	return q.taken
}

func (q *readAhead) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *readAhead) fail() {
	q.mu.Lock()
	q.failed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// Run reads until the source ends or ctx is cancelled. What was read when
// ctx ends is still produced, for up to shutdownTimeout.
//
// A Checkpointer's position is saved after its batch is produced when there
// is no Tracker; with one, each batch is registered with it and its records
// carry the batch's origin, and the checkpoint is the tracker owner's.
// Batches are produced, and positions saved, in the order they were read.
func (s *SourceRunner) Run(ctx context.Context, shutdownTimeout time.Duration) error {
	log := s.Log.With("component", "source", "stage", s.Name)
	observe := s.Metrics.register(s.Name, &s.c, nil)
	finish, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownTimeout, cancel) })
	defer stop()
	cp, _ := s.Src.(Checkpointer)

	// The producer: everything read so far in one produce call, in order.
	// It stops at the first call it could not produce (ctx ended while it
	// retried) or position it could not save.
	q := &readAhead{}
	q.cond = sync.NewCond(&q.mu)
	var failure error
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			rs := q.take()
			if len(rs) == 0 {
				return // closed and drained
			}
			// In flight from now (not from when the read began: a quiet
			// source waits in Next, which is not a stall).
			age := s.c.ages.add(time.Now())
			sent := s.send(ctx, finish, log, rs)
			s.c.ages.remove(age)
			if !sent {
				q.fail()
				return
			}
			for _, r := range rs {
				if len(r.b.Items)+len(r.b.Rejected) > 0 {
					observe.Observe(time.Since(r.start).Seconds())
				}
				s.Tracker.release(r.origin, 1)
			}
			if cp != nil && s.Tracker == nil {
				if err := cp.Checkpoint(rs[len(rs)-1].pos, false); err != nil {
					failure = fmt.Errorf("%s: %w", s.Name, err)
					q.fail()
					return
				}
			}
			q.done()
		}
	})
	// stopProducing waits for the producer to finish what it was handed;
	// it reports whether everything was produced.
	stopProducing := func() (bool, error) {
		q.close()
		wg.Wait()
		if q.failed {
			return false, failure
		}
		return true, nil
	}

	max := max(1, s.BatchSize)
	for {
		start := time.Now()
		b, err := s.Src.Next(ctx, s.BatchSize)
		r := read{b: b, start: start}
		if cp != nil {
			r.pos = cp.Position()
			if s.Tracker != nil {
				// Even an empty batch moves the position (blank lines, likes).
				r.origin = s.Tracker.begin(r.pos)
			}
		}
		if !q.put(r, max) {
			s.Tracker.release(r.origin, 1)
			_, ferr := stopProducing()
			return ferr
		}
		if err == nil && len(b.Items)+len(b.Rejected) < max {
			// The source is not ahead (a rate, a quiet stream): read again
			// once the produce is done, and get in one batch what came
			// meanwhile, rather than read it a post at a time, each read
			// a wake-up and each produce a request, for nothing. Paced,
			// not before Pace after the last produce began.
			taken := q.waitIdle()
			if wait := time.Until(taken.Add(s.Pace)); s.Pace > 0 && wait > 0 && ctx.Err() == nil {
				Sleep(ctx, wait)
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			if ok, ferr := stopProducing(); !ok {
				return ferr
			}
			log.Info("source exhausted", "posts", s.c.out.Load(), "dead_letters", s.c.dead.Load())
			return s.finish()
		case ctx.Err() != nil:
			if ok, ferr := stopProducing(); !ok {
				return ferr
			}
			if d, ok := s.Src.(Drainer); ok {
				// Retried until the shutdown timeout: their senders wait.
				// A Checkpointer's position then covers them, tracked as
				// any batch, so that their senders are told once they
				// are handed on.
				r := read{b: d.Drain()}
				if cp != nil {
					r.pos = cp.Position()
					if s.Tracker != nil {
						r.origin = s.Tracker.begin(r.pos)
					}
				}
				sent := s.send(finish, finish, log, []read{r})
				s.Tracker.release(r.origin, 1)
				if !sent {
					log.Warn("stopped with records not produced; their senders were not told they were taken", "records", len(r.b.Items)+len(r.b.Rejected))
					return nil
				}
			}
			return s.finish()
		case err != nil:
			if ok, ferr := stopProducing(); !ok {
				return ferr
			}
			return err
		}
	}
}

// send produces the posts and dead letters of rs, each record with its
// read's origin, retrying until retryCtx ends; it reports whether they
// were produced.
func (s *SourceRunner) send(retryCtx, finish context.Context, log *slog.Logger, rs []read) bool {
	n := 0
	for _, r := range rs {
		n += len(r.b.Items) + len(r.b.Rejected)
	}
	if n == 0 {
		return true
	}
	outs := make([]Out, 0, n)
	for _, r := range rs {
		for _, it := range r.b.Items {
			outs = append(outs, Out{Topic: s.Topic, Key: it.Key(), Item: it, Origin: r.origin})
		}
		for i := range r.b.Rejected {
			d := deadLetter(s.Name, s.DeadTopic, &r.b.Rejected[i])
			d.Origin = r.origin
			outs = append(outs, d)
		}
	}
	s.c.in.Add(int64(n))
	if !retry(retryCtx, log, "produce", &s.c.retries, func() error { return produce(finish, s.Out, s.Name, s.DeadTopic, outs) }) {
		return false
	}
	s.c.produced(outs) // an oversized post has become a dead letter
	return true
}

// finish saves a Checkpointer's position at once, when there is no Tracker:
// everything it handed out is produced.
func (s *SourceRunner) finish() error {
	if cp, ok := s.Src.(Checkpointer); ok && s.Tracker == nil {
		if err := cp.Checkpoint(cp.Position(), true); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return nil
}
