// Package live runs the connectors that follow a platform's stream: it owns
// the reconnect loop (capped, jittered backoff), stall detection, the
// bounded queue between the connection and the pipeline, the persisted
// cursor, and the connectors' metrics.
package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// Config tunes every live connector.
type Config struct {
	QueueSize   int           `yaml:"queue_size"`   // posts read ahead of the pipeline; a full queue stops reading
	IdleTimeout time.Duration `yaml:"idle_timeout"` // reconnect after this long without a byte (stall)
	MinBackoff  time.Duration `yaml:"min_backoff"`  // first reconnect delay
	MaxBackoff  time.Duration `yaml:"max_backoff"`  // cap of the reconnect delay
	MaxFailures int           `yaml:"max_failures"` // consecutive attempts without an event before the source fails
	CursorEvery time.Duration `yaml:"cursor_every"` // how often the cursor is saved
	MaxMessage  int64         `yaml:"max_message"`  // largest message read; a larger one is a dead letter or a reconnect
}

// DefaultConfig suits the public firehoses: they send something every few
// seconds, so a minute of silence is a stall.
func DefaultConfig() Config {
	return Config{QueueSize: 4096, IdleTimeout: time.Minute, MinBackoff: 500 * time.Millisecond, MaxBackoff: time.Minute, MaxFailures: 100, CursorEvery: time.Second, MaxMessage: 4 << 20}
}

// Validate reports every problem at once; prefix names the YAML key.
func (c Config) Validate(prefix string) error {
	var errs []error
	if c.QueueSize < 1 || c.QueueSize > 1_000_000 {
		errs = append(errs, fmt.Errorf("%s.queue_size: %d, want 1 to 1000000", prefix, c.QueueSize))
	}
	if c.IdleTimeout <= 0 || c.IdleTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("%s.idle_timeout: %v, want more than 0, at most 24h", prefix, c.IdleTimeout))
	}
	if c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff || c.MaxBackoff > 24*time.Hour {
		errs = append(errs, fmt.Errorf("%s.min_backoff, max_backoff: want 0 < min_backoff <= max_backoff <= 24h", prefix))
	}
	if c.MaxFailures < 1 || c.MaxFailures > 1_000_000 {
		errs = append(errs, fmt.Errorf("%s.max_failures: %d, want 1 to 1000000", prefix, c.MaxFailures))
	}
	if c.CursorEvery <= 0 || c.CursorEvery > time.Hour {
		errs = append(errs, fmt.Errorf("%s.cursor_every: %v, want more than 0, at most 1h", prefix, c.CursorEvery))
	}
	if c.MaxMessage < 1024 || c.MaxMessage > 256<<20 {
		errs = append(errs, fmt.Errorf("%s.max_message: %d, want 1024 to 268435456", prefix, c.MaxMessage))
	}
	return errors.Join(errs...)
}

// Conn is what a connector's Dial gets for one connection.
type Conn struct {
	s       *Source
	Cursor  int64 // resume after this position (0: from now)
	Attempt int   // 0 for the first connection, then counts reconnects
	touch   func()
	got     bool
}

// Touch tells the stall detector that bytes arrived (a heartbeat counts).
func (c *Conn) Touch() { c.touch() }

// Worked tells the reconnect loop that this connection did its job even
// if no record came (a poll answered with nothing new): its end then
// resets the failure count and the backoff, as a delivered record does.
func (c *Conn) Worked() { c.got = true }

