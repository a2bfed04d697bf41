// Package sink writes enriched posts and their matches, alerts and all-post
// volume to ClickHouse in native batches.
package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/internal/tlsconf"
	"github.com/earshot-dev/earshot/post"
)

// Config configures the ClickHouse connection and batching.
type Config struct {
	Enabled       bool           `yaml:"enabled"`
	Addr          []string       `yaml:"addr"` // native protocol, host:9000
	Database      string         `yaml:"database"`
	Username      string         `yaml:"username"`
	Password      secret.String  `yaml:"password"`      // or password_file, or password_env
	PasswordFile  string         `yaml:"password_file"` // a file holding the password
	PasswordEnv   string         `yaml:"password_env"`  // an environment variable holding it
	TLS           tlsconf.Config `yaml:"tls"`           // TLS to the secure native port (9440)
	DialTimeout   time.Duration  `yaml:"dial_timeout"`
	BatchSize     int            `yaml:"batch_size"`     // rows per insert, at most
	FlushInterval time.Duration  `yaml:"flush_interval"` // wait at most this long to fill a batch
	Cluster       string         `yaml:"cluster"`        // run the schema ON CLUSTER with replicated and distributed tables; "" for one server
	Retention     Retention      `yaml:"retention"`      // table: 90d or 36h; a TTL where the server has TTL
	Compression   string         `yaml:"compression"`    // on the wire: lz4, zstd or none ("" is lz4)
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
		Compression:   "lz4",
	}
}

// compression is the wire compression sink.compression names. LZ4 is
// the default: it costs little CPU and cuts the bytes sent 2–3× (see
// docs/storage.md); none saves that CPU where the server is on the same
// host or a fast link; zstd sends the fewest bytes, for slow links.
func compression(name string) (clickhouse.CompressionMethod, bool) {
	switch name {
	case "", "lz4":
		return clickhouse.CompressionLZ4, true
	case "zstd":
		return clickhouse.CompressionZSTD, true
	case "none":
		return clickhouse.CompressionNone, true
	}
	return 0, false
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
	if c.Cluster != "" && !identifier.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("sink.cluster: %q is not a plain identifier", c.Cluster))
	}
	if c.BatchSize < 1 || c.BatchSize > 1_000_000 {
		errs = append(errs, fmt.Errorf("sink.batch_size: %d, want 1 to 1000000", c.BatchSize))
	}
	if c.FlushInterval <= 0 || c.FlushInterval > time.Minute {
		errs = append(errs, fmt.Errorf("sink.flush_interval: %v, want more than 0, at most 1m", c.FlushInterval))
	}
	if c.DialTimeout < 0 || c.DialTimeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("sink.dial_timeout: %v, want 0 to 5m", c.DialTimeout))
	}
	if len(c.Addr) > 1000 {
		errs = append(errs, fmt.Errorf("sink.addr: %d addresses, want at most 1000", len(c.Addr)))
	}
	if _, ok := compression(c.Compression); !ok {
		errs = append(errs, fmt.Errorf("sink.compression: %q, want lz4, zstd or none", c.Compression))
	}
	errs = append(errs, c.Retention.Validate())
	errs = append(errs, secret.Check("sink.password", c.Password, c.PasswordFile, c.PasswordEnv), c.TLS.ValidateShape("sink.tls"))
	return errors.Join(errs...)
}

// ReadSecrets reads what Validate only checks is named well: the password
// and the TLS files, reporting every problem at once. A process that
// connects to ClickHouse calls it at start (the others need none of them).
func (c Config) ReadSecrets() error {
	if !c.Enabled {
		return nil
	}
	_, err := secret.Resolve("sink.password", c.Password, c.PasswordFile, c.PasswordEnv, nil)
	return errors.Join(err, c.TLS.Validate("sink.tls"))
}

// Schema is the schema the configuration describes.
func (c Config) Schema() Schema {
	return Schema{DB: c.Database, Cluster: c.Cluster, Retention: c.Retention}
}

