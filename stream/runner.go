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
//   - Whatever the workers, the records of one post (its key: the post, its
//     edits, its delete) reach the stage one call after another in the
//     order they were fetched, and what a call returns is produced before
//     the next call with that post begins (see Runner). Records of
//     different posts have no order between them.
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
//
// Concurrency: with Workers w above 1, a fetch takes up to w × BatchSize
// records (at most 100,000) and splits them into w shards by a hash of each
// record's key (Item.Key: the post's platform and id), so a stage call still
// gets about BatchSize records; shard i goes to worker i's queue. A worker
// takes its queue in order, calling the stage and producing the outputs of
// one shard before it starts the next, so a post and its later edit or
// delete (which share the key, and in Kafka the partition) reach the stage
// and are produced in the order they were fetched, while different posts
// run in parallel. The price: a worker cannot take another's shard, so an
// idle worker waits for the busiest one of its fetch. Records without an item
// (undecodable, dead letters) go to worker 0; they only become dead letters.
// A fetched batch is committed, through the per-partition watermark, once
// every one of its shards has been produced; a shard abandoned at shutdown
// leaves its whole batch uncommitted, to be redelivered. A record that
// carries several items may be split between shards: its offset is still
// committed only once all of them are done.
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
	return Stats{In: r.c.in.Load(), Out: r.c.out.Load(), Dead: r.c.dead.Load(), Retries: r.c.retries.Load(), InFlight: r.c.inFlight.Load(), Lag: r.In.Lag(),
		Oldest: r.c.ages.oldest(time.Now())}
}

// Oldest is the age of the oldest batch fetched and not yet committed (0
// when none is): it does not read the consumer's lag, which may wait on
// the broker.
func (r *Runner) Oldest() time.Duration { return r.c.ages.oldest(time.Now()) }

// fetched is one batch as fetched, shared by its shards: the last shard to
// finish commits it.
type fetched struct {
	t      ticket
	at     time.Time
	age    uint64       // its entry in counters.ages
	origin int64        // lowest origin of the whole batch
	left   atomic.Int32 // shards not yet finished
	failed atomic.Bool  // a shard was abandoned: the batch is not committed
}

// job is one worker's shard of a fetched batch.
type job struct {
	ds []Delivery
	f  *fetched
}

// shardOf is the worker, of n, that runs every record with its key: FNV-1a
// of the key, so one post always lands on one worker.
func shardOf(it *post.Item, n int) int {
	if n <= 1 || it == nil || it.Post == nil {
		return 0
	}
	h := uint32(2166136261)
	k := it.Post
	for _, s := range [...]string{k.Platform, ":", k.ID} {
		for i := 0; i < len(s); i++ {
			h ^= uint32(s[i])
			h *= 16777619
		}
	}
	return int(h % uint32(n))
}

// split deals ds into n shards by key, keeping fetch order within each.
// The shards share one backing array, sized by a first counting pass.
func split(ds []Delivery, n int) [][]Delivery {
	if n <= 1 {
		return [][]Delivery{ds}
	}
	of := make([]uint8, len(ds)) // Validate keeps Workers at most 256; past it shards would merge, still in order
	counts := make([]int, n)
	for k, d := range ds {
		if d.Err == nil {
			of[k] = uint8(shardOf(d.Item, n))
		}
		counts[of[k]]++
	}
	all := make([]Delivery, len(ds))
	shards := make([][]Delivery, n)
	start := 0
	for i, c := range counts {
		shards[i] = all[start : start : start+c]
		start += c
	}
	for k, d := range ds {
		shards[of[k]] = append(shards[of[k]], d)
	}
	return shards
}

