package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Stage is one step of the pipeline: a plain function over a batch. It
// returns the records to pass on and the inputs it rejected. An error means
// the whole batch failed for a reason that may pass (a store is down); the
// runner retries it, which is how backpressure reaches upstream.
//
// The concurrency contract, which every stage keeps:
//
//   - A stage never modifies the items it is given, nor anything they point
//     to. In embedded mode every consumer group of a topic is handed the same
//     *post.Item (route, the sink and the search index all read the enriched
//     topic at once), and a batch is run again after a failure or a panic.
//     To add to an item, a stage returns a new one or a shallow copy
//     (cp := *it; cp.Alert = a; &cp), sharing what it leaves unchanged.
//   - The runner calls one Stage value from RunnerConfig.Workers goroutines
//     at once. State a stage keeps between batches (route's raised alerts,
//     stories and spike windows, enrich's clusters) is safe for concurrent
//     use; a stage that cannot be must say so and be run with one worker.
//
// stream/stagetest checks both under -race.
type Stage func(ctx context.Context, in post.Batch) (post.Batch, error)

// RunnerConfig tunes batching and concurrency.
type RunnerConfig struct {
	BatchSize       int           `yaml:"batch_size"`
	Linger          time.Duration `yaml:"linger"`
	Workers         int           `yaml:"workers"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultRunnerConfig suits the per-post stages.
func DefaultRunnerConfig() RunnerConfig {
	return RunnerConfig{BatchSize: 500, Linger: 5 * time.Millisecond, Workers: 1, ShutdownTimeout: 30 * time.Second}
}

// Validate reports every problem at once; prefix names the config section.
func (c RunnerConfig) Validate(prefix string) error {
	var errs []error
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		errs = append(errs, fmt.Errorf("%s.batch_size: %d, want 1 to 100000", prefix, c.BatchSize))
	}
	if c.Linger < 0 || c.Linger > 10*time.Second {
		errs = append(errs, fmt.Errorf("%s.linger: %v, want 0 to 10s", prefix, c.Linger))
	}
	if c.Workers < 1 || c.Workers > 256 {
		errs = append(errs, fmt.Errorf("%s.workers: %d, want 1 to 256", prefix, c.Workers))
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > time.Hour {
		errs = append(errs, fmt.Errorf("%s.shutdown_timeout: %v, want more than 0, at most 1h", prefix, c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// Runner drives one stage: fetch a batch, call the stage, produce its
// outputs and dead letters, and only then commit, never past a batch that is
// still in flight.
type Runner struct {
	Name      string
	In        Consumer
	Out       Producer
	Stage     Stage
	Topic     func(*post.Item) string // output topic of an item; "" drops it
	DeadTopic string
	Config    RunnerConfig
	Log       *slog.Logger
	Metrics   *Metrics

	c counters
}

// Stats returns the runner's totals so far.
func (r *Runner) Stats() Stats {
	return Stats{In: r.c.in.Load(), Out: r.c.out.Load(), Dead: r.c.dead.Load(), Retries: r.c.retries.Load(), InFlight: r.c.inFlight.Load(), Lag: r.In.Lag()}
}

type job struct {
	ds      []Delivery
	t       ticket
	fetched time.Time
}

// Run processes until ctx is cancelled or the input is closed and drained.
// On cancel it stops fetching, finishes the batches in flight (for up to
// ShutdownTimeout), commits them and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	log := r.Log.With("component", "runner", "stage", r.Name)
	observe := r.Metrics.register(r.Name, &r.c, r.In.Lag)
	// In-flight work may finish after ctx ends, but not forever.
	finish, cancelFinish := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFinish()
	stopTimer := context.AfterFunc(ctx, func() { time.AfterFunc(r.Config.ShutdownTimeout, cancelFinish) })
	defer stopTimer()

	wm := newWatermark()
	jobs := make(chan job)
	var commitMu sync.Mutex // commits in order, so a partition never moves back
	var wg sync.WaitGroup
	for range max(1, r.Config.Workers) {
		wg.Go(func() {
			for j := range jobs {
				r.process(ctx, finish, log, wm, &commitMu, j, observe)
			}
		})
	}

	var err error
	b := Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		ds, ferr := r.In.Fetch(ctx, r.Config.BatchSize, r.Config.Linger)
		if len(ds) > 0 {
			r.c.inFlight.Add(1)
			jobs <- job{ds: ds, t: wm.add(ds), fetched: time.Now()}
		}
		if ferr == nil {
			b.Reset()
			continue
		}
		if errors.Is(ferr, ErrClosed) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		r.c.retries.Add(1)
		wait := b.Next()
		log.Warn("fetch failed; retrying", "retry_in", wait, "err", ferr)
		Sleep(ctx, wait)
	}
	close(jobs)
	wg.Wait()
	if n := wm.pending(); n > 0 {
		log.Warn("stopped with batches not committed; they will be redelivered", "batches", n)
	}
	return err
}

// process runs one batch to its commit. If ctx ends while a call is being
// retried the batch is abandoned uncommitted, to be redelivered.
func (r *Runner) process(ctx, finish context.Context, log *slog.Logger, wm *watermark, commitMu *sync.Mutex, j job, observe interface{ Observe(float64) }) {
	defer r.c.inFlight.Add(-1)
	r.c.in.Add(int64(len(j.ds)))
	in := post.Batch{Items: make([]*post.Item, 0, len(j.ds))}
	var outs []Out
	origin := lowestOrigin(j.ds)
	for _, d := range j.ds {
		switch {
		case d.Err != nil:
			outs = append(outs, deadLetter(r.Name, r.DeadTopic, &post.Rejected{Raw: d.Raw, Reason: d.Err.Error()}))
		case d.Item == nil:
			outs = append(outs, deadLetter(r.Name, r.DeadTopic, &post.Rejected{Raw: d.Raw, Reason: "record carries no item"}))
		default:
			in.Items = append(in.Items, d.Item)
		}
	}

	var res post.Batch
	if !retry(ctx, log, "stage", &r.c.retries, func() error {
		var err error
		res, err = r.callStage(finish, log, in)
		return err
	}) {
		return
	}
	for _, it := range res.Items {
		if topic := r.Topic(it); topic != "" {
			outs = append(outs, Out{Topic: topic, Key: it.Key(), Item: it})
		}
	}
	for i := range res.Rejected {
		outs = append(outs, deadLetter(r.Name, r.DeadTopic, &res.Rejected[i]))
	}
	for i := range outs {
		outs[i].Origin = origin // everything a batch gives derives from all of it
	}
	if !retry(ctx, log, "produce", &r.c.retries, func() error { return produce(finish, r.Out, r.Name, r.DeadTopic, outs) }) {
		return
	}
	r.c.produced(outs)

	commitMu.Lock()
	defer commitMu.Unlock()
	done := wm.done(j.t)
	if !retry(ctx, log, "commit", &r.c.retries, func() error { return r.In.Commit(finish, done) }) {
		return
	}
	observe.Observe(time.Since(j.fetched).Seconds())
}

// lowestOrigin is the lowest tracked origin among ds (0 when none is).
func lowestOrigin(ds []Delivery) int64 {
	var o int64
	for _, d := range ds {
		if d.Origin != 0 && (o == 0 || d.Origin < o) {
			o = d.Origin
		}
	}
	return o
}

// callStage runs the stage over in without letting a panic take the process
// down: a record that panics a stage would crash it again on every
// redelivery and stall the pipeline behind it. After a panic the batch is run
// again one item at a time, and the items that panic on their own become dead
// letters. (Stages are plain functions over any batch, so a batch of one is
// as good as the whole; what the items before a panic did is done again,
// which at-least-once delivery allows.)
func (r *Runner) callStage(ctx context.Context, log *slog.Logger, in post.Batch) (post.Batch, error) {
	res, p, err := recoverStage(ctx, r.Stage, in)
	if p == nil {
		return res, err
	}
	r.c.panics.Add(1)
	log.Error("stage panicked; running the batch again one item at a time", "items", len(in.Items), "panic", p.value, "stack", p.stack)
	var out post.Batch
	for _, it := range in.Items {
		one, p, err := recoverStage(ctx, r.Stage, post.Batch{Items: []*post.Item{it}})
		if p != nil {
			r.c.panics.Add(1)
			log.Error("stage panicked on one item; dead-lettering it", "key", it.Key(), "panic", p.value)
			out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: fmt.Sprintf("stage %s panicked on this record: %v", r.Name, p.value)})
			continue
		}
		if err != nil {
			return post.Batch{}, err // the whole batch is retried
		}
		out.Items = append(out.Items, one.Items...)
		out.Rejected = append(out.Rejected, one.Rejected...)
	}
	return out, nil
}

// panicked is a recovered panic and where it happened.
type panicked struct {
	value any
	stack string
}

func recoverStage(ctx context.Context, stage Stage, in post.Batch) (res post.Batch, p *panicked, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, p, err = post.Batch{}, &panicked{value: v, stack: string(debug.Stack())}, nil
		}
	}()
	res, err = stage(ctx, in)
	return res, nil, err
}

// retry calls f until it succeeds or ctx ends, backing off between tries
// and counting each failure in retries. It reports whether f succeeded.
func retry(ctx context.Context, log *slog.Logger, what string, retries *atomic.Int64, f func() error) bool {
	b := Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			return true
		}
		retries.Add(1)
		wait := b.Next()
		log.Warn(what+" failed; retrying", "attempt", attempt, "retry_in", wait, "err", err)
		if !Sleep(ctx, wait) {
			log.Warn(what+" abandoned at shutdown; the batch will be redelivered", "err", err)
			return false
		}
	}
}

// deadLetter turns a rejected record into a record for the dead-letter topic.
func deadLetter(stage, topic string, rej *post.Rejected) Out {
	d := &post.DeadLetter{Stage: stage, Reason: rej.Reason, Item: rej.Item, At: time.Now().UTC()}
	if rej.Item != nil && rej.Item.Post != nil {
		d.Key = rej.Item.Key()
	}
	if rej.Raw != nil {
		d.Raw, d.RawBytes = post.Cut(rej.Raw), len(rej.Raw)
	}
	return Out{Topic: topic, Key: d.Key, Dead: d}
}