// Open connects to ClickHouse over the native protocol, in TLS when
// sink.tls is enabled, with the password from sink.password, its file or
// its environment variable. The connection is lazy: an unreachable server,
// an untrusted certificate or a refused password shows up as an error on
// first use.
//
// On a cluster, inserts into the Distributed tables are synchronous
// (insert_distributed_sync): an insert returns once every shard has its
// rows, so Kafka offsets are committed only for rows the shards hold, and
// what the sink reads back (stored alerts, a deleted post's matches) is
// there. A readonly=1 user may not send settings: open it without Cluster.
func Open(c Config) (driver.Conn, error) {
	method, ok := compression(c.Compression)
	if !ok {
		return nil, fmt.Errorf("sink.compression: %q, want lz4, zstd or none", c.Compression)
	}
	password, err := secret.Resolve("sink.password", c.Password, c.PasswordFile, c.PasswordEnv, nil)
	if err != nil {
		return nil, err
	}
	tlsConfig, err := c.TLS.Client("sink.tls")
	if err != nil {
		return nil, err
	}
	var settings clickhouse.Settings
	if c.Cluster != "" {
		settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        c.Addr,
		Auth:        clickhouse.Auth{Database: "default", Username: c.Username, Password: password},
		TLS:         tlsConfig,
		DialTimeout: c.DialTimeout,
		ReadTimeout: 60 * time.Second,
		Compression: &clickhouse.Compression{Method: method},
		Settings:    settings,
	})
	if err != nil {
		return nil, fmt.Errorf("opening ClickHouse %v: %w", c.Addr, err)
	}
	return conn, nil
}

// Options are a sink's collaborators.
type Options struct {
	Registerer prometheus.Registerer // where the earshot_sink_* metrics go; nil for nowhere
	Logger     *slog.Logger          // nil for nowhere
}

// Sink writes batches to one database.
type Sink struct {
	conn       driver.Conn
	schema     Schema
	db         string
	now        func() time.Time
	log        *slog.Logger
	metrics    *metrics
	rowWise    bool // append row by row only, for comparing in the benchmark
	sequential bool // send a write's tables one after the other, likewise
	blockRows  int  // items per block sent within an insert; 0 for one block

	mu       sync.Mutex
	migrated bool
}

// New returns a sink writing to db over conn, on a single server.
func New(conn driver.Conn, db string) *Sink {
	return NewWith(conn, Config{Database: db}, Options{})
}

// NewWith returns a sink writing over conn where c says.
func NewWith(conn driver.Conn, c Config, o Options) *Sink {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sink{conn: conn, schema: c.Schema(), db: c.Database, now: time.Now, log: log.With("component", "sink"), metrics: newMetrics(o.Registerer),
		blockRows: defaultBlockRows}
}

const postColumns = "post_key, platform, id, author_id, author_handle, author_followers, author_location, author_verified, text, created_at, lang, urls, hashtags, mentions, reply_to, repost_of, quote_of, country, region, sentiment, sentiment_label, watchlists, ingested_at, inserted_at, " +
	"lang_confidence, sentiment_confidence, region_source, region_confidence, intents, influence, cluster_id, cluster_size, media, likes, reposts, replies, source, " +
	"emotion, emotion_confidence, irony, irony_confidence, market"

// defaultBlockRows is the items per block within an insert (see
// appendBlocks); measured in BENCHMARKS.md.
const defaultBlockRows = 2048

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

const deletionColumns = "post_key, deleted_at, inserted_at"

const matchColumns = "post_key, watchlist, watchlist_version, brand, team, keywords, created_at, lang, country, region, sentiment, sentiment_label, inserted_at, " +
	"tags, span_starts, span_ends, intents, influence, emotion, irony, market"

const alertColumns = "alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, " +
	"handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market"

const alertEventColumns = "alert_id, queue, event, actor, at, note, inserted_at"

const volumeColumns = "minute, platform, lang, post_hash"

const suppressionColumns = "post_key, rule, reason, watchlists, region, at, inserted_at"

