package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations are applied in order, each once; the database records the
// newest version applied. Statements are kept compatible with ClickHouse
// 18.16 (the Debian server) and current releases: explicit column lists,
// no TTL, no LowCardinality, no skip indexes.
//
// They are templates (see Schema.render): {db} is the database name; on a
// cluster {local} names the shard-local table (empty on a single server),
// {on_cluster} is " ON CLUSTER <name>" and {global} makes IN and JOIN
// subqueries GLOBAL. A CREATE TABLE … {local} becomes a Replicated table
// with a Distributed table of the plain name in front of it.
//
// Posts and matches are ReplacingMergeTree tables keyed on the post (and
// watchlist), so a redelivered batch collapses into one row; queries that
// must be exact before a merge use FINAL, or the *_dedup views.
var migrations = []migration{
	{1, "posts and matches", []string{
		`CREATE TABLE IF NOT EXISTS {db}.posts{local}{on_cluster} (
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
		`CREATE TABLE IF NOT EXISTS {db}.matches{local}{on_cluster} (
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
		`CREATE VIEW IF NOT EXISTS {db}.posts_dedup{on_cluster} AS SELECT * FROM {db}.posts FINAL`,
		`CREATE VIEW IF NOT EXISTS {db}.matches_dedup{on_cluster} AS SELECT * FROM {db}.matches FINAL`,
	}},
	// Version 2: the enrichment's confidences and further tags, the post's
	// media, engagement and source, and the spans of matches. The views are
	// recreated because "SELECT *" views fix their columns when created.
	{2, "enrichment tags, engagement, spans", []string{
		`ALTER TABLE {db}.posts{local}{on_cluster}
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
		`ALTER TABLE {db}.matches{local}{on_cluster}
			ADD COLUMN tags Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN span_starts Array(UInt32) DEFAULT CAST([] AS Array(UInt32)),
			ADD COLUMN span_ends Array(UInt32) DEFAULT CAST([] AS Array(UInt32)),
			ADD COLUMN intents Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN influence Float32 DEFAULT 0`,
		`DROP TABLE IF EXISTS {db}.posts_dedup{on_cluster}`,
		`DROP TABLE IF EXISTS {db}.matches_dedup{on_cluster}`,
		`CREATE VIEW {db}.posts_dedup{on_cluster} AS SELECT * FROM {db}.posts FINAL`,
		`CREATE VIEW {db}.matches_dedup{on_cluster} AS SELECT * FROM {db}.matches FINAL`,
	}},
	// Version 3: deletes from the platforms. A deleted post's key goes into
	// deletions, and the views leave it out, so it disappears from every
	// query through them as soon as the delete is written.
	{3, "deletions", []string{
		`CREATE TABLE IF NOT EXISTS {db}.deletions{local}{on_cluster} (
			post_key String,
			deleted_at DateTime,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		ORDER BY post_key`,
		`DROP TABLE IF EXISTS {db}.posts_dedup{on_cluster}`,
		`DROP TABLE IF EXISTS {db}.matches_dedup{on_cluster}`,
		`CREATE VIEW {db}.posts_dedup{on_cluster} AS SELECT * FROM {db}.posts FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)`,
		`CREATE VIEW {db}.matches_dedup{on_cluster} AS SELECT * FROM {db}.matches FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)`,
	}},
	// Version 4: alerts and their state changes, the audit log, all-post
	// volume and the dashboards' roll-ups. The roll-ups are materialised
	// views into AggregatingMergeTree tables holding uniqState(post key), so
	// a redelivered row adds nothing; the *_agg tables are their storage and
	// the plain views of the same names without _agg merge them (see
	// docs/storage.md). volume_in is a Null table: the sink inserts one row
	// per post heard (a hash of its key) and only the roll-up keeps anything.
	// The INSERT … SELECT statements fill the matches roll-ups from the
	// matches already stored; a row that also reaches them through the view
	// meanwhile counts once, as everywhere.
	{4, "alerts, alert events, audit log, volume and roll-ups", []string{
		`CREATE TABLE IF NOT EXISTS {db}.alerts{local}{on_cluster} (
			alert_id String,
			queue String,
			team String,
			priority String,
			rule String,
			post_key String,
			watchlists Array(String),
			region String,
			incident String,
			incident_size UInt32,
			spike UInt8,
			retracted UInt8,
			handed_off_from String,
			unstaffed UInt8,
			created_at DateTime,
			due_at DateTime,
			payload String,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (queue, alert_id)`,
		`CREATE TABLE IF NOT EXISTS {db}.alert_events{local}{on_cluster} (
			alert_id String,
			queue String,
			event String,
			actor String,
			at DateTime,
			note String,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(at)
		ORDER BY (queue, alert_id, event, at)`,
		`CREATE TABLE IF NOT EXISTS {db}.audit_log{local}{on_cluster} (
			at DateTime,
			actor String,
			role String,
			action String,
			object_type String,
			object_id String,
			before String,
			after String,
			request_id String,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(at)
		ORDER BY (object_type, object_id, at, request_id)`,
		`CREATE TABLE IF NOT EXISTS {db}.volume_in{local}{on_cluster} (
			minute DateTime,
			platform String,
			lang String,
			post_hash UInt64
		) ENGINE = Null`,
		`CREATE TABLE IF NOT EXISTS {db}.volume_per_minute_agg{local}{on_cluster} (
			minute DateTime,
			platform String,
			lang String,
			posts AggregateFunction(uniq, UInt64)
		) ENGINE = AggregatingMergeTree
		PARTITION BY toYYYYMM(minute)
		ORDER BY (minute, platform, lang)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.volume_per_minute_mv{on_cluster} TO {db}.volume_per_minute_agg{local} AS
			SELECT minute, platform, lang, uniqState(post_hash) AS posts
			FROM {db}.volume_in{local}
			GROUP BY minute, platform, lang`,
		`CREATE VIEW IF NOT EXISTS {db}.volume_per_minute{on_cluster} AS
			SELECT minute, platform, lang, uniqMerge(posts) AS posts
			FROM {db}.volume_per_minute_agg
			GROUP BY minute, platform, lang`,
		`CREATE TABLE IF NOT EXISTS {db}.mentions_hourly_agg{local}{on_cluster} (
			hour DateTime,
			watchlist String,
			region String,
			sentiment_label String,
			mentions AggregateFunction(uniq, String)
		) ENGINE = AggregatingMergeTree
		PARTITION BY toYYYYMM(hour)
		ORDER BY (watchlist, hour, region, sentiment_label)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mentions_hourly_mv{on_cluster} TO {db}.mentions_hourly_agg{local} AS
			SELECT toStartOfHour(created_at) AS hour, watchlist, region, sentiment_label, uniqState(post_key) AS mentions
			FROM {db}.matches{local}
			GROUP BY hour, watchlist, region, sentiment_label`,
		`INSERT INTO {db}.mentions_hourly_agg (hour, watchlist, region, sentiment_label, mentions)
			SELECT toStartOfHour(created_at) AS hour, watchlist, region, sentiment_label, uniqState(post_key) AS mentions
			FROM {db}.matches
			GROUP BY hour, watchlist, region, sentiment_label`,
		`CREATE VIEW IF NOT EXISTS {db}.mentions_hourly{on_cluster} AS
			SELECT hour, watchlist, region, sentiment_label, uniqMerge(mentions) AS mentions
			FROM {db}.mentions_hourly_agg
			GROUP BY hour, watchlist, region, sentiment_label`,
		`CREATE TABLE IF NOT EXISTS {db}.terms_daily_agg{local}{on_cluster} (
			day Date,
			watchlist String,
			term String,
			mentions AggregateFunction(uniq, String)
		) ENGINE = AggregatingMergeTree
		PARTITION BY toYYYYMM(day)
		ORDER BY (watchlist, day, term)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.terms_daily_mv{on_cluster} TO {db}.terms_daily_agg{local} AS
			SELECT toDate(created_at) AS day, watchlist, term, uniqState(post_key) AS mentions
			FROM {db}.matches{local}
			ARRAY JOIN keywords AS term
			GROUP BY day, watchlist, term`,
		`INSERT INTO {db}.terms_daily_agg (day, watchlist, term, mentions)
			SELECT toDate(created_at) AS day, watchlist, term, uniqState(post_key) AS mentions
			FROM {db}.matches
			ARRAY JOIN keywords AS term
			GROUP BY day, watchlist, term`,
		`CREATE VIEW IF NOT EXISTS {db}.terms_daily{on_cluster} AS
			SELECT day, watchlist, term, uniqMerge(mentions) AS mentions
			FROM {db}.terms_daily_agg
			GROUP BY day, watchlist, term`,
		`CREATE VIEW IF NOT EXISTS {db}.alerts_latest{on_cluster} AS
			SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
				retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, acknowledged_at, acknowledged_by
			FROM (SELECT * FROM {db}.alerts FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)) AS a
			{global}ANY LEFT JOIN (
				SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by
				FROM {db}.alert_events
				WHERE event = 'acknowledged'
				GROUP BY alert_id
			) AS ack USING alert_id`,
	}},
	// Version 5: deletes reach the roll-ups. A deleted post's matches go
	// into deleted_matches (the sink reads them from matches when the delete
	// arrives), whose materialised views count them per cell like the
	// roll-ups count mentions; the views subtract the two. Both are uniq
	// states of the post key, so a redelivered delete subtracts once.
	{5, "deletes subtracted from the roll-ups", []string{
		`CREATE TABLE IF NOT EXISTS {db}.deleted_matches{local}{on_cluster} (
			post_key String,
			created_at DateTime,
			watchlist String,
			region String,
			sentiment_label String,
			keywords Array(String)
		) ENGINE = Null`,
		`CREATE TABLE IF NOT EXISTS {db}.mentions_hourly_deleted_agg{local}{on_cluster} (
			hour DateTime,
			watchlist String,
			region String,
			sentiment_label String,
			deleted AggregateFunction(uniq, String)
		) ENGINE = AggregatingMergeTree
		PARTITION BY toYYYYMM(hour)
		ORDER BY (watchlist, hour, region, sentiment_label)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mentions_hourly_deleted_mv{on_cluster} TO {db}.mentions_hourly_deleted_agg{local} AS
			SELECT toStartOfHour(created_at) AS hour, watchlist, region, sentiment_label, uniqState(post_key) AS deleted
			FROM {db}.deleted_matches{local}
			GROUP BY hour, watchlist, region, sentiment_label`,
		`CREATE TABLE IF NOT EXISTS {db}.terms_daily_deleted_agg{local}{on_cluster} (
			day Date,
			watchlist String,
			term String,
			deleted AggregateFunction(uniq, String)
		) ENGINE = AggregatingMergeTree
		PARTITION BY toYYYYMM(day)
		ORDER BY (watchlist, day, term)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.terms_daily_deleted_mv{on_cluster} TO {db}.terms_daily_deleted_agg{local} AS
			SELECT toDate(created_at) AS day, watchlist, term, uniqState(post_key) AS deleted
			FROM {db}.deleted_matches{local}
			ARRAY JOIN keywords AS term
			GROUP BY day, watchlist, term`,
		// Posts deleted before this version.
		`INSERT INTO {db}.deleted_matches (post_key, created_at, watchlist, region, sentiment_label, keywords)
			SELECT post_key, created_at, watchlist, region, sentiment_label, keywords
			FROM {db}.matches FINAL
			WHERE post_key {global}IN (SELECT post_key FROM {db}.deletions)`,
		`DROP TABLE IF EXISTS {db}.mentions_hourly{on_cluster}`,
		`CREATE VIEW {db}.mentions_hourly{on_cluster} AS
			SELECT hour, watchlist, region, sentiment_label, toUInt64(greatest(toInt64(m.mentions) - toInt64(d.deleted), 0)) AS mentions
			FROM (
				SELECT hour, watchlist, region, sentiment_label, uniqMerge(mentions) AS mentions
				FROM {db}.mentions_hourly_agg
				GROUP BY hour, watchlist, region, sentiment_label
			) AS m
			{global}ANY LEFT JOIN (
				SELECT hour, watchlist, region, sentiment_label, uniqMerge(deleted) AS deleted
				FROM {db}.mentions_hourly_deleted_agg
				GROUP BY hour, watchlist, region, sentiment_label
			) AS d USING (hour, watchlist, region, sentiment_label)
			WHERE mentions > 0`,
		`DROP TABLE IF EXISTS {db}.terms_daily{on_cluster}`,
		`CREATE VIEW {db}.terms_daily{on_cluster} AS
			SELECT day, watchlist, term, toUInt64(greatest(toInt64(m.mentions) - toInt64(d.deleted), 0)) AS mentions
			FROM (
				SELECT day, watchlist, term, uniqMerge(mentions) AS mentions
				FROM {db}.terms_daily_agg
				GROUP BY day, watchlist, term
			) AS m
			{global}ANY LEFT JOIN (
				SELECT day, watchlist, term, uniqMerge(deleted) AS deleted
				FROM {db}.terms_daily_deleted_agg
				GROUP BY day, watchlist, term
			) AS d USING (day, watchlist, term)
			WHERE mentions > 0`,
	}},
	// Version 6: the learned models' emotion (anger, joy, optimism,
	// sadness; '' when none is clear) and irony, with their confidences, on
	// posts and on matches (for per-watchlist queries without a join). The
	// views are recreated because "SELECT *" views fix their columns, as
	// version 3 left them (without deleted posts).
	{6, "emotion and irony", []string{
		`ALTER TABLE {db}.posts{local}{on_cluster}
			ADD COLUMN emotion String DEFAULT '',
			ADD COLUMN emotion_confidence Float32 DEFAULT 0,
			ADD COLUMN irony UInt8 DEFAULT 0,
			ADD COLUMN irony_confidence Float32 DEFAULT 0`,
		`ALTER TABLE {db}.matches{local}{on_cluster}
			ADD COLUMN emotion String DEFAULT '',
			ADD COLUMN irony UInt8 DEFAULT 0`,
		`DROP TABLE IF EXISTS {db}.posts_dedup{on_cluster}`,
		`DROP TABLE IF EXISTS {db}.matches_dedup{on_cluster}`,
		`CREATE VIEW {db}.posts_dedup{on_cluster} AS SELECT * FROM {db}.posts FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)`,
		`CREATE VIEW {db}.matches_dedup{on_cluster} AS SELECT * FROM {db}.matches FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)`,
	}},
	{7, "suppressions", []string{
		// One row per post a routing rule suppressed ("do not respond"):
		// the latest decision per post wins.
		`CREATE TABLE IF NOT EXISTS {db}.suppressions{local}{on_cluster} (
			post_key String,
			rule String,
			reason String,
			watchlists Array(String),
			region String,
			at DateTime,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(at)
		ORDER BY post_key`,
	}},
	// Version 8: the responders' desk (claim, assign, snooze, resolve,
	// notes, links) as events in alert_events. A desk event's event is
	// "desk.<action>:<event_id>" (event_id: the request's Idempotency-Key,
	// or a random id), so that two notes in the same second are two rows of
	// the sorting key (queue, alert_id, event, at) and a retried insert of
	// one event collapses into one; seq orders the events of one second.
	// The key itself cannot change: 18.16 has no MODIFY ORDER BY on
	// Replicated tables.
	{8, "desk events", []string{
		`ALTER TABLE {db}.alert_events{local}{on_cluster}
			ADD COLUMN event_id String,
			ADD COLUMN seq UInt64,
			ADD COLUMN assignee String,
			ADD COLUMN outcome String,
			ADD COLUMN snoozed_until DateTime,
			ADD COLUMN url String`,
	}},
	// Version 9: the organisation's markets (org.yaml markets: DACH,
	// Nordics, GR-CY) under the regions. Each post, match and alert
	// carries the market of the post's country, '' when it is in none;
	// rows written before keep the default '' (no backfill: markets are
	// the org file's, and it may have changed since). The views are made
	// again so that they carry the column ("SELECT *" views fix theirs when
	// created; alerts_latest lists them).
	{9, "markets", []string{
		`ALTER TABLE {db}.posts{local}{on_cluster}
			ADD COLUMN market String DEFAULT ''`,
		`ALTER TABLE {db}.matches{local}{on_cluster}
			ADD COLUMN market String DEFAULT ''`,
		`ALTER TABLE {db}.alerts{local}{on_cluster}
			ADD COLUMN market String DEFAULT ''`,
		`DROP TABLE IF EXISTS {db}.posts_dedup{on_cluster}`,
		`DROP TABLE IF EXISTS {db}.matches_dedup{on_cluster}`,
		`CREATE VIEW {db}.posts_dedup{on_cluster} AS SELECT * FROM {db}.posts FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)`,
		`CREATE VIEW {db}.matches_dedup{on_cluster} AS SELECT * FROM {db}.matches FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)`,
		`DROP TABLE IF EXISTS {db}.alerts_latest{on_cluster}`,
		`CREATE VIEW {db}.alerts_latest{on_cluster} AS
			SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
				retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, acknowledged_at, acknowledged_by, market
			FROM (SELECT * FROM {db}.alerts FINAL WHERE post_key {global}NOT IN (SELECT post_key FROM {db}.deletions)) AS a
			{global}ANY LEFT JOIN (
				SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by
				FROM {db}.alert_events
				WHERE event = 'acknowledged'
				GROUP BY alert_id
			) AS ack USING alert_id`,
	}},
	// Version 10: the desk's order of a queue (newest first). alerts is
	// sorted by (queue, alert_id), so a page of the newest alerts read
	// every alert of the queue; alert_times holds each version's (queue,
	// created_at, alert_id), sorted so that the newest of a queue are a
	// range of the key. The materialised view feeds it from every insert
	// into alerts (on a cluster, shard-locally: it shards as alerts does);
	// the INSERT … SELECT fills it from the alerts already stored (a row
	// that also reaches it through the view meanwhile is the same key, one
	// row after a merge). An alert updated to another time leaves its
	// earlier row behind: readers check each row against alerts (see
	// AlertTables.Latest).
	{10, "alert order per queue", []string{
		`CREATE TABLE IF NOT EXISTS {db}.alert_times{local}{on_cluster} (
			queue String,
			created_at DateTime,
			alert_id String,
			inserted_at DateTime
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (queue, created_at, alert_id)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.alert_times_mv{on_cluster} TO {db}.alert_times{local} AS
			SELECT queue, created_at, alert_id, inserted_at
			FROM {db}.alerts{local}`,
		`INSERT INTO {db}.alert_times (queue, created_at, alert_id, inserted_at)
			SELECT queue, created_at, alert_id, inserted_at
			FROM {db}.alerts`,
	}},
	// Version 11: the desk's copy of alerts, in small index granules. A
	// lookup of one alert by (queue, alert_id) reads its index granule
	// from the granule's first row up to the alert's (there is no seek
	// inside a granule), and the payloads make that prefix costly: in
	// alerts' granules of 8,192 rows, ≈ 4.5 MB decompressed and 8–21 ms of
	// the server's CPU a lookup. alerts_desk holds the same rows (every
	// column, the same engine, version column, partition and key, so FINAL
	// keeps the same version of each alert) in granules of 256 rows; the
	// desk's reads by id (AlertTables.FindDesk, the list's page in
	// AlertTables.newest) read it. The materialised view feeds it from
	// every insert into alerts (on a cluster shard-locally: it shards as
	// alerts does); the INSERT … SELECT fills it from the alerts already
	// stored (a row that also reaches it through the view meanwhile, or a
	// backfill run twice, is the same row of the same version: one after a
	// merge, and FINAL picks either). The payloads are stored twice.
	//
	// alerts and alerts_desk must keep the same columns, in the same order:
	// a migration that adds a column to alerts adds it to alerts_desk too
	// (the same ALTER on both), drops alerts_desk_mv and makes it again with
	// the column in its SELECT, and backfills nothing (the copy's rows read
	// the column's default, as alerts' do). TestAlertsDeskKeepsAlertsColumns
	// fails until it does.
	{11, "the desk's copy of alerts in small granules", []string{
		`CREATE TABLE IF NOT EXISTS {db}.alerts_desk{local}{on_cluster} (
			alert_id String,
			queue String,
			team String,
			priority String,
			rule String,
			post_key String,
			watchlists Array(String),
			region String,
			incident String,
			incident_size UInt32,
			spike UInt8,
			retracted UInt8,
			handed_off_from String,
			unstaffed UInt8,
			created_at DateTime,
			due_at DateTime,
			payload String,
			inserted_at DateTime,
			market String DEFAULT ''
		) ENGINE = ReplacingMergeTree(inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (queue, alert_id)
		SETTINGS index_granularity = 256`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.alerts_desk_mv{on_cluster} TO {db}.alerts_desk{local} AS
			SELECT ` + alertsDeskColumns + `
			FROM {db}.alerts{local}`,
		`INSERT INTO {db}.alerts_desk (` + alertsDeskColumns + `)
			SELECT ` + alertsDeskColumns + `
			FROM {db}.alerts`,
	}},
}

// alertsDeskColumns are the columns alerts_desk copies from alerts: all
// of them, in alerts' order (see migration 11).
const alertsDeskColumns = "alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, " +
	"handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market"

// SchemaVersion is the newest schema version this build knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// MigrationVersions lists the versions of this build's migrations, oldest
// first: a database at SchemaVersion has recorded each once (the numbers
// need not be contiguous).
func MigrationVersions() []int {
	vs := make([]int, len(migrations))
	for i, m := range migrations {
		vs[i] = m.version
	}
	return vs
}

// Schema says where the schema lives and how it is laid out.
type Schema struct {
	DB        string
	Cluster   string    // a cluster name from the servers' remote_servers; "" for a single server
	Retention Retention // TTLs, applied where the server supports them
}

// shardKeys shard each Distributed table in cluster mode. Rows that replace
// each other (same ordering key) must land on the same shard, so the
// ReplacingMergeTree tables shard on the key they deduplicate on. The
// roll-ups merge uniq states across shards when read, so any shard will do.
var shardKeys = map[string]string{
	"schema_migrations":           "rand()",
	"posts":                       "cityHash64(post_key)",
	"matches":                     "cityHash64(post_key)",
	"deletions":                   "cityHash64(post_key)",
	"alerts":                      "cityHash64(alert_id)",
	"alert_events":                "cityHash64(alert_id)",
	"alert_times":                 "cityHash64(alert_id)",
	"alerts_desk":                 "cityHash64(alert_id)",
	"suppressions":                "cityHash64(post_key)",
	"audit_log":                   "cityHash64(object_type, object_id)",
	"volume_in":                   "post_hash",
	"volume_per_minute_agg":       "rand()",
	"mentions_hourly_agg":         "rand()",
	"terms_daily_agg":             "rand()",
	"deleted_matches":             "cityHash64(post_key)",
	"mentions_hourly_deleted_agg": "rand()",
	"terms_daily_deleted_agg":     "rand()",
}

var (
	createTable = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)\{local\}`)
	alterTable  = regexp.MustCompile(`^ALTER TABLE \{db\}\.(\w+)\{local\}`)
	mergeTree   = regexp.MustCompile(`ENGINE = (\w*MergeTree)(?:\(([^)]*)\))?`)
)

// bootstrap creates what Migrate needs before it can read the version.
var bootstrap = []string{
	`CREATE DATABASE IF NOT EXISTS {db}{on_cluster}`,
	`CREATE TABLE IF NOT EXISTS {db}.schema_migrations{local}{on_cluster} (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
}

