// Package ingest turns outside sources into canonical posts: a synthetic
// firehose for demos and benchmarks, NDJSON file replay in any platform's
// shape, and live connectors to Bluesky Jetstream, Mastodon streaming, the
// X filtered stream and Reddit's API (polled).
package ingest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/ingest/bluesky"
	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/ingest/mastodon"
	"github.com/earshot-dev/earshot/ingest/reddit"
	"github.com/earshot-dev/earshot/ingest/x"
	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/stream"
)

// Config selects and tunes the source.
type Config struct {
	Source       string          `yaml:"source"` // synthetic, file, bluesky, mastodon, x, reddit or push
	Synthetic    SyntheticConfig `yaml:"synthetic"`
	File         FileConfig      `yaml:"file"`
	Bluesky      bluesky.Config  `yaml:"bluesky"`
	Mastodon     mastodon.Config `yaml:"mastodon"`
	X            x.Config        `yaml:"x"`
	Reddit       reddit.Config   `yaml:"reddit"`
	Push         PushConfig      `yaml:"push"`
	Live         live.Config     `yaml:"live"`           // reconnects, stalls and read-ahead of the live sources
	MaxPostBytes int             `yaml:"max_post_bytes"` // a larger input line or post text is dead-lettered
	MaxSkew      time.Duration   `yaml:"max_skew"`       // a post dated further in the future is dead-lettered
	BatchSize    int             `yaml:"batch_size"`
}

// SyntheticConfig tunes the synthetic firehose.
type SyntheticConfig struct {
	Rate      int       `yaml:"rate"`       // posts per second; 0 is as fast as possible
	Seed      uint64    `yaml:"seed"`       // same seed, same posts
	Limit     int64     `yaml:"limit"`      // stop after this many posts; 0 never stops
	BrandRate float64   `yaml:"brand_rate"` // share of posts that mention a brand
	Start     time.Time `yaml:"start"`      // created_at of the first post; zero is now
	// DeleteRate is the share of records that delete a recent post; 0 (the
	// default) keeps the stream exactly as before deletes existed.
	DeleteRate float64  `yaml:"delete_rate"`
	Crises     []Crisis `yaml:"crises"` // bursts of negative posts about a brand
}

// Crisis is a burst: for Duration from At (post time after start), Brand's
// volume is Factor times its usual share, all of it negative.
type Crisis struct {
	Brand    string        `yaml:"brand"` // Acme, Globex or Initech
	At       time.Duration `yaml:"at"`
	Duration time.Duration `yaml:"duration"`
	Factor   float64       `yaml:"factor"` // 20 when unset
}

// FileConfig tunes NDJSON replay.
type FileConfig struct {
	Path            string        `yaml:"path"`             // plain, gzip or zstd NDJSON
	Rate            int           `yaml:"rate"`             // posts per second; 0 is as fast as possible
	Format          string        `yaml:"format"`           // auto, canonical, bluesky, mastodon, x, reddit or x-users
	Checkpoint      string        `yaml:"checkpoint"`       // file holding the replay position; empty: always from the start
	CheckpointEvery time.Duration `yaml:"checkpoint_every"` // how often the position is saved
	MaxRatio        int           `yaml:"max_ratio"`        // decompressed bytes per compressed byte before the file is refused as a bomb; 0: no limit
}

