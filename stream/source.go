package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Source yields posts from outside the pipeline. Next returns io.EOF once
// the source is exhausted; rejected inputs come back in Batch.Rejected.
type Source interface {
	Next(ctx context.Context, max int) (post.Batch, error)
}

// Finisher is a Source that keeps its own position (a file replay's
// checkpoint). Finish is called once every batch Next returned has been
// produced, when the source is exhausted or the run stops, so that a
// restart does not read those batches again.
type Finisher interface {
	Finish() error
}

// Drainer is a Source that acknowledges records to their sender before the
// runner takes them (the push endpoint answers 202 once a request is
// queued). When the run stops, Drain refuses new records and returns those
// still held, which the runner produces before it returns: the sender will
// not send them again.
type Drainer interface {
	Drain() post.Batch
}

// SourceRunner feeds a source into a topic. Each batch is produced before
// the next is read, so a slow broker slows the source instead of piling up
// posts in memory.
type SourceRunner struct {
	Name      string
	Src       Source
	Out       Producer
	Topic     string
	DeadTopic string
	BatchSize int
	Log       *slog.Logger
	Metrics   *Metrics

	c counters
}

// Stats returns the runner's totals so far.
func (s *SourceRunner) Stats() Stats {
	return Stats{In: s.c.in.Load(), Out: s.c.out.Load(), Dead: s.c.dead.Load(), Retries: s.c.retries.Load()}
}

// Run reads until the source ends or ctx is cancelled. The batch in hand
// when ctx ends is still produced, for up to shutdownTimeout.
func (s *SourceRunner) Run(ctx context.Context, shutdownTimeout time.Duration) error {
	log := s.Log.With("component", "source", "stage", s.Name)
	observe := s.Metrics.register(s.Name, &s.c, nil)
	finish, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownTimeout, cancel) })
	defer stop()
	for {
		start := time.Now()
		b, err := s.Src.Next(ctx, s.BatchSize)
		if len(b.Items)+len(b.Rejected) > 0 {
			if !s.send(ctx, finish, log, b) {
				return nil
			}
			observe.Observe(time.Since(start).Seconds())
		}
		switch {
		case errors.Is(err, io.EOF):
			log.Info("source exhausted", "posts", s.c.out.Load(), "dead_letters", s.c.dead.Load())
			return s.finish()
		case ctx.Err() != nil:
			if d, ok := s.Src.(Drainer); ok {
				// Retried until the shutdown timeout: these were acknowledged.
				if b := d.Drain(); !s.send(finish, finish, log, b) {
					log.Warn("stopped with acknowledged records not produced", "records", len(b.Items)+len(b.Rejected))
					return nil
				}
			}
			return s.finish()
		case err != nil:
			return err
		}
	}
}

// send produces b's posts and dead letters, retrying until retryCtx ends;
// it reports whether they were produced.
func (s *SourceRunner) send(retryCtx, finish context.Context, log *slog.Logger, b post.Batch) bool {
	n := len(b.Items) + len(b.Rejected)
	if n == 0 {
		return true
	}
	outs := make([]Out, 0, n)
	for _, it := range b.Items {
		outs = append(outs, Out{Topic: s.Topic, Key: it.Key(), Item: it})
	}
	for i := range b.Rejected {
		outs = append(outs, deadLetter(s.Name, s.DeadTopic, &b.Rejected[i]))
	}
	s.c.in.Add(int64(n))
	if !retry(retryCtx, log, "produce", &s.c.retries, func() error { return produce(finish, s.Out, s.Name, s.DeadTopic, outs) }) {
		return false
	}
	s.c.produced(outs) // an oversized post has become a dead letter
	return true
}

// finish tells a Finisher that everything it handed out is produced.
func (s *SourceRunner) finish() error {
	if f, ok := s.Src.(Finisher); ok {
		if err := f.Finish(); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return nil
}