// render turns a template into the statements to run: one on a single
// server; on a cluster, a CREATE TABLE becomes the replicated shard-local
// table and the Distributed table in front of it, and an ALTER of a table
// alters both.
func (s Schema) render(tmpl string) []string {
	if s.Cluster == "" {
		return []string{strings.NewReplacer("{db}", s.DB, "{local}", "", "{on_cluster}", "", "{global}", "").Replace(tmpl)}
	}
	on := " ON CLUSTER " + s.Cluster
	local := strings.NewReplacer("{db}", s.DB, "{local}", "_local", "{on_cluster}", on, "{global}", "GLOBAL ").Replace(tmpl)
	if m := createTable.FindStringSubmatch(tmpl); m != nil {
		name := m[1]
		local = mergeTree.ReplaceAllStringFunc(local, func(e string) string {
			p := mergeTree.FindStringSubmatch(e)
			args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s_local', '{replica}'", s.DB, name)
			if p[2] != "" {
				args += ", " + p[2]
			}
			return "ENGINE = Replicated" + p[1] + "(" + args + ")"
		})
		return []string{local, s.distributed(name)}
	}
	if m := alterTable.FindStringSubmatch(tmpl); m != nil {
		// ClickHouse refuses ALTER … ON CLUSTER of a Distributed table on a
		// cluster with internal_replication (what Replicated tables need):
		// the Distributed table, which holds no rows, is made again over
		// the altered local table instead.
		return []string{local, fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s", s.DB, m[1], on), s.distributed(m[1])}
	}
	return []string{local}
}

// distributed creates the Distributed table name in front of name_local.
func (s Schema) distributed(name string) string {
	key, ok := shardKeys[name]
	if !ok {
		key = "rand()"
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %[1]s.%[2]s ON CLUSTER %[3]s AS %[1]s.%[2]s_local ENGINE = Distributed(%[3]s, %[1]s, %[2]s_local, %[4]s)", s.DB, name, s.Cluster, key)
}

// Migrate creates the database if needed and applies the migrations it has
// not yet recorded, on a single server, without retention. Running it again
// does nothing.
func Migrate(ctx context.Context, conn driver.Conn, db string) (applied []int, err error) {
	return Schema{DB: db}.Migrate(ctx, conn, nil)
}

// Migrate creates the database if needed, applies the migrations it has not
// yet recorded and then the retention (see ApplyRetention). Running it again
// does nothing. log may be nil.
func (s Schema) Migrate(ctx context.Context, conn driver.Conn, log *slog.Logger) (applied []int, err error) {
	applied, err = s.migrateTo(ctx, conn, SchemaVersion())
	if err != nil {
		return applied, err
	}
	if len(s.Retention) > 0 {
		if err := s.ApplyRetention(ctx, conn, log); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

func (s Schema) migrateTo(ctx context.Context, conn driver.Conn, target int) (applied []int, err error) {
	for _, t := range bootstrap {
		for _, q := range s.render(t) {
			if err := conn.Exec(ctx, q); err != nil {
				return nil, fmt.Errorf("preparing database %s: %w", s.DB, err)
			}
		}
	}
	var current uint32
	row := conn.QueryRow(ctx, "SELECT max(version) FROM "+s.DB+".schema_migrations")
	if err := row.Scan(&current); err != nil {
		return nil, fmt.Errorf("reading schema version: %w", err)
	}
	if int(current) > SchemaVersion() {
		return nil, fmt.Errorf("database %s is at schema version %d, newer than this build's %d", s.DB, current, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= int(current) || m.version > target {
			continue
		}
		for _, t := range m.stmts {
			if err := s.apply(ctx, conn, t); err != nil {
				return applied, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
		rctx := ctx
		if s.Cluster != "" {
			// Through the Distributed table, and read back on the next run:
			// wait until the shard has it.
			rctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
		}
		if err := record(rctx, conn, s.DB, m.version, m.name); err != nil {
			return applied, fmt.Errorf("recording migration %d: %w", m.version, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

// apply runs one migration statement so that running it again is safe. A
// migration is recorded only after its last statement, so a process killed
// in the middle of one (kill -9, a lost connection) leaves some of its
// statements applied and the next start runs it again from the first.
// CREATE … IF NOT EXISTS, DROP … IF EXISTS, a view dropped and made again
// and the backfills (into tables that collapse a row inserted twice: uniq
// states, ReplacingMergeTree) need nothing more; see
// TestMigrationStatementsCanRunAgain. An ALTER … ADD COLUMN does: 18.16
// has no ADD COLUMN IF NOT EXISTS, and a column already there fails the
// whole statement (code 44) on every start, for good. It adds only the
// columns the table lacks, and none when it has them all; a second
// migrator that added them first (two sinks starting at once) makes the
// statement fail, and the columns being there then is success too.
func (s Schema) apply(ctx context.Context, conn driver.Conn, tmpl string) error {
	a := alterTable.FindStringSubmatch(tmpl)
	if a == nil {
		for _, q := range s.render(tmpl) {
			if err := execLong(ctx, conn, q); err != nil {
				return err
			}
		}
		return nil
	}
	rest, err := s.missingColumns(ctx, conn, a[1], tmpl)
	if err != nil {
		return err
	}
	qs := s.render(tmpl)[1:] // on a cluster, the Distributed table in front, dropped and made again
	if rest != "" {
		qs = s.render(rest)
	}
	for i, q := range qs {
		err := execLong(ctx, conn, q)
		if err != nil && i == 0 && rest != "" {
			if again, cerr := s.missingColumns(ctx, conn, a[1], tmpl); cerr == nil && again == "" {
				err = nil // another migrator added them meanwhile
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// addColumn splits an ALTER template into its ADD COLUMN clauses.
var addColumn = regexp.MustCompile(`,\s*ADD COLUMN `)

// missingColumns returns tmpl, an ALTER TABLE … ADD COLUMN template of
// table, with only the clauses whose column the table (shard-local on a
// cluster: the one the ALTER changes) lacks; "" when it has them all.
func (s Schema) missingColumns(ctx context.Context, conn driver.Conn, table, tmpl string) (string, error) {
	i := strings.Index(tmpl, "ADD COLUMN ")
	if i < 0 {
		return "", fmt.Errorf("migration statement %.60q…: an ALTER other than ADD COLUMN cannot be run again safely", tmpl)
	}
	if s.Cluster != "" {
		table += "_local"
	}
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT name FROM system.columns WHERE database = '%s' AND table = '%s'", s.DB, table))
	if err != nil {
		return "", fmt.Errorf("reading the columns of %s.%s: %w", s.DB, table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", fmt.Errorf("reading the columns of %s.%s: %w", s.DB, table, err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("reading the columns of %s.%s: %w", s.DB, table, err)
	}
	var add []string
	for _, c := range addColumn.Split(tmpl[i+len("ADD COLUMN "):], -1) {
		if name, _, _ := strings.Cut(strings.TrimSpace(c), " "); !have[name] {
			add = append(add, c)
		}
	}
	if len(add) == 0 {
		return "", nil
	}
	return tmpl[:i] + "ADD COLUMN " + strings.Join(add, ",\n\t\t\tADD COLUMN "), nil
}

// statementTimeout bounds one migration statement. A backfill (INSERT …
// SELECT over every alert, or every post) grows with the tables: about 1M
// alerts a second on a loaded 2-core host.
const statementTimeout = time.Hour

// execLong runs a migration statement, which may take longer than the
// connection's read timeout (60s, see Open): the driver sets that as one
// deadline for a whole Exec, and an INSERT … SELECT sends nothing back
// until it ends, so a backfill past it failed, stayed unrecorded and ran
// again in full on every retry, beside the one the server had not stopped.
// A deadline on the context replaces the read timeout: statementTimeout,
// or ctx's own when sooner. The driver also sends it as the statement's
// max_execution_time, so the server stops the statement too.
func execLong(ctx context.Context, conn driver.Conn, q string) error {
	ctx, cancel := context.WithTimeout(ctx, statementTimeout)
	defer cancel()
	return conn.Exec(ctx, q)
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
func Statements(db string) []string { return Schema{DB: db}.Statements() }

// Statements returns every statement Migrate runs on an empty database, in
// order, retention left out.
func (s Schema) Statements() []string {
	var out []string
	for _, t := range bootstrap {
		out = append(out, s.render(t)...)
	}
	for _, m := range migrations {
		for _, t := range m.stmts {
			out = append(out, s.render(t)...)
		}
	}
	return out
}

// InsertColumns returns the column lists the sink inserts into each table
// (the API's audit log shipper included).
func InsertColumns() map[string]string {
	return map[string]string{
		"posts": postColumns, "matches": matchColumns, "deletions": deletionColumns,
		"alerts": alertColumns, "alert_events": alertEventColumns, "volume_in": volumeColumns, "audit_log": auditColumns,
		"suppressions": suppressionColumns,
	}
}

// CheckSpec is what `earshot migrate --print` prints for
// deploy/local/sqlcheck.py: the schema, the sink's inserts, the retention
// statements of an example retention and the schema rendered for a
// cluster (which there is none of to run it on, so it is only parsed).
func CheckSpec(db string) map[string]any {
	ret := Retention{}
	for table := range retentionColumns {
		ret[table] = "90d"
	}
	ret["alert_events"] = "36h"
	ret["terms_daily"] = "400d"
	return map[string]any{
		"statements": Statements(db),
		"inserts":    InsertColumns(),
		"retention":  Schema{DB: db, Retention: ret}.RetentionStatements(),
		"ttl_check":  Schema{DB: db, Retention: ret}.ttlWanted(),
		"cluster":    append(Schema{DB: db, Cluster: "earshot"}.Statements(), Schema{DB: db, Cluster: "earshot", Retention: ret}.RetentionStatements()...),
	}
}

// Retention maps a table to how long its rows are kept: "90d" or "36h".
// It becomes a TTL on the table, on servers that have TTL (19.6 and
// later); on older ones it is skipped with a warning.
type Retention map[string]string

// retentionColumns says which column each table's TTL counts from. The
// roll-ups are named as analysts see them; the TTL goes on their storage.
// also are tables that follow another (the same column, the same TTL):
// the alerts' order per queue, alert_times, and the desk's copy of them,
// alerts_desk, are kept as long as the alerts.
var retentionColumns = map[string]struct {
	table, column string
	also          []string
}{
	"posts":             {"posts", "created_at", nil},
	"matches":           {"matches", "created_at", nil},
	"deletions":         {"deletions", "deleted_at", nil},
	"alerts":            {"alerts", "created_at", []string{"alert_times", "alerts_desk"}},
	"alert_events":      {"alert_events", "at", nil},
	"suppressions":      {"suppressions", "at", nil},
	"audit_log":         {"audit_log", "at", nil},
	"volume_per_minute": {"volume_per_minute_agg", "minute", nil},
	"mentions_hourly":   {"mentions_hourly_agg", "hour", nil},
	"terms_daily":       {"terms_daily_agg", "day", nil},
}

// retentionTables lists the storage tables of a retention's name.
func retentionTables(name string) []string {
	rc := retentionColumns[name]
	return append([]string{rc.table}, rc.also...)
}

var retentionValue = regexp.MustCompile(`^([1-9][0-9]{0,5})([dh])$`)

// parse returns the interval of one value as SQL and in hours.
func parseRetention(v string) (sql string, hours int, err error) {
	m := retentionValue.FindStringSubmatch(v)
	if m == nil {
		return "", 0, fmt.Errorf("%q, want a whole number of days or hours, like 90d or 36h", v)
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "d" {
		return fmt.Sprintf("INTERVAL %d DAY", n), n * 24, nil
	}
	return fmt.Sprintf("INTERVAL %d HOUR", n), n, nil
}

// Validate reports every problem at once.
func (r Retention) Validate() error {
	var errs []error
	hours := map[string]int{}
	for _, table := range sortedKeys((r)) {
		if _, ok := retentionColumns[table]; !ok {
			errs = append(errs, fmt.Errorf("sink.retention.%s: not a table with retention; want one of %s", table, strings.Join(sortedKeys((retentionColumns)), ", ")))
			continue
		}
		_, h, err := parseRetention(r[table])
		if err != nil {
			errs = append(errs, fmt.Errorf("sink.retention.%s: %w", table, err))
			continue
		}
		hours[table] = h
	}
	// A deletion must outlive the rows it hides, or a deleted post would
	// come back when its deletion expires.
	if d, ok := hours["deletions"]; ok {
		for _, t := range []string{"posts", "matches", "alerts"} {
			if h, ok := hours[t]; !ok || h > d {
				errs = append(errs, fmt.Errorf("sink.retention.deletions: %s is shorter than the retention of %s (%s); deleted posts would reappear", r["deletions"], t, cmp(r[t], "forever")))
			}
		}
	}
	return errors.Join(errs...)
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// RetentionStatements returns the TTL statements of the retention, in
// table order.
func (s Schema) RetentionStatements() []string {
	var out []string
	for _, name := range sortedKeys((s.Retention)) {
		for _, table := range retentionTables(name) {
			q, err := s.ttlStatement(name, table)
			if err == nil {
				out = append(out, q)
			}
		}
	}
	return out
}

// ttlStatement sets the TTL of name's retention on table, one of its
// storage tables.
func (s Schema) ttlStatement(name, table string) (string, error) {
	rc, ok := retentionColumns[name]
	if !ok {
		return "", fmt.Errorf("sink.retention.%s: not a table with retention", name)
	}
	interval, _, err := parseRetention(s.Retention[name])
	if err != nil {
		return "", fmt.Errorf("sink.retention.%s: %w", name, err)
	}
	r := strings.NewReplacer("{db}", s.DB, "{local}", "", "{on_cluster}", "")
	if s.Cluster != "" {
		r = strings.NewReplacer("{db}", s.DB, "{local}", "_local", "{on_cluster}", " ON CLUSTER "+s.Cluster)
	}
	return r.Replace(fmt.Sprintf("ALTER TABLE {db}.%s{local}{on_cluster} MODIFY TTL %s + %s", table, rc.column, interval)), nil
}

// ttlWanted maps each storage table with a retention to how a server shows
// its TTL in system.tables.engine_full, to tell whether it is set already.
func (s Schema) ttlWanted() map[string]string {
	out := map[string]string{}
	for name, v := range s.Retention {
		rc, ok := retentionColumns[name]
		m := retentionValue.FindStringSubmatch(v)
		if !ok || m == nil {
			continue
		}
		unit := "Day"
		if m[2] == "h" {
			unit = "Hour"
		}
		for _, table := range retentionTables(name) {
			out[table] = fmt.Sprintf("TTL %s + toInterval%s(%s)", rc.column, unit, m[1])
		}
	}
	return out
}

// ServerVersion is a ClickHouse server's version.
type ServerVersion struct {
	Major, Minor int
	Text         string
}

// HasTTL says whether the server supports table TTLs (19.6 and later).
func (v ServerVersion) HasTTL() bool { return v.Major > 19 || v.Major == 19 && v.Minor >= 6 }

// ParseServerVersion parses what SELECT version() returns.
func ParseServerVersion(s string) (ServerVersion, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return ServerVersion{}, fmt.Errorf("server version %q: want major.minor…", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return ServerVersion{}, fmt.Errorf("server version %q: want major.minor…", s)
	}
	return ServerVersion{Major: major, Minor: minor, Text: strings.TrimSpace(s)}, nil
}

// Version asks the server for its version.
func Version(ctx context.Context, conn driver.Conn) (ServerVersion, error) {
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return ServerVersion{}, fmt.Errorf("reading server version: %w", err)
	}
	return ParseServerVersion(v)
}

// ApplyRetention sets the TTL of every table with a retention whose TTL is
// not that already. A server without TTL (18.16) is detected from its
// version: the retention is skipped there, with a warning, and nothing else
// fails. log may be nil.
func (s Schema) ApplyRetention(ctx context.Context, conn driver.Conn, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v, err := Version(ctx, conn)
	if err != nil {
		return err
	}
	if !v.HasTTL() {
		log.Warn("sink.retention not applied: this ClickHouse has no TTL (19.6 and later do); rows are kept until dropped by hand",
			"server_version", v.Text, "tables", strings.Join(sortedKeys((s.Retention)), ","))
		return nil
	}
	want := s.ttlWanted()
	for _, name := range sortedKeys((s.Retention)) {
		for _, storage := range retentionTables(name) {
			table := storage
			if s.Cluster != "" {
				table += "_local"
			}
			var engine string
			q := fmt.Sprintf("SELECT engine_full FROM system.tables WHERE database = '%s' AND name = '%s'", s.DB, table)
			if err := conn.QueryRow(ctx, q).Scan(&engine); err != nil {
				return fmt.Errorf("reading the TTL of %s.%s: %w", s.DB, table, err)
			}
			if strings.Contains(engine, want[storage]) {
				continue
			}
			stmt, err := s.ttlStatement(name, storage)
			if err != nil {
				return err
			}
			if err := conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("setting the retention of %s: %w", name, err)
			}
			log.Info("retention set", "table", storage, "keep", s.Retention[name])
		}
	}
	return nil
}