// DefaultConfig returns the synthetic firehose at 1,000 posts/s.
func DefaultConfig() Config {
	return Config{
		Source:       "synthetic",
		Synthetic:    SyntheticConfig{Rate: 1000, Seed: 7, BrandRate: 0.1},
		File:         FileConfig{Format: FormatAuto, CheckpointEvery: time.Second, MaxRatio: 200},
		Bluesky:      bluesky.DefaultConfig(),
		X:            x.DefaultConfig(),
		Reddit:       reddit.DefaultConfig(),
		Push:         DefaultPushConfig(),
		Live:         live.DefaultConfig(),
		MaxPostBytes: 1 << 20,
		MaxSkew:      10 * time.Minute,
		BatchSize:    500,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	switch c.Source {
	case "synthetic":
	case "file":
		if c.File.Path == "" {
			errs = append(errs, errors.New("ingest.file.path: required when ingest.source is file"))
		}
		if !validFormat(c.File.Format) {
			errs = append(errs, fmt.Errorf("ingest.file.format: %q, want one of %s", c.File.Format, strings.Join(formats, ", ")))
		}
		if c.File.Checkpoint != "" && c.File.CheckpointEvery <= 0 {
			errs = append(errs, errors.New("ingest.file.checkpoint_every: must be positive"))
		}
		if c.File.MaxRatio < 0 || c.File.MaxRatio > 100_000 {
			errs = append(errs, fmt.Errorf("ingest.file.max_ratio: %d, want 0 (no limit) to 100000", c.File.MaxRatio))
		}
		if c.File.CheckpointEvery > time.Hour {
			errs = append(errs, fmt.Errorf("ingest.file.checkpoint_every: %v, want at most 1h", c.File.CheckpointEvery))
		}
	case "bluesky":
		errs = append(errs, c.Bluesky.Validate(), c.Live.Validate("ingest.live"))
	case "mastodon":
		errs = append(errs, c.Mastodon.Validate(), c.Live.Validate("ingest.live"))
	case "x":
		errs = append(errs, c.X.Validate(), c.Live.Validate("ingest.live"))
	case "reddit":
		errs = append(errs, c.Reddit.Validate(), c.Live.Validate("ingest.live"))
		if c.Reddit.PollInterval >= c.Live.IdleTimeout {
			errs = append(errs, fmt.Errorf("ingest.reddit.poll_interval: %v, want less than ingest.live.idle_timeout %v (a quiet poll would count as a stall)", c.Reddit.PollInterval, c.Live.IdleTimeout))
		}
	case "push":
		errs = append(errs, c.Push.Validate())
	default:
		errs = append(errs, fmt.Errorf("ingest.source: %q, want synthetic, file, bluesky, mastodon, x, reddit or push", c.Source))
	}
	if c.Synthetic.Rate < 0 || c.File.Rate < 0 {
		errs = append(errs, errors.New("ingest rate: must not be negative"))
	}
	if c.Synthetic.Rate > MaxRate {
		errs = append(errs, fmt.Errorf("ingest.synthetic.rate: %d, want 0 (as fast as possible) to %d", c.Synthetic.Rate, MaxRate))
	}
	if c.File.Rate > MaxRate {
		errs = append(errs, fmt.Errorf("ingest.file.rate: %d, want 0 (as fast as possible) to %d", c.File.Rate, MaxRate))
	}
	if c.Synthetic.Limit < 0 {
		errs = append(errs, errors.New("ingest.synthetic.limit: must not be negative"))
	}
	if c.Synthetic.DeleteRate < 0 || c.Synthetic.DeleteRate > 0.5 {
		errs = append(errs, fmt.Errorf("ingest.synthetic.delete_rate: %v, want 0 to 0.5", c.Synthetic.DeleteRate))
	}
	if len(c.Synthetic.Crises) > 1000 {
		errs = append(errs, fmt.Errorf("ingest.synthetic.crises: %d, want at most 1000", len(c.Synthetic.Crises)))
	}
	for i, cr := range c.Synthetic.Crises {
		if brandIndex(cr.Brand) < 0 {
			errs = append(errs, fmt.Errorf("ingest.synthetic.crises[%d].brand: %q, want Acme, Globex or Initech", i, cr.Brand))
		}
		if cr.At < 0 || cr.Duration <= 0 || cr.Factor < 0 || cr.Factor > 1000 {
			errs = append(errs, fmt.Errorf("ingest.synthetic.crises[%d]: want at >= 0, duration > 0, factor 0 to 1000", i))
		}
	}
	if c.Synthetic.BrandRate < 0 || c.Synthetic.BrandRate > 1 {
		errs = append(errs, fmt.Errorf("ingest.synthetic.brand_rate: %v, want 0 to 1", c.Synthetic.BrandRate))
	}
	if c.MaxPostBytes < 1024 || c.MaxPostBytes > MaxPostBytesLimit {
		errs = append(errs, fmt.Errorf("ingest.max_post_bytes: %d, want 1024 to %d", c.MaxPostBytes, MaxPostBytesLimit))
	}
	if c.MaxSkew < 0 || c.MaxSkew > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("ingest.max_skew: %v, want 0 to 168h", c.MaxSkew))
	}
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		errs = append(errs, fmt.Errorf("ingest.batch_size: %d, want 1 to 100000", c.BatchSize))
	}
	return errors.Join(errs...)
}

// pacer spaces posts out to a rate; a zero rate never waits.
type pacer struct {
	rate  int
	start time.Time
	sent  int64
}

// allow returns how many of want may go now, and how long to wait when none may.
func (p *pacer) allow(want int) (int, time.Duration) {
	if p.rate <= 0 {
		return want, 0
	}
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	due := int64(now.Sub(p.start).Seconds()*float64(p.rate)) + 1 - p.sent
	if due <= 0 {
		next := p.start.Add(time.Duration(float64(p.sent) / float64(p.rate) * float64(time.Second)))
		return 0, max(next.Sub(now), 100*time.Microsecond)
	}
	n := int(min(due, int64(want)))
	p.sent += int64(n)
	return n, 0
}

// Options are what a source needs from the process rather than from the
// configuration file. The zero value is fine: no metrics, no logs.
type Options struct {
	Registerer prometheus.Registerer // the live sources' metrics; nil keeps them unregistered
	Logger     *slog.Logger          // reconnects and give-ups of the live sources
	// OnPush receives the push source, for the HTTP API to serve when the
	// source has no address of its own (ingest.push.addr empty).
	OnPush func(*Push)
}