// Emit hands on what a decoder made of one record, or its error with the
// raw record as a dead letter. It blocks while the queue is full, which
// stops reading from the connection: backpressure reaches the platform's
// TCP window, not memory. It fails only when the source is closing.
func (c *Conn) Emit(ctx context.Context, ev canon.Event, raw []byte, err error) error {
	c.touch()
	c.got = true
	s := c.s
	s.m.events.Inc()
	var it item
	switch {
	case err != nil:
		s.m.dead.Inc()
		// raw may be the connector's reusable buffer: keep a copy
		it.rej = &post.Rejected{Raw: bytes.Clone(raw[:min(len(raw), post.RawLimit)]), Reason: s.name + ": " + err.Error(), Class: post.ClassOf(err, post.ClassDecode)}
	case ev.Post == nil:
		s.m.skipped.WithLabelValues(ev.Skip).Inc()
		if ev.Cursor > 0 {
			s.setRead(ev.Cursor)
		}
		return nil
	default:
		kind := ev.Post.Kind
		if kind == "" {
			kind = "post"
		}
		s.m.posts.WithLabelValues(kind).Inc()
		it.p = ev.Post
	}
	if !ev.At.IsZero() {
		s.m.lag.Set(time.Since(ev.At).Seconds())
	}
	it.cursor = ev.Cursor
	if ev.Cursor > 0 {
		s.setRead(ev.Cursor)
	}
	select {
	case s.ch <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dialer connects once and reads until the connection fails or ctx ends,
// passing every record to c.Emit. Its error says why the connection ended.
type Dialer func(ctx context.Context, c *Conn) error

type item struct {
	p      *post.Post
	rej    *post.Rejected
	cursor int64
}

// Source is a stream.Source over one or more Dialers (several servers of
// one platform). Each connection runs in a goroutine the source owns from
// the first Next until Close; all feed one bounded queue.
type Source struct {
	name   string
	cfg    Config
	dials  []Dialer
	log    *slog.Logger
	m      *sourceMetrics
	cursor *CursorFile

	ch      chan item
	start   sync.Once
	cancel  context.CancelFunc
	done    chan struct{}
	errMu   sync.Mutex
	err     error // why the connection loops ended; read after done
	mu      sync.Mutex
	read    int64 // newest cursor read from the connection
	handed  int64 // newest cursor handed out by Next
	saveMu  sync.Mutex
	saved   int64 // cursor saved last, by Checkpoint
	savedAt time.Time
}

// New returns a source named name (the metrics' source label) that dials
// with each of dials. cursor may be nil when the platform has no resumable
// position; it is only meaningful with one dialer.
func New(name string, cfg Config, dials []Dialer, cursor *CursorFile, m *Metrics, log *slog.Logger) *Source {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Source{
		name: name, cfg: cfg, dials: dials, cursor: cursor, m: m.source(name),
		log: log.With("component", "ingest."+name), ch: make(chan item, cfg.QueueSize), done: make(chan struct{}),
	}
}

func (s *Source) setRead(c int64) {
	s.mu.Lock()
	s.read = max(s.read, c)
	s.mu.Unlock()
}

// Next returns what has arrived, up to max, waiting for at least one
// record. It never saves the cursor: its caller does, with Checkpoint, once
// the batches are handled (stream.Checkpointer).
func (s *Source) Next(ctx context.Context, max int) (post.Batch, error) {
	var b post.Batch
	s.start.Do(func() {
		var err error
		if s.cursor != nil {
			if s.read, err = s.cursor.Load(); err != nil {
				s.err = err
				close(s.done)
				return
			}
			s.handed = s.read
			s.saveMu.Lock()
			s.saved = s.read
			s.saveMu.Unlock()
		}
		runCtx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		go s.run(runCtx)
	})
	add := func(it item) {
		if it.p != nil {
			b.Items = append(b.Items, &post.Item{Post: it.p})
		} else {
			b.Rejected = append(b.Rejected, *it.rej)
		}
		if it.cursor > 0 {
			s.handed = it.cursor
		}
	}
	select {
	case it := <-s.ch:
		add(it)
	case <-ctx.Done():
		return b, ctx.Err()
	case <-s.done:
		// the loop has ended; hand out what it queued before, then its error
		select {
		case it := <-s.ch:
			add(it)
		default:
			s.errMu.Lock()
			defer s.errMu.Unlock()
			if s.err == nil {
				return b, io.EOF
			}
			return b, s.err
		}
	}
	for len(b.Items)+len(b.Rejected) < max {
		select {
		case it := <-s.ch:
			add(it)
		default:
			return b, nil
		}
	}
	return b, nil
}

// Position is the cursor of the last record Next handed out
// (stream.Checkpointer).
func (s *Source) Position() any { return s.handed }

// Checkpoint saves pos, a cursor Position returned, at most every
// CursorEvery unless force (stream.Checkpointer). Without a cursor file it
// does nothing.
func (s *Source) Checkpoint(pos any, force bool) error {
	c, ok := pos.(int64)
	if !ok {
		return fmt.Errorf("cursor: position %T is not a cursor", pos)
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.cursor == nil || c == s.saved || !force && time.Since(s.savedAt) < s.cfg.CursorEvery {
		return nil
	}
	if err := s.cursor.Save(c); err != nil {
		return err
	}
	s.saved, s.savedAt = c, time.Now()
	return nil
}

// run runs a reconnect loop per dialer until all have ended.
func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	var wg sync.WaitGroup
	for _, d := range s.dials {
		wg.Go(func() {
			if err := s.loop(ctx, d); err != nil {
				s.errMu.Lock()
				s.err = errors.Join(s.err, err)
				s.errMu.Unlock()
			}
		})
	}
	wg.Wait()
}

// loop is one dialer's reconnect loop.
func (s *Source) loop(ctx context.Context, dial Dialer) error {
	bo := stream.Backoff{Min: s.cfg.MinBackoff, Max: s.cfg.MaxBackoff}
	failures := 0
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		cur := s.read
		s.mu.Unlock()
		c := &Conn{s: s, Cursor: cur, Attempt: attempt}
		err := s.connect(ctx, dial, c)
		if ctx.Err() != nil {
			return nil
		}
		if c.got {
			failures = 0
			bo.Reset()
		}
		failures++
		if failures >= s.cfg.MaxFailures {
			err = fmt.Errorf("%s: %d connection attempts in a row without an event, last: %w", s.name, failures, err)
			s.log.Error("giving up", "err", err)
			return err
		}
		s.m.reconnects.Inc()
		d := bo.Next()
		s.log.Warn("connection ended; reconnecting", "err", err, "in", d, "attempt", attempt+1)
		if !stream.Sleep(ctx, d) {
			return nil
		}
	}
}

// connect runs one connection with a stall watchdog: no bytes for
// IdleTimeout cancels it.
func (s *Source) connect(ctx context.Context, dial Dialer, c *Conn) error {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := fmt.Errorf("no data for %v: stalled", s.cfg.IdleTimeout)
	t := time.AfterFunc(s.cfg.IdleTimeout, func() { cancel(stall) })
	defer t.Stop()
	c.touch = func() { t.Reset(s.cfg.IdleTimeout) }
	err := dial(cctx, c)
	if cause := context.Cause(cctx); errors.Is(cause, stall) {
		return stall
	}
	if err == nil {
		err = errors.New("connection closed by the server")
	}
	return err
}

// Close stops the connection and waits for its goroutine. The cursor is
// not saved: the last batch handed out may not have been handled.
func (s *Source) Close() error {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	return nil
}
