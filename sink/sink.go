// Package sink writes enriched posts and their matches to ClickHouse in
// native batches.
package sink

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
)

// Config configures the ClickHouse connection and batching.
type Config struct {
	Enabled       bool          `yaml:"enabled"`
	Addr          []string      `yaml:"addr"` // native protocol, host:9000
	Database      string        `yaml:"database"`
	Username      string        `yaml:"username"`
	Password      string        `yaml:"password"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
	BatchSize     int           `yaml:"batch_size"`     // rows per insert, at most
	FlushInterval time.Duration `yaml:"flush_interval"` // wait at most this long to fill a batch
}

// DefaultConfig returns a local, disabled sink.
func DefaultConfig() Config {
	return Config{
		Addr:          []string{"127.0.0.1:9000"},
		Database:      "earshot",
		Username:      "default",
		DialTimeout:   5 * time.Second,
		BatchSize:     10_000,
		FlushInterval: time.Second,
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Validate reports every problem at once.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if len(c.Addr) == 0 {
		errs = append(errs, errors.New("sink.addr: at least one ClickHouse address is needed"))
	}
	if !identifier.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("sink.database: %q is not a plain identifier", c.Database))
	}
	if c.BatchSize < 1 || c.BatchSize > 1_000_000 {
		errs = append(errs, fmt.Errorf("sink.batch_size: %d, want 1 to 1000000", c.BatchSize))
	}
	if c.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("sink.flush_interval: %v, want more than 0", c.FlushInterval))
	}
	return errors.Join(errs...)
}

// Open connects to ClickHouse over the native protocol. The connection is
// lazy: an unreachable server shows up as an error on first use.
func Open(c Config) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        c.Addr,
		Auth:        clickhouse.Auth{Database: "default", Username: c.Username, Password: c.Password},
		DialTimeout: c.DialTimeout,
		ReadTimeout: 60 * time.Second,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	})
	if err != nil {
		return nil, fmt.Errorf("opening ClickHouse %v: %w", c.Addr, err)
	}
	return conn, nil
}

// Sink writes batches to one database.
type Sink struct {
	conn driver.Conn
	db   string
	now  func() time.Time

	mu       sync.Mutex
	migrated bool
}

// New returns a sink writing to db over conn.
func New(conn driver.Conn, db string) *Sink {
	return &Sink{conn: conn, db: db, now: time.Now}
}

const postColumns = "post_key, platform, id, author_id, author_handle, author_followers, author_location, author_verified, text, created_at, lang, urls, hashtags, mentions, reply_to, repost_of, quote_of, country, region, sentiment, sentiment_label, watchlists, ingested_at, inserted_at, " +
	"lang_confidence, sentiment_confidence, region_source, region_confidence, intents, influence, cluster_id, cluster_size, media, likes, reposts, replies, source"

const deletionColumns = "post_key, deleted_at, inserted_at"

const alertColumns = "alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, " +
	"handed_off_from, unstaffed, created_at, due_at, payload, inserted_at"

const alertEventColumns = "alert_id, queue, event, actor, at, note, inserted_at"

const volumeColumns = "minute, platform, lang, post_hash"

const matchColumns = "post_key, watchlist, watchlist_version, brand, team, keywords, created_at, lang, country, region, sentiment, sentiment_label, inserted_at, " +
	"tags, span_starts, span_ends, intents, influence"

// Stage returns the sink stage. A failed insert fails the batch, which the
// runner retries: that holds the Kafka offsets back (backpressure) until
// ClickHouse is reachable again, and the tables' deduplication makes the
// retry safe.
func (s *Sink) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var items, deletes []*post.Item
		for _, it := range in.Items {
			switch {
			case it.Post.Kind == post.KindDelete:
				deletes = append(deletes, it)
			case len(it.Matches) > 0: // an edit that no longer matches keeps its last stored version
				items = append(items, it)
			}
		}
		if len(items)+len(deletes) == 0 {
			return post.Batch{}, nil
		}
		if err := s.migrate(ctx); err != nil {
			return post.Batch{}, err
		}
		if len(items) > 0 {
			if err := s.write(ctx, items); err != nil {
				return post.Batch{}, err
			}
		}
		if len(deletes) > 0 {
			if err := s.delete(ctx, deletes); err != nil {
				return post.Batch{}, err
			}
		}
		return post.Batch{}, nil
	}
}

// migrate brings the schema up to date before the first write, so a sink
// started before ClickHouse is reachable waits for it like any write does.
func (s *Sink) migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated {
		return nil
	}
	if _, err := Migrate(ctx, s.conn, s.db); err != nil {
		return err
	}
	s.migrated = true
	return nil
}

func (s *Sink) write(ctx context.Context, items []*post.Item) error {
	now := s.now().UTC()
	posts, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".posts ("+postColumns+")")
	if err != nil {
		return fmt.Errorf("preparing posts insert: %w", err)
	}
	defer posts.Abort()
	matches, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".matches ("+matchColumns+")")
	if err != nil {
		return fmt.Errorf("preparing matches insert: %w", err)
	}
	defer matches.Abort()
	for _, it := range items {
		p, en := it.Post, it.Enrichment
		if en == nil {
			en = &post.Enrichment{}
		}
		wls := make([]string, len(it.Matches))
		for i, m := range it.Matches {
			wls[i] = m.Watchlist
		}
		var verified uint8
		if p.Author.Verified {
			verified = 1
		}
		eng := p.Engagement
		if eng == nil {
			eng = &post.Engagement{}
		}
		err := posts.Append(p.Key(), p.Platform, p.ID, p.Author.ID, p.Author.Handle, p.Author.Followers, p.Author.Location, verified,
			p.Text, p.CreatedAt.UTC(), en.Lang, nonNil(p.URLs), nonNil(p.Hashtags), nonNil(p.Mentions), p.ReplyTo, p.RepostOf, p.QuoteOf,
			en.Country, en.Region, float32(en.Sentiment), en.SentimentLabel, wls, p.IngestedAt.UTC(), now,
			float32(en.LangConfidence), float32(en.SentimentConfidence), en.RegionSource, float32(en.RegionConfidence), nonNil(en.Intents),
			float32(en.Influence), en.ClusterID, uint32(max(en.ClusterSize, 0)), uint16(min(max(p.Media, 0), 65535)), eng.Likes, eng.Reposts, eng.Replies, p.Source)
		if err != nil {
			return fmt.Errorf("appending post %s: %w", p.Key(), err)
		}
		for _, m := range it.Matches {
			starts, ends := make([]uint32, len(m.Spans)), make([]uint32, len(m.Spans))
			for i, sp := range m.Spans {
				starts[i], ends[i] = uint32(sp.Start), uint32(sp.End)
			}
			err := matches.Append(p.Key(), m.Watchlist, uint32(m.Version), m.Brand, m.Team, nonNil(m.Keywords), p.CreatedAt.UTC(),
				en.Lang, en.Country, en.Region, float32(en.Sentiment), en.SentimentLabel, now,
				nonNil(m.Tags), starts, ends, nonNil(en.Intents), float32(en.Influence))
			if err != nil {
				return fmt.Errorf("appending match %s/%s: %w", p.Key(), m.Watchlist, err)
			}
		}
	}
	if err := posts.Send(); err != nil {
		return fmt.Errorf("inserting %d posts: %w", len(items), err)
	}
	if err := matches.Send(); err != nil {
		return fmt.Errorf("inserting matches: %w", err)
	}
	return nil
}

// delete records deleted posts; the views leave them out from then on.
func (s *Sink) delete(ctx context.Context, items []*post.Item) error {
	now := s.now().UTC()
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".deletions ("+deletionColumns+")")
	if err != nil {
		return fmt.Errorf("preparing deletions insert: %w", err)
	}
	defer b.Abort()
	for _, it := range items {
		at := it.Post.IngestedAt
		if at.IsZero() {
			at = now
		}
		if err := b.Append(it.Key(), at.UTC(), now); err != nil {
			return fmt.Errorf("appending deletion %s: %w", it.Key(), err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d deletions: %w", len(items), err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
