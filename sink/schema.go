package sink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// migrations are applied in order, each once; the database records the
// newest version applied. Statements are kept compatible with ClickHouse
// 18.16 (the Debian server) and current releases: explicit column lists,
// no TTL, no LowCardinality, no skip indexes. {db} is the database name.
//
// Posts and matches are ReplacingMergeTree tables keyed on the post (and
// watchlist), so a redelivered batch collapses into one row; queries that
// must be exact before a merge use FINAL, or the *_dedup views.
var migrations = []struct {
	version int
	name    string
	stmts   []string
}{
	{1, "posts and matches", []string{
		`CREATE TABLE IF NOT EXISTS {db}.posts (
			post_key String,
			platform String,
			id String,
			author_id String,
			author_handle String,
			author_followers Int64,
			author_location String,
			author_verified UInt8,
			text String,
			created_at DateTime,
			lang String,
			urls Array(String),
			hashtags Array(String),
			mentions Array(String),
			reply_to String,
			repost_of String,
			quote_of String,
			country String,
			region String,
			sentiment Float32,
			sentiment_label String,
			watchlists Array(String),
			ingested_at DateTime,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (platform, id)`,
		`CREATE TABLE IF NOT EXISTS {db}.matches (
			post_key String,
			watchlist String,
			watchlist_version UInt32,
			brand String,
			team String,
			keywords Array(String),
			created_at DateTime,
			lang String,
			country String,
			region String,
			sentiment Float32,
			sentiment_label String,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (watchlist, post_key)`,
		`CREATE VIEW IF NOT EXISTS {db}.posts_dedup AS SELECT * FROM {db}.posts FINAL`,
		`CREATE VIEW IF NOT EXISTS {db}.matches_dedup AS SELECT * FROM {db}.matches FINAL`,
	}},
	// Version 2: the enrichment's confidences and further tags, the post's
	// media, engagement and source, and the spans of matches. The views are
	// recreated because "SELECT *" views fix their columns when created.
	{2, "enrichment tags, engagement, spans", []string{
		`ALTER TABLE {db}.posts
			ADD COLUMN lang_confidence Float32 DEFAULT 0,
			ADD COLUMN sentiment_confidence Float32 DEFAULT 0,
			ADD COLUMN region_source String DEFAULT '',
			ADD COLUMN region_confidence Float32 DEFAULT 0,
			ADD COLUMN intents Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN influence Float32 DEFAULT 0,
			ADD COLUMN cluster_id String DEFAULT '',
			ADD COLUMN cluster_size UInt32 DEFAULT 0,
			ADD COLUMN media UInt16 DEFAULT 0,
			ADD COLUMN likes Int64 DEFAULT 0,
			ADD COLUMN reposts Int64 DEFAULT 0,
			ADD COLUMN replies Int64 DEFAULT 0,
			ADD COLUMN source String DEFAULT ''`,
		`ALTER TABLE {db}.matches
			ADD COLUMN tags Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN span_starts Array(UInt32) DEFAULT CAST([] AS Array(UInt32)),
			ADD COLUMN span_ends Array(UInt32) DEFAULT CAST([] AS Array(UInt32)),
			ADD COLUMN intents Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN influence Float32 DEFAULT 0`,
		`DROP TABLE IF EXISTS {db}.posts_dedup`,
		`DROP TABLE IF EXISTS {db}.matches_dedup`,
		`CREATE VIEW {db}.posts_dedup AS SELECT * FROM {db}.posts FINAL`,
		`CREATE VIEW {db}.matches_dedup AS SELECT * FROM {db}.matches FINAL`,
	}},
	// Version 3: deletes from the platforms. A deleted post's key goes into
	// deletions, and the views leave it out, so it disappears from every
	// query through them as soon as the delete is written.
	{3, "deletions", []string{
		`CREATE TABLE IF NOT EXISTS {db}.deletions (
			post_key String,
			deleted_at DateTime,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		ORDER BY post_key`,
		`DROP TABLE IF EXISTS {db}.posts_dedup`,
		`DROP TABLE IF EXISTS {db}.matches_dedup`,
		`CREATE VIEW {db}.posts_dedup AS SELECT * FROM {db}.posts FINAL WHERE post_key NOT IN (SELECT post_key FROM {db}.deletions)`,
		`CREATE VIEW {db}.matches_dedup AS SELECT * FROM {db}.matches FINAL WHERE post_key NOT IN (SELECT post_key FROM {db}.deletions)`,
	}},
}

// SchemaVersion is the newest schema version this build knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// Migrate creates the database if needed and applies the migrations it has
// not yet recorded. Running it again does nothing.
func Migrate(ctx context.Context, conn driver.Conn, db string) (applied []int, err error) {
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", db, err)
	}
	if err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+db+".schema_migrations (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version"); err != nil {
		return nil, fmt.Errorf("creating %s.schema_migrations: %w", db, err)
	}
	var current uint32
	row := conn.QueryRow(ctx, "SELECT max(version) FROM "+db+".schema_migrations")
	if err := row.Scan(&current); err != nil {
		return nil, fmt.Errorf("reading schema version: %w", err)
	}
	if int(current) > SchemaVersion() {
		return nil, fmt.Errorf("database %s is at schema version %d, newer than this build's %d", db, current, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= int(current) {
			continue
		}
		for _, s := range m.stmts {
			if err := conn.Exec(ctx, strings.ReplaceAll(s, "{db}", db)); err != nil {
				return applied, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
		if err := record(ctx, conn, db, m.version, m.name); err != nil {
			return applied, fmt.Errorf("recording migration %d: %w", m.version, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

// record notes an applied migration. It goes through a native batch: an
// INSERT with bound values through Exec hangs on 18.16.
func record(ctx context.Context, conn driver.Conn, db string, version int, name string) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".schema_migrations (version, name, applied_at)")
	if err != nil {
		return err
	}
	if err := b.Append(uint32(version), name, time.Now().UTC()); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}

// Statements returns every statement Migrate runs on an empty database, in
// order, for checking the SQL against other ClickHouse versions (see
// deploy/local/sqlcheck.py).
func Statements(db string) []string {
	out := []string{
		"CREATE DATABASE IF NOT EXISTS " + db,
		"CREATE TABLE IF NOT EXISTS " + db + ".schema_migrations (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version",
	}
	for _, m := range migrations {
		for _, s := range m.stmts {
			out = append(out, strings.ReplaceAll(s, "{db}", db))
		}
	}
	return out
}

// InsertColumns returns the column lists the sink inserts into each table.
func InsertColumns() map[string]string {
	return map[string]string{"posts": postColumns, "matches": matchColumns, "deletions": deletionColumns}
}