// ReadSecrets reads the secrets of the source cfg selects (tokens, client
// secrets, passwords), which Validate only checks are named well: the
// process that runs the ingest stage calls it at start, so a missing one
// stops it at once, naming the variable or file; no other process needs
// them.
func (c Config) ReadSecrets() error {
	switch c.Source {
	case "mastodon":
		return c.Mastodon.ReadSecrets()
	case "x":
		return c.X.ReadSecrets()
	case "reddit":
		return c.Reddit.ReadSecrets()
	case "push":
		return c.Push.ReadSecrets()
	}
	return nil
}

// Open returns the source cfg selects and a closer for what it holds open.
func Open(cfg Config) (stream.Source, io.Closer, error) {
	return OpenWith(cfg, Options{})
}

// OpenWith is Open with the process's metrics registry and logger. The
// source's position file (a file's checkpoint, a live source's cursor) is
// locked until the closer is closed: a second process on the same one is
// refused.
func OpenWith(cfg Config, o Options) (stream.Source, io.Closer, error) {
	lock, err := lockPosition(cfg)
	if err != nil {
		return nil, nil, err
	}
	src, closer, err := openSource(cfg, o)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return src, closers{closer, lock}, nil
}

// positionFile is the file that keeps where the source has got to, if any.
func (c Config) positionFile() string {
	switch c.Source {
	case "file":
		return c.File.Checkpoint
	case "bluesky":
		return c.Bluesky.CursorFile
	case "reddit":
		return c.Reddit.CursorFile
	}
	return ""
}

// lockPosition takes the lock of the source's position file (beside it,
// with ".lock" added), without waiting. Two processes saving one position
// would each write theirs over the other's, and a restart of the one behind
// would skip, for its own outputs, every post in between. The kernel drops
// the lock of a process that dies, so a crash leaves nothing to clean up.
func lockPosition(cfg Config) (io.Closer, error) {
	path := cfg.positionFile()
	if path == "" {
		return io.NopCloser(nil), nil
	}
	l := durable.NewLock(path+".lock", 0o600)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking the source's position %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("the source's position %s is in use by another process (it holds %s.lock): two processes must not share a checkpoint or cursor file; give each its own", path, path)
	}
	// The position is saved by replacing it with a new file beside it: a
	// directory that takes none (read-only, another user's) would let the
	// source read everything and save nothing, so say so now. A full disk
	// still takes an empty file: that one waits for room, saves failing.
	probe, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err == nil {
		probe.Close()
		err = os.Remove(probe.Name())
	}
	if err != nil {
		l.Unlock()
		return nil, fmt.Errorf("the source's position %s cannot be saved: %w", path, err)
	}
	return lockCloser{l}, nil
}

type lockCloser struct{ l *durable.Lock }

func (c lockCloser) Close() error { return c.l.Unlock() }

// openSource opens the source cfg names.
func openSource(cfg Config, o Options) (stream.Source, io.Closer, error) {
	n := canon.NewNormalizer()
	n.Limits.MaxTextBytes, n.Limits.MaxSkew = cfg.MaxPostBytes, cfg.MaxSkew
	var (
		src *live.Source
		err error
	)
	switch cfg.Source {
	case "file":
		f, err := OpenFileConfig(cfg)
		if err != nil {
			return nil, nil, err
		}
		return live.NewMetrics(o.Registerer).Counted("file", f), f, nil
	case "synthetic":
		return NewSynthetic(cfg.Synthetic), io.NopCloser(nil), nil
	case "bluesky":
		src, err = bluesky.Open(cfg.Bluesky, cfg.Live, n, live.NewMetrics(o.Registerer), o.Logger)
	case "mastodon":
		src, err = mastodon.Open(cfg.Mastodon, cfg.Live, n, live.NewMetrics(o.Registerer), o.Logger)
	case "x":
		src, err = x.Open(cfg.X, cfg.Live, n, live.NewMetrics(o.Registerer), o.Logger)
	case "reddit":
		src, err = reddit.Open(cfg.Reddit, cfg.Live, n, live.NewMetrics(o.Registerer), o.Logger)
	case "push":
		p, err := NewPush(cfg.Push, n, o.Logger)
		if err != nil {
			return nil, nil, err
		}
		if o.OnPush != nil {
			o.OnPush(p)
		}
		if cfg.Push.Addr == "" {
			return live.NewMetrics(o.Registerer).Counted("push", p), io.NopCloser(nil), nil
		}
		s, err := ListenPush(p)
		if err != nil {
			return nil, nil, err
		}
		return live.NewMetrics(o.Registerer).Counted("push", s), s, nil
	default:
		return nil, nil, fmt.Errorf("ingest.source: unknown source %q", cfg.Source)
	}
	if err != nil {
		return nil, nil, err
	}
	return src, src, nil
}

// MaxRate bounds the rate of the synthetic and file sources (posts per
// second; 0, as fast as possible, is faster still).
const MaxRate = 10_000_000

// MaxPostBytesLimit bounds max_post_bytes: a post is held in memory whole,
// and copied between stages.
const MaxPostBytesLimit = 64 << 20
