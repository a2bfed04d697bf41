// Package ingest turns outside sources into canonical posts: a synthetic
// firehose for demos and benchmarks, and NDJSON file replay.
package ingest

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/earshot-dev/earshot/stream"
)

// Config selects and tunes the source.
type Config struct {
	Source       string          `yaml:"source"` // synthetic or file
	Synthetic    SyntheticConfig `yaml:"synthetic"`
	File         FileConfig      `yaml:"file"`
	MaxPostBytes int             `yaml:"max_post_bytes"` // a larger input line or post text is dead-lettered
	BatchSize    int             `yaml:"batch_size"`
}

// SyntheticConfig tunes the synthetic firehose.
type SyntheticConfig struct {
	Rate      int       `yaml:"rate"`       // posts per second; 0 is as fast as possible
	Seed      uint64    `yaml:"seed"`       // same seed, same posts
	Limit     int64     `yaml:"limit"`      // stop after this many posts; 0 never stops
	BrandRate float64   `yaml:"brand_rate"` // share of posts that mention a brand
	Start     time.Time `yaml:"start"`      // created_at of the first post; zero is now
}

// FileConfig tunes NDJSON replay.
type FileConfig struct {
	Path string `yaml:"path"`
	Rate int    `yaml:"rate"` // posts per second; 0 is as fast as possible
}

// DefaultConfig returns the synthetic firehose at 1,000 posts/s.
func DefaultConfig() Config {
	return Config{
		Source:       "synthetic",
		Synthetic:    SyntheticConfig{Rate: 1000, Seed: 7, BrandRate: 0.1},
		MaxPostBytes: 1 << 20,
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
	default:
		errs = append(errs, fmt.Errorf("ingest.source: %q, want synthetic or file", c.Source))
	}
	if c.Synthetic.Rate < 0 || c.File.Rate < 0 {
		errs = append(errs, errors.New("ingest rate: must not be negative"))
	}
	if c.Synthetic.Limit < 0 {
		errs = append(errs, errors.New("ingest.synthetic.limit: must not be negative"))
	}
	if c.Synthetic.BrandRate < 0 || c.Synthetic.BrandRate > 1 {
		errs = append(errs, fmt.Errorf("ingest.synthetic.brand_rate: %v, want 0 to 1", c.Synthetic.BrandRate))
	}
	if c.MaxPostBytes < 1024 {
		errs = append(errs, fmt.Errorf("ingest.max_post_bytes: %d, want at least 1024", c.MaxPostBytes))
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

// Open returns the source cfg selects and a closer for what it holds open.
func Open(cfg Config) (stream.Source, io.Closer, error) {
	switch cfg.Source {
	case "file":
		f, err := OpenFile(cfg.File.Path, cfg.File.Rate, cfg.MaxPostBytes)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	case "synthetic":
		return NewSynthetic(cfg.Synthetic), io.NopCloser(nil), nil
	}
	return nil, nil, fmt.Errorf("ingest.source: unknown source %q", cfg.Source)
}