// Stage returns the sink stage of the enriched topic: matched posts and
// their matches, and deletes. A failed insert fails the batch, which the
// runner retries: that holds the Kafka offsets back (backpressure) until
// ClickHouse is reachable again, and the tables' deduplication makes the
// retry safe. Items ClickHouse cannot hold are rejected, each with the
// reason, and become dead letters; the rest of the batch is written.
func (s *Sink) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return s.countRetries("posts", func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		var items, deletes []*post.Item
		for _, it := range in.Items {
			switch {
			case it.Post.Kind == post.KindDelete:
				deletes = append(deletes, it)
			case it.Post.Kind == post.KindVolume:
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: "sink: a volume record on the enriched topic; volume belongs on the volume topic", Class: post.ClassMisrouted})
			case len(it.Matches) > 0: // an edit that no longer matches keeps its last stored version
				items = append(items, it)
			}
		}
		if len(items)+len(deletes) == 0 {
			return out, nil
		}
		if err := s.migrate(ctx); err != nil {
			return post.Batch{}, err
		}
		items, deletes, foreign, err := s.refuseForeign(ctx, items, deletes)
		if err != nil {
			return post.Batch{}, err
		}
		out.Rejected = append(out.Rejected, foreign...)
		for _, w := range []struct {
			w     *writer
			items []*post.Item
		}{{s.postsWriter(), items}, {s.deletionsWriter(), deletes}} {
			if len(w.items) == 0 {
				continue
			}
			rej, err := s.write(ctx, w.w, w.items)
			if err != nil {
				return post.Batch{}, err
			}
			out.Rejected = append(out.Rejected, rej...)
		}
		if len(deletes) > 0 {
			if err := s.subtractDeleted(ctx, deletes); err != nil {
				return post.Batch{}, err
			}
		}
		return out, nil
	})
}

// countRetries counts every failed call of a stage, whatever failed (the
// schema not made yet, a lookup, an insert), in earshot_sink_retries_total
// under table: the runner retries the batch, and an operator alerting on
// this metric sees an unreachable ClickHouse from the first call, not only
// once the schema is made and an insert fails.
func (s *Sink) countRetries(table string, stage func(context.Context, post.Batch) (post.Batch, error)) func(context.Context, post.Batch) (post.Batch, error) {
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		out, err := stage(ctx, in)
		if err != nil {
			s.metrics.retries.WithLabelValues(table).Inc()
		}
		return out, err
	}
}

// subtractDeleted copies the stored matches of deleted posts into
// deleted_matches, which the roll-up views subtract. A retry copies them
// again; the roll-ups count distinct post keys, so nothing is taken twice.
func (s *Sink) subtractDeleted(ctx context.Context, deletes []*post.Item) error {
	keys := make([]string, len(deletes))
	for i, it := range deletes {
		keys[i] = quote(it.Key())
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".deleted_matches (post_key, created_at, watchlist, region, sentiment_label, keywords)")
	if err != nil {
		return fmt.Errorf("preparing deleted_matches insert: %w", err)
	}
	defer b.Abort()
	n := 0
	err = s.queryKeys(ctx, "SELECT post_key, created_at, watchlist, region, sentiment_label, keywords FROM "+s.db+".matches FINAL WHERE post_key IN (", keys, ")", func(rows driver.Rows) error {
		var key, watchlist, region, label string
		var created time.Time
		var keywords []string
		if err := rows.Scan(&key, &created, &watchlist, &region, &label, &keywords); err != nil {
			return err
		}
		if err := b.Append(key, created, watchlist, region, label, keywords); err != nil {
			return fmt.Errorf("appending deleted match %s: %w", key, err)
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the matches of deleted posts: %w", err)
	}
	if n == 0 {
		return nil // none of them was stored: nothing counted to take back
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d deleted matches: %w", n, err)
	}
	return nil
}

// AlertStage returns the sink stage of a queue's alert topic: every alert
// goes into alerts (latest version wins) with a created or retracted event.
func (s *Sink) AlertStage() func(context.Context, post.Batch) (post.Batch, error) {
	return s.recordStage("alerts", "sink: a record on an alert topic carries no alert",
		func(it *post.Item) bool { return it.Alert != nil }, s.alertsWriter)
}

// SuppressionStage returns the sink stage of the suppressed topic: one row
// per post a routing rule suppressed, in suppressions (the latest decision
// per post wins), for analysts to count by reason and rule.
func (s *Sink) SuppressionStage() func(context.Context, post.Batch) (post.Batch, error) {
	return s.recordStage("suppressions", "sink: a record on the suppressed topic carries no suppression",
		func(it *post.Item) bool { return it.Suppression != nil },
		func(context.Context, []*post.Item) (*writer, error) { return s.suppressionWriter(), nil })
}

// recordStage is the stage of a topic whose records must each carry one
// kind of thing (an alert, a suppression): a record without it is
// dead-lettered with reason, the rest written by the writer made for them.
func (s *Sink) recordStage(table, reason string, carries func(*post.Item) bool, newWriter func(context.Context, []*post.Item) (*writer, error)) func(context.Context, post.Batch) (post.Batch, error) {
	return s.countRetries(table, func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		var items []*post.Item
		for _, it := range in.Items {
			if !carries(it) {
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: reason, Class: post.ClassMisrouted})
				continue
			}
			items = append(items, it)
		}
		if len(items) == 0 {
			return out, nil
		}
		if err := s.migrate(ctx); err != nil {
			return post.Batch{}, err
		}
		w, err := newWriter(ctx, items)
		if err != nil {
			return post.Batch{}, err
		}
		rej, err := s.write(ctx, w, items)
		if err != nil {
			return post.Batch{}, err
		}
		out.Rejected = append(out.Rejected, rej...)
		return out, nil
	})
}

