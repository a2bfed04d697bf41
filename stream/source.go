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

// Drainer is a Source that acknowledges records to their sender before the
// runner takes them (the push endpoint answers 202 once a request is
// queued). When the run stops, Drain refuses new records and returns those
// still held, which the runner produces before it returns: the sender will
// not send them again.
type Drainer interface {
	Drain() post.Batch
}

// SourceRunner feeds a source into a topic. A batch is produced while the
// next one is read, and no further: at most one batch waits for the
// brokers' acknowledgement while the source reads the next, so a slow
// broker slows the source instead of piling up posts in memory, and the
// source's time and the brokers' overlap instead of adding up.
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

	c counters
}

// Stats returns the runner's totals so far.
func (s *SourceRunner) Stats() Stats {
	return Stats{In: s.c.in.Load(), Out: s.c.out.Load(), Dead: s.c.dead.Load(), Retries: s.c.retries.Load()}
}

// read is one batch the source returned, on its way to the producer.
type read struct {
	b      post.Batch
	origin int64
	pos    any // the source's position after it (Checkpointer only)
	start  time.Time
}

// Run reads until the source ends or ctx is cancelled. The batch in hand
// when ctx ends is still produced, for up to shutdownTimeout.
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

	// The producer: one batch at a time, in order. It stops at the first
	// batch it could not produce (ctx ended while it retried) or position
	// it could not save, and says so by closing failed.
	reads := make(chan read) // unbuffered: one batch produced, one read, no more
	failed := make(chan struct{})
	var failure error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			for range reads { // let the reader hand over and see failed
			}
		}()
		for r := range reads {
			if len(r.b.Items)+len(r.b.Rejected) > 0 {
				if !s.send(ctx, finish, log, r.b, r.origin) {
					close(failed)
					return
				}
				observe.Observe(time.Since(r.start).Seconds())
			}
			s.Tracker.release(r.origin, 1)
			if cp != nil && s.Tracker == nil {
				if err := cp.Checkpoint(r.pos, false); err != nil {
					failure = fmt.Errorf("%s: %w", s.Name, err)
					close(failed)
					return
				}
			}
		}
	})
	// stopProducing waits for the producer to finish what it was handed;
	// it reports whether everything was produced.
	stopProducing := func() (bool, error) {
		close(reads)
		wg.Wait()
		select {
		case <-failed:
			return false, failure
		default:
			return true, nil
		}
	}

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
		select {
		case reads <- r:
		case <-failed:
			s.Tracker.release(r.origin, 1)
			_, ferr := stopProducing()
			return ferr
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
				// Retried until the shutdown timeout: these were acknowledged.
				if b := d.Drain(); !s.send(finish, finish, log, b, 0) {
					log.Warn("stopped with acknowledged records not produced", "records", len(b.Items)+len(b.Rejected))
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

// send produces b's posts and dead letters, of origin, retrying until
// retryCtx ends; it reports whether they were produced.
func (s *SourceRunner) send(retryCtx, finish context.Context, log *slog.Logger, b post.Batch, origin int64) bool {
	n := len(b.Items) + len(b.Rejected)
	if n == 0 {
		return true
	}
	outs := make([]Out, 0, n)
	for _, it := range b.Items {
		outs = append(outs, Out{Topic: s.Topic, Key: it.Key(), Item: it, Origin: origin})
	}
	for i := range b.Rejected {
		d := deadLetter(s.Name, s.DeadTopic, &b.Rejected[i])
		d.Origin = origin
		outs = append(outs, d)
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