// fetchSize is how many records one fetch takes for n workers: batch_size
// for each, so that a stage call still gets about batch_size records (a
// stage's cost per call is spread over as many posts as with one worker),
// but never more than 100,000 (batch_size's own limit) unless batch_size
// alone is.
func fetchSize(batchSize, n int) int {
	return max(batchSize, min(batchSize*n, 100_000))
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
	n := max(1, r.Config.Workers)
	// One queue per worker, so the shards of one key are taken in order.
	// Unbuffered, as the one job queue was: at most one fetch waits while
	// the workers run the shards of the one before.
	queues := make([]chan job, n)
	var commitMu sync.Mutex // commits in order, so a partition never moves back
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job)
		wg.Go(func() {
			for j := range queues[i] {
				r.process(ctx, finish, log, wm, &commitMu, j, observe)
			}
		})
	}

	var err error
	b := Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		ds, ferr := r.In.Fetch(ctx, fetchSize(r.Config.BatchSize, n), r.Config.Linger)
		if len(ds) > 0 {
			r.c.inFlight.Add(1)
			f := &fetched{t: wm.add(ds), at: time.Now(), origin: lowestOrigin(ds)}
			f.age = r.c.ages.add(f.at)
			shards := split(ds, n)
			for _, sh := range shards {
				if len(sh) > 0 {
					f.left.Add(1)
				}
			}
			for i, sh := range shards {
				if len(sh) > 0 {
					queues[i] <- job{ds: sh, f: f}
				}
			}
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
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if n := wm.pending(); n > 0 {
		log.Warn("stopped with batches not committed; they will be redelivered", "batches", n)
	}
	return err
}

// process runs one shard through the stage and produces its outputs; the
// last shard of a batch to finish commits the batch. If ctx ends while a
// call is being retried the shard is abandoned and its batch left
// uncommitted, to be redelivered.
func (r *Runner) process(ctx, finish context.Context, log *slog.Logger, wm *watermark, commitMu *sync.Mutex, j job, observe interface{ Observe(float64) }) {
	ok := false
	defer func() {
		if !ok {
			j.f.failed.Store(true)
		}
		if j.f.left.Add(-1) > 0 {
			return
		}
		defer r.c.inFlight.Add(-1)
		defer r.c.ages.remove(j.f.age)
		if !j.f.failed.Load() {
			r.commit(ctx, finish, log, wm, commitMu, j.f, observe)
		}
	}()
	r.c.in.Add(int64(len(j.ds)))
	in := post.Batch{Items: make([]*post.Item, 0, len(j.ds))}
	var outs []Out
	origin := j.f.origin
	for _, d := range j.ds {
		switch {
		case d.Err != nil:
			outs = append(outs, deadLetter(r.Name, r.DeadTopic, &post.Rejected{Raw: d.Raw, Reason: d.Err.Error(), Class: post.ClassOf(d.Err, post.ClassDecode)}))
		case d.Item == nil:
			outs = append(outs, deadLetter(r.Name, r.DeadTopic, &post.Rejected{Raw: d.Raw, Reason: "record carries no item", Class: post.ClassDecode}))
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
	ok = true
}

// commit marks a fetched batch finished and commits what that makes
// committable.
func (r *Runner) commit(ctx, finish context.Context, log *slog.Logger, wm *watermark, commitMu *sync.Mutex, f *fetched, observe interface{ Observe(float64) }) {
	commitMu.Lock()
	defer commitMu.Unlock()
	done := wm.done(f.t)
	if !retry(ctx, log, "commit", &r.c.retries, func() error { return r.In.Commit(finish, done) }) {
		return
	}
	observe.Observe(time.Since(f.at).Seconds())
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
			out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: fmt.Sprintf("stage %s panicked on this record: %v", r.Name, p.value), Class: post.ClassPanic})
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
	d := &post.DeadLetter{Stage: stage, Reason: rej.Reason, Class: rej.Class.Known(), Item: rej.Item, At: time.Now().UTC()}
	if rej.Item != nil && rej.Item.Post != nil {
		d.Key = rej.Item.Key()
	}
	if rej.Raw != nil {
		d.Raw, d.RawBytes = post.Cut(rej.Raw), len(rej.Raw)
	}
	return Out{Topic: topic, Key: d.Key, Dead: d}
}