func (s *Sink) suppressionWriter() *writer {
	return &writer{
		tables: []table{{"suppressions", suppressionColumns}},
		check:  func(it *post.Item) error { return checkTime("at", it.Suppression.At) },
		add: func(bs []driver.Batch, it *post.Item) (int, error) {
			sp := it.Suppression
			var wls []string
			region := ""
			for _, m := range it.Matches {
				wls = append(wls, m.Watchlist)
			}
			if it.Enrichment != nil {
				region = it.Enrichment.Region
			}
			if wls == nil {
				wls = []string{}
			}
			if err := bs[0].Append(it.Key(), sp.Rule, sp.Reason, wls, region, sp.At.UTC(), time.Now().UTC()); err != nil {
				return 0, fmt.Errorf("appending suppression %s: %w", it.Key(), err)
			}
			return 1, nil
		},
	}
}

// VolumeStage returns the sink stage of the volume topic: one row per post
// heard into volume_in, which only the volume_per_minute roll-up keeps.
func (s *Sink) VolumeStage() func(context.Context, post.Batch) (post.Batch, error) {
	return s.countRetries("volume_in", func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		var items []*post.Item
		for _, it := range in.Items {
			if it.Volume == nil {
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: "sink: a record on the volume topic carries no volume", Class: post.ClassMisrouted})
				continue
			}
			// Cells of a minute a DateTime cannot hold are dead-lettered on
			// their own; the record's other cells are written.
			var good, bad []post.VolumeCell
			for _, c := range it.Volume.Cells {
				if checkTime("minute", c.Minute) != nil {
					bad = append(bad, c)
				} else {
					good = append(good, c)
				}
			}
			if len(bad) > 0 {
				reason := checkTime("minute", bad[0].Minute).Error()
				s.metrics.rejected.WithLabelValues("volume_in").Inc()
				out.Rejected = append(out.Rejected, post.Rejected{Item: &post.Item{Post: it.Post, Volume: &post.Volume{Cells: bad}}, Reason: "sink: " + reason, Class: post.ClassInvalidField})
				if len(good) == 0 {
					continue
				}
				it = &post.Item{Post: it.Post, Volume: &post.Volume{Cells: good}}
			}
			items = append(items, it)
		}
		if len(items) == 0 {
			return out, nil
		}
		if err := s.migrate(ctx); err != nil {
			return post.Batch{}, err
		}
		rej, err := s.write(ctx, s.volumeWriter(), items)
		if err != nil {
			return post.Batch{}, err
		}
		out.Rejected = append(out.Rejected, rej...)
		return out, nil
	})
}

// migrate brings the schema up to date before the first write, so a sink
// started before ClickHouse is reachable waits for it like any write does.
func (s *Sink) migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated {
		return nil
	}
	if _, err := s.schema.Migrate(ctx, s.conn, s.log); err != nil {
		return err
	}
	s.migrated = true
	return nil
}

// DateTime holds seconds since 1970 in 32 bits; the driver wraps a time
// outside silently, so the sink refuses such items instead of storing a
// wrong date.
var (
	minDateTime = time.Unix(0, 0)
	maxDateTime = time.Unix(1<<32-1, 0)
)

