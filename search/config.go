package search

import (
	"errors"
	"fmt"
	"time"
)

// Config is the search: section of the configuration file.
type Config struct {
	Enabled   bool          `yaml:"enabled"`
	Dir       string        `yaml:"dir"`        // one bleve index per UTC day under it: DIR/2026-11-22/
	Retention time.Duration `yaml:"retention"`  // how far back posts are kept; older day shards are dropped whole
	BatchSize int           `yaml:"batch_size"` // posts per index batch, at most
	Linger    time.Duration `yaml:"linger"`     // wait at most this long to fill a batch
	MaxFuture time.Duration `yaml:"max_future"` // posts dated further ahead than this are not indexed (clock skew)
	MaxHits   int           `yaml:"max_hits"`   // deepest page a query may reach (from + size)
	HitBudget int           `yaml:"hit_budget"` // a query stops at the day where its hits reach this (newest days first); 0: always the whole window
	// MaxTextBytes bounds the text indexed (and stored) per post: its first
	// MaxTextBytes, cut at a word. Indexing costs memory and time with the
	// number of distinct words; a post of a megabyte of distinct words took
	// gigabytes. The full text stays in ClickHouse.
	MaxTextBytes int `yaml:"max_text_bytes"`
	// MaxPatternWords bounds the distinct words the patterns of a query
	// (wildcards, /regexps/, fuzzy word~N) may match in one day's shard, each text field
	// counted: every word matched holds a term reader of some kilobytes
	// while the day is searched (/.*/ over 30,000 words held about 85 MB).
	// A query over it is a bad query that says so; 0: no limit.
	MaxPatternWords int `yaml:"max_pattern_words"`
}

// Bounds of max_text_bytes.
const (
	MinTextBytes     = 1 << 10
	MaxTextBytesHigh = 1 << 20
)

// DefaultConfig keeps a week, in ./data/search, disabled.
func DefaultConfig() Config {
	return Config{
		Dir:       "data/search",
		Retention: 7 * 24 * time.Hour,
		BatchSize: 5000,
		Linger:    200 * time.Millisecond,
		MaxFuture: time.Hour,
		MaxHits:   10_000,
		HitBudget: 1_000_000,
		// MaxTextBytes: 32 KiB holds any real post (a long X post is 25,000 characters).
		MaxTextBytes: 32 << 10,
		// MaxPatternWords: refund* matches a few dozen words a day; at
		// about 3 KB a word, 10,000 hold some 30 MB a day searched.
		MaxPatternWords: 10_000,
	}
}

// MaxRetention bounds the window: 90 daily shards open at once is plenty.
const MaxRetention = 90 * 24 * time.Hour

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Enabled && c.Dir == "" {
		errs = append(errs, errors.New("search.dir: empty; the index needs a directory"))
	}
	if c.Retention < 24*time.Hour || c.Retention > MaxRetention {
		errs = append(errs, fmt.Errorf("search.retention: %v, want 24h to %v (whole days: shards are per day)", c.Retention, MaxRetention))
	} else if c.Retention%(24*time.Hour) != 0 {
		errs = append(errs, fmt.Errorf("search.retention: %v, want a whole number of days (e.g. 168h)", c.Retention))
	}
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		errs = append(errs, fmt.Errorf("search.batch_size: %d, want 1 to 100000", c.BatchSize))
	}
	if c.Linger < 0 || c.Linger > 10*time.Second {
		errs = append(errs, fmt.Errorf("search.linger: %v, want 0 to 10s", c.Linger))
	}
	if c.MaxFuture < 0 || c.MaxFuture > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("search.max_future: %v, want 0 to 168h", c.MaxFuture))
	}
	if c.MaxHits < 1 || c.MaxHits > 100_000 {
		errs = append(errs, fmt.Errorf("search.max_hits: %d, want 1 to 100000", c.MaxHits))
	}
	if c.MaxTextBytes < MinTextBytes || c.MaxTextBytes > MaxTextBytesHigh {
		errs = append(errs, fmt.Errorf("search.max_text_bytes: %d, want %d to %d", c.MaxTextBytes, MinTextBytes, MaxTextBytesHigh))
	}
	if c.MaxPatternWords < 0 || c.MaxPatternWords > 10_000_000 {
		errs = append(errs, fmt.Errorf("search.max_pattern_words: %d, want 0 (no limit) to 10000000", c.MaxPatternWords))
	}
	if c.HitBudget < 0 || c.HitBudget > 1_000_000_000 {
		errs = append(errs, fmt.Errorf("search.hit_budget: %d, want 0 (search every day) to 1000000000", c.HitBudget))
	}
	return errors.Join(errs...)
}