func checkTime(what string, t time.Time) error {
	if t.Before(minDateTime) || t.After(maxDateTime) {
		return fmt.Errorf("%s %s is outside what a ClickHouse DateTime holds (1970-01-01 to 2106-02-07)", what, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// optTime is t, or 1970-01-01 when t is unset: DateTime has no null.
func optTime(t time.Time) time.Time {
	if t.IsZero() {
		return minDateTime.UTC()
	}
	return t.UTC()
}

func (s *Sink) postsWriter() *writer {
	now := s.now().UTC()
	return &writer{
		tables:   []table{{"posts", postColumns}, {"matches", matchColumns}},
		columns:  postsColumns(now),
		together: true, // a retry rewrites both, and both deduplicate
		check: func(it *post.Item) error {
			p := it.Post
			if err := checkTime("created_at", p.CreatedAt); err != nil {
				return err
			}
			return checkTime("ingested_at", optTime(p.IngestedAt))
		},
		add: func(bs []driver.Batch, it *post.Item) (int, error) {
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
			err := bs[0].Append(p.Key(), p.Platform, p.ID, p.Author.ID, p.Author.Handle, p.Author.Followers, p.Author.Location, verified,
				p.Text, p.CreatedAt.UTC(), en.Lang, nonNil(p.URLs), nonNil(p.Hashtags), nonNil(p.Mentions), p.ReplyTo, p.RepostOf, p.QuoteOf,
				en.Country, en.Region, float32(en.Sentiment), en.SentimentLabel, wls, optTime(p.IngestedAt), now,
				float32(en.LangConfidence), float32(en.SentimentConfidence), en.RegionSource, float32(en.RegionConfidence), nonNil(en.Intents),
				float32(en.Influence), en.ClusterID, uint32(max(en.ClusterSize, 0)), uint16(min(max(p.Media, 0), 65535)), eng.Likes, eng.Reposts, eng.Replies, p.Source,
				en.Emotion, float32(en.EmotionConfidence), boolByte(en.Irony), float32(en.IronyConfidence), en.Market)
			if err != nil {
				return 0, fmt.Errorf("appending post %s: %w", p.Key(), err)
			}
			for _, m := range it.Matches {
				starts, ends := make([]uint32, len(m.Spans)), make([]uint32, len(m.Spans))
				for i, sp := range m.Spans {
					starts[i], ends[i] = uint32(max(sp.Start, 0)), uint32(max(sp.End, 0))
				}
				err := bs[1].Append(p.Key(), m.Watchlist, uint32(max(m.Version, 0)), m.Brand, m.Team, nonNil(m.Keywords), p.CreatedAt.UTC(),
					en.Lang, en.Country, en.Region, float32(en.Sentiment), en.SentimentLabel, now,
					nonNil(m.Tags), starts, ends, nonNil(en.Intents), float32(en.Influence), en.Emotion, boolByte(en.Irony), en.Market)
				if err != nil {
					return 0, fmt.Errorf("appending match %s/%s: %w", p.Key(), m.Watchlist, err)
				}
			}
			return 1 + len(it.Matches), nil
		},
	}
}

// deletionsWriter records deleted posts; the views leave them out from then on.
func (s *Sink) deletionsWriter() *writer {
	now := s.now().UTC()
	return &writer{
		tables: []table{{"deletions", deletionColumns}},
		check:  func(it *post.Item) error { return checkTime("ingested_at", optTime(it.Post.IngestedAt)) },
		add: func(bs []driver.Batch, it *post.Item) (int, error) {
			at := it.Post.IngestedAt
			if at.IsZero() {
				at = now
			}
			if err := bs[0].Append(it.Key(), at.UTC(), now); err != nil {
				return 0, fmt.Errorf("appending deletion %s: %w", it.Key(), err)
			}
			return 1, nil
		},
	}
}

func (s *Sink) volumeWriter() *writer {
	return &writer{
		tables:  []table{{"volume_in", volumeColumns}},
		columns: volumeColumnsOf,
		check: func(it *post.Item) error {
			for _, c := range it.Volume.Cells {
				if err := checkTime("minute", c.Minute); err != nil {
					return err
				}
			}
			return nil
		},
		add: func(bs []driver.Batch, it *post.Item) (int, error) {
			n := 0
			for _, c := range it.Volume.Cells {
				m := c.Minute.UTC()
				for _, h := range c.Posts {
					if err := bs[0].Append(m, c.Platform, c.Lang, h); err != nil {
						return 0, fmt.Errorf("appending volume %s: %w", it.Key(), err)
					}
					n++
				}
			}
			return n, nil
		},
	}
}

// storedAlert is an alert's row as stored.
type storedAlert struct {
	createdAt, insertedAt time.Time
	team, priority, rule  string
	watchlists            []string
	region, incident      string
	market                string
	incidentSize          uint32
	spike, retracted      uint8
	handedOffFrom         string
	unstaffed             uint8
	dueAt                 time.Time
}

// alertRows is what the sink writes for one alert item.
type alertRows struct {
	row   storedAlert
	event string // "" when the alert is stored already and nothing happened to it
	at    time.Time
	note  string
}

// alertsWriter writes alerts and their created or retracted events.
//
// An alert the table holds already (redelivered, or updated by an edit of
// its post) keeps its created_at and due_at: the SLA clock does not restart,
// the new version lands in the same partition (so it replaces the old one)
// and it gets no second created event, whose time would differ (the route
// stage stamps it when it runs). A retraction keeps the stored alert's
// fields and adds a retracted event. Every new version is written with an
// inserted_at later than the stored one's, so it wins within the same
// second too. Events are sent before alerts: if the alerts insert fails the
// retry finds no stored alert and writes the same created event again,
// which collapses.
func (s *Sink) alertsWriter(ctx context.Context, items []*post.Item) (*writer, error) {
	now := s.now().UTC().Truncate(time.Second)
	stored, err := s.storedAlerts(ctx, items)
	if err != nil {
		return nil, err
	}
	rows := make(map[*post.Item]alertRows, len(items))
	for _, it := range items { // in topic order: a later item sees an earlier one of the batch
		a := it.Alert
		wls := make([]string, len(it.Matches))
		for i, m := range it.Matches {
			wls[i] = m.Watchlist
		}
		region, market := "", ""
		if it.Enrichment != nil {
			region, market = it.Enrichment.Region, it.Enrichment.Market
		}
		row := storedAlert{createdAt: a.CreatedAt.UTC(), insertedAt: now, team: a.Team, priority: a.Priority, rule: a.Rule, watchlists: wls,
			region: region, market: market, incident: a.Incident, incidentSize: uint32(max(a.IncidentSize, 0)), handedOffFrom: a.HandedOffFrom, dueAt: optTime(a.DueAt)}
		if a.Spike != nil {
			row.spike = 1
			if row.region == "" {
				row.region = a.Spike.Region
			}
		}
		if a.Unstaffed {
			row.unstaffed = 1
		}
		r := alertRows{event: "created", at: a.CreatedAt.UTC(), note: a.Rule}
		key := a.Queue + "\x00" + a.ID
		old, ok := stored[key]
		switch {
		case a.Retracted && ok:
			row = old
			row.retracted = 1
			r.event, r.note = RetractedEvent, "the post was deleted, or edited out of every watchlist"
			if old.retracted == 1 {
				r.event = "" // retracted already
			}
		case a.Retracted:
			row.retracted = 1
			r.event, r.note = RetractedEvent, "the post was deleted, or edited out of every watchlist"
		case ok:
			row.createdAt, row.dueAt = old.createdAt, old.dueAt
			if old.retracted == 0 {
				r.event = "" // the same alert again
			}
		}
		if ok && !row.insertedAt.After(old.insertedAt) {
			row.insertedAt = old.insertedAt.Add(time.Second)
		}
		r.row = row
		rows[it] = r
		stored[key] = row
	}
	return &writer{
		tables: []table{{"alert_events", alertEventColumns}, {"alerts", alertColumns}},
		label:  "alerts",
		check: func(it *post.Item) error {
			a := it.Alert
			switch {
			case a.ID == "":
				return errors.New("alert has no id")
			case a.Queue == "":
				return errors.New("alert has no queue")
			}
			if err := checkTime("alert created_at", a.CreatedAt); err != nil {
				return err
			}
			return checkTime("alert due_at", optTime(a.DueAt))
		},
		add: func(bs []driver.Batch, it *post.Item) (int, error) {
			a, r := it.Alert, rows[it]
			payload, err := post.Encode(nil, it)
			if err != nil {
				return 0, err
			}
			n := 1
			if r.event != "" {
				if err := bs[0].Append(a.ID, a.Queue, r.event, "earshot", r.at, r.note, now); err != nil {
					return 0, fmt.Errorf("appending alert event %s: %w", a.ID, err)
				}
				n++
			}
			row := r.row
			err = bs[1].Append(a.ID, a.Queue, row.team, row.priority, row.rule, it.Key(), nonNil(row.watchlists), row.region, row.incident,
				row.incidentSize, row.spike, row.retracted, row.handedOffFrom, row.unstaffed, row.createdAt, row.dueAt, string(payload), row.insertedAt, row.market)
			if err != nil {
				return 0, fmt.Errorf("appending alert %s: %w", a.ID, err)
			}
			return n, nil
		},
	}, nil
}

// storedAlerts reads the latest stored version of the batch's alerts, by
// queue and id.
func (s *Sink) storedAlerts(ctx context.Context, items []*post.Item) (map[string]storedAlert, error) {
	out := map[string]storedAlert{}
	var keys []string
	seen := map[string]bool{}
	for _, it := range items {
		k := "(" + quote(it.Alert.Queue) + ", " + quote(it.Alert.ID) + ")"
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	head := "SELECT queue, alert_id, created_at, inserted_at, team, priority, rule, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, due_at, market FROM " +
		s.db + ".alerts FINAL WHERE (queue, alert_id) IN ("
	err := s.queryKeys(ctx, head, keys, ")", func(rows driver.Rows) error {
		var queue, id string
		var a storedAlert
		if err := rows.Scan(&queue, &id, &a.createdAt, &a.insertedAt, &a.team, &a.priority, &a.rule, &a.watchlists, &a.region, &a.incident, &a.incidentSize,
			&a.spike, &a.retracted, &a.handedOffFrom, &a.unstaffed, &a.dueAt, &a.market); err != nil {
			return err
		}
		a.createdAt, a.insertedAt, a.dueAt = a.createdAt.UTC(), a.insertedAt.UTC(), a.dueAt.UTC()
		out[queue+"\x00"+id] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the stored versions of alerts: %w", err)
	}
	return out, nil
}

// quote makes s a ClickHouse string literal. 18.16 has no server-side
// parameters, so the few values the sink puts in a query are quoted here.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// maxKeysText bounds the quoted keys one query carries in an IN list. The
// server refuses a query longer than max_query_size (256 KiB by default),
// and a refused query is an error the runner retries for ever: a batch of
// long keys (600 deletes of 500-byte ids; 10,000 alerts at 50 bytes a key)
// stalled the sink. Half the default leaves room for the rest of the query.
const maxKeysText = 128 << 10

// keyChunks splits quoted keys into lists joined with ", " of at most
// limit bytes each (a key longer than limit goes alone: ids are bounded by
// ingest, far below it).
func keyChunks(keys []string, limit int) []string {
	var chunks []string
	for len(keys) > 0 {
		n, size := 1, len(keys[0])
		for n < len(keys) && size+2+len(keys[n]) <= limit {
			size += 2 + len(keys[n])
			n++
		}
		chunks = append(chunks, strings.Join(keys[:n], ", "))
		keys = keys[n:]
	}
	return chunks
}

// queryKeys runs the query head + list + tail once per chunk of keys (see
// keyChunks), list being the chunk's quoted keys, and calls scan for each
// row of every answer.
func (s *Sink) queryKeys(ctx context.Context, head string, keys []string, tail string, scan func(driver.Rows) error) error {
	for _, list := range keyChunks(keys, maxKeysText) {
		if err := s.queryRows(ctx, head+list+tail, scan); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) queryRows(ctx context.Context, q string, scan func(driver.Rows) error) error {
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Check asks the server for a ping, waiting at most 10s, and returns an
// error only for a failure that retrying cannot cure: an untrusted
// certificate, a certificate for another name, a refused username or
// password. A server that is down or slow is left to the sink's retries.
func Check(ctx context.Context, conn driver.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := conn.Ping(ctx)
	if err == nil {
		return nil
	}
	var (
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		record  tls.RecordHeaderError
		ex      *clickhouse.Exception
		op      *net.OpError
	)
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("ClickHouse: the server's certificate is not signed by a trusted CA: set sink.tls.ca_file to the CA that signed it: %w", err)
	case errors.As(err, &host):
		return fmt.Errorf("ClickHouse: the server's certificate does not name the host dialled: use the name it carries in sink.addr, or set sink.tls.server_name: %w", err)
	case errors.As(err, &invalid):
		return fmt.Errorf("ClickHouse: the server's certificate is not valid: %w", err)
	case errors.As(err, &op) && op.Op == "remote error": // a TLS alert the server sent
		return fmt.Errorf("ClickHouse refused the TLS handshake: a client certificate missing or not trusted (sink.tls.cert_file, key_file), or no TLS version in common: %w", err)
	case errors.As(err, &record):
		return fmt.Errorf("ClickHouse: the server did not answer in TLS: is sink.addr its secure port (9440)? %w", err)
	case errors.As(err, &ex) && (ex.Code == 192 || ex.Code == 193 || ex.Code == 516):
		// UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED
		return fmt.Errorf("ClickHouse refused the username or password (sink.username, sink.password): %w", err)
	}
	return nil
}
