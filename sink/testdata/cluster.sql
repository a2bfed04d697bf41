CREATE DATABASE IF NOT EXISTS earshot ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.schema_migrations_local ON CLUSTER prod (version UInt32, name String, applied_at DateTime) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/earshot/schema_migrations_local', '{replica}') ORDER BY version;

CREATE TABLE IF NOT EXISTS earshot.schema_migrations ON CLUSTER prod AS earshot.schema_migrations_local ENGINE = Distributed(prod, earshot, schema_migrations_local, rand());

CREATE TABLE IF NOT EXISTS earshot.posts_local ON CLUSTER prod (
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
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/posts_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (platform, id);

CREATE TABLE IF NOT EXISTS earshot.posts ON CLUSTER prod AS earshot.posts_local ENGINE = Distributed(prod, earshot, posts_local, cityHash64(post_key));

CREATE TABLE IF NOT EXISTS earshot.matches_local ON CLUSTER prod (
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
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/matches_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (watchlist, post_key);

CREATE TABLE IF NOT EXISTS earshot.matches ON CLUSTER prod AS earshot.matches_local ENGINE = Distributed(prod, earshot, matches_local, cityHash64(post_key));

CREATE VIEW IF NOT EXISTS earshot.posts_dedup ON CLUSTER prod AS SELECT * FROM earshot.posts FINAL;

CREATE VIEW IF NOT EXISTS earshot.matches_dedup ON CLUSTER prod AS SELECT * FROM earshot.matches FINAL;

ALTER TABLE earshot.posts_local ON CLUSTER prod
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
			ADD COLUMN source String DEFAULT '';

DROP TABLE IF EXISTS earshot.posts ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.posts ON CLUSTER prod AS earshot.posts_local ENGINE = Distributed(prod, earshot, posts_local, cityHash64(post_key));

ALTER TABLE earshot.matches_local ON CLUSTER prod
			ADD COLUMN tags Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN span_starts Array(UInt32) DEFAULT CAST([] AS Array(UInt32)),
			ADD COLUMN span_ends Array(UInt32) DEFAULT CAST([] AS Array(UInt32)),
			ADD COLUMN intents Array(String) DEFAULT CAST([] AS Array(String)),
			ADD COLUMN influence Float32 DEFAULT 0;

DROP TABLE IF EXISTS earshot.matches ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.matches ON CLUSTER prod AS earshot.matches_local ENGINE = Distributed(prod, earshot, matches_local, cityHash64(post_key));

DROP TABLE IF EXISTS earshot.posts_dedup ON CLUSTER prod;

DROP TABLE IF EXISTS earshot.matches_dedup ON CLUSTER prod;

CREATE VIEW earshot.posts_dedup ON CLUSTER prod AS SELECT * FROM earshot.posts FINAL;

CREATE VIEW earshot.matches_dedup ON CLUSTER prod AS SELECT * FROM earshot.matches FINAL;

CREATE TABLE IF NOT EXISTS earshot.deletions_local ON CLUSTER prod (
			post_key String,
			deleted_at DateTime,
			inserted_at DateTime
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/deletions_local', '{replica}', inserted_at)
		ORDER BY post_key;

CREATE TABLE IF NOT EXISTS earshot.deletions ON CLUSTER prod AS earshot.deletions_local ENGINE = Distributed(prod, earshot, deletions_local, cityHash64(post_key));

DROP TABLE IF EXISTS earshot.posts_dedup ON CLUSTER prod;

DROP TABLE IF EXISTS earshot.matches_dedup ON CLUSTER prod;

CREATE VIEW earshot.posts_dedup ON CLUSTER prod AS SELECT * FROM earshot.posts FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions);

CREATE VIEW earshot.matches_dedup ON CLUSTER prod AS SELECT * FROM earshot.matches FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions);

CREATE TABLE IF NOT EXISTS earshot.alerts_local ON CLUSTER prod (
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
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/alerts_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (queue, alert_id);

CREATE TABLE IF NOT EXISTS earshot.alerts ON CLUSTER prod AS earshot.alerts_local ENGINE = Distributed(prod, earshot, alerts_local, cityHash64(alert_id));

CREATE TABLE IF NOT EXISTS earshot.alert_events_local ON CLUSTER prod (
			alert_id String,
			queue String,
			event String,
			actor String,
			at DateTime,
			note String,
			inserted_at DateTime
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/alert_events_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(at)
		ORDER BY (queue, alert_id, event, at);

CREATE TABLE IF NOT EXISTS earshot.alert_events ON CLUSTER prod AS earshot.alert_events_local ENGINE = Distributed(prod, earshot, alert_events_local, cityHash64(alert_id));

CREATE TABLE IF NOT EXISTS earshot.audit_log_local ON CLUSTER prod (
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
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/audit_log_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(at)
		ORDER BY (object_type, object_id, at, request_id);

CREATE TABLE IF NOT EXISTS earshot.audit_log ON CLUSTER prod AS earshot.audit_log_local ENGINE = Distributed(prod, earshot, audit_log_local, cityHash64(object_type, object_id));

CREATE TABLE IF NOT EXISTS earshot.volume_in_local ON CLUSTER prod (
			minute DateTime,
			platform String,
			lang String,
			post_hash UInt64
		) ENGINE = Null;

CREATE TABLE IF NOT EXISTS earshot.volume_in ON CLUSTER prod AS earshot.volume_in_local ENGINE = Distributed(prod, earshot, volume_in_local, post_hash);

CREATE TABLE IF NOT EXISTS earshot.volume_per_minute_agg_local ON CLUSTER prod (
			minute DateTime,
			platform String,
			lang String,
			posts AggregateFunction(uniq, UInt64)
		) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/earshot/volume_per_minute_agg_local', '{replica}')
		PARTITION BY toYYYYMM(minute)
		ORDER BY (minute, platform, lang);

CREATE TABLE IF NOT EXISTS earshot.volume_per_minute_agg ON CLUSTER prod AS earshot.volume_per_minute_agg_local ENGINE = Distributed(prod, earshot, volume_per_minute_agg_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.volume_per_minute_mv ON CLUSTER prod TO earshot.volume_per_minute_agg_local AS
			SELECT minute, platform, lang, uniqState(post_hash) AS posts
			FROM earshot.volume_in_local
			GROUP BY minute, platform, lang;

CREATE VIEW IF NOT EXISTS earshot.volume_per_minute ON CLUSTER prod AS
			SELECT minute, platform, lang, uniqMerge(posts) AS posts
			FROM earshot.volume_per_minute_agg
			GROUP BY minute, platform, lang;

CREATE TABLE IF NOT EXISTS earshot.mentions_hourly_agg_local ON CLUSTER prod (
			hour DateTime,
			watchlist String,
			region String,
			sentiment_label String,
			mentions AggregateFunction(uniq, String)
		) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/earshot/mentions_hourly_agg_local', '{replica}')
		PARTITION BY toYYYYMM(hour)
		ORDER BY (watchlist, hour, region, sentiment_label);

CREATE TABLE IF NOT EXISTS earshot.mentions_hourly_agg ON CLUSTER prod AS earshot.mentions_hourly_agg_local ENGINE = Distributed(prod, earshot, mentions_hourly_agg_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.mentions_hourly_mv ON CLUSTER prod TO earshot.mentions_hourly_agg_local AS
			SELECT toStartOfHour(created_at) AS hour, watchlist, region, sentiment_label, uniqState(post_key) AS mentions
			FROM earshot.matches_local
			GROUP BY hour, watchlist, region, sentiment_label;

INSERT INTO earshot.mentions_hourly_agg (hour, watchlist, region, sentiment_label, mentions)
			SELECT toStartOfHour(created_at) AS hour, watchlist, region, sentiment_label, uniqState(post_key) AS mentions
			FROM earshot.matches
			GROUP BY hour, watchlist, region, sentiment_label;

CREATE VIEW IF NOT EXISTS earshot.mentions_hourly ON CLUSTER prod AS
			SELECT hour, watchlist, region, sentiment_label, uniqMerge(mentions) AS mentions
			FROM earshot.mentions_hourly_agg
			GROUP BY hour, watchlist, region, sentiment_label;

CREATE TABLE IF NOT EXISTS earshot.terms_daily_agg_local ON CLUSTER prod (
			day Date,
			watchlist String,
			term String,
			mentions AggregateFunction(uniq, String)
		) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/earshot/terms_daily_agg_local', '{replica}')
		PARTITION BY toYYYYMM(day)
		ORDER BY (watchlist, day, term);

CREATE TABLE IF NOT EXISTS earshot.terms_daily_agg ON CLUSTER prod AS earshot.terms_daily_agg_local ENGINE = Distributed(prod, earshot, terms_daily_agg_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.terms_daily_mv ON CLUSTER prod TO earshot.terms_daily_agg_local AS
			SELECT toDate(created_at) AS day, watchlist, term, uniqState(post_key) AS mentions
			FROM earshot.matches_local
			ARRAY JOIN keywords AS term
			GROUP BY day, watchlist, term;

INSERT INTO earshot.terms_daily_agg (day, watchlist, term, mentions)
			SELECT toDate(created_at) AS day, watchlist, term, uniqState(post_key) AS mentions
			FROM earshot.matches
			ARRAY JOIN keywords AS term
			GROUP BY day, watchlist, term;

CREATE VIEW IF NOT EXISTS earshot.terms_daily ON CLUSTER prod AS
			SELECT day, watchlist, term, uniqMerge(mentions) AS mentions
			FROM earshot.terms_daily_agg
			GROUP BY day, watchlist, term;

CREATE VIEW IF NOT EXISTS earshot.alerts_latest ON CLUSTER prod AS
			SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
				retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, acknowledged_at, acknowledged_by
			FROM (SELECT * FROM earshot.alerts FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions)) AS a
			GLOBAL ANY LEFT JOIN (
				SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by
				FROM earshot.alert_events
				WHERE event = 'acknowledged'
				GROUP BY alert_id
			) AS ack USING alert_id;

CREATE TABLE IF NOT EXISTS earshot.deleted_matches_local ON CLUSTER prod (
			post_key String,
			created_at DateTime,
			watchlist String,
			region String,
			sentiment_label String,
			keywords Array(String)
		) ENGINE = Null;

CREATE TABLE IF NOT EXISTS earshot.deleted_matches ON CLUSTER prod AS earshot.deleted_matches_local ENGINE = Distributed(prod, earshot, deleted_matches_local, cityHash64(post_key));

CREATE TABLE IF NOT EXISTS earshot.mentions_hourly_deleted_agg_local ON CLUSTER prod (
			hour DateTime,
			watchlist String,
			region String,
			sentiment_label String,
			deleted AggregateFunction(uniq, String)
		) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/earshot/mentions_hourly_deleted_agg_local', '{replica}')
		PARTITION BY toYYYYMM(hour)
		ORDER BY (watchlist, hour, region, sentiment_label);

CREATE TABLE IF NOT EXISTS earshot.mentions_hourly_deleted_agg ON CLUSTER prod AS earshot.mentions_hourly_deleted_agg_local ENGINE = Distributed(prod, earshot, mentions_hourly_deleted_agg_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.mentions_hourly_deleted_mv ON CLUSTER prod TO earshot.mentions_hourly_deleted_agg_local AS
			SELECT toStartOfHour(created_at) AS hour, watchlist, region, sentiment_label, uniqState(post_key) AS deleted
			FROM earshot.deleted_matches_local
			GROUP BY hour, watchlist, region, sentiment_label;

CREATE TABLE IF NOT EXISTS earshot.terms_daily_deleted_agg_local ON CLUSTER prod (
			day Date,
			watchlist String,
			term String,
			deleted AggregateFunction(uniq, String)
		) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/earshot/terms_daily_deleted_agg_local', '{replica}')
		PARTITION BY toYYYYMM(day)
		ORDER BY (watchlist, day, term);

CREATE TABLE IF NOT EXISTS earshot.terms_daily_deleted_agg ON CLUSTER prod AS earshot.terms_daily_deleted_agg_local ENGINE = Distributed(prod, earshot, terms_daily_deleted_agg_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.terms_daily_deleted_mv ON CLUSTER prod TO earshot.terms_daily_deleted_agg_local AS
			SELECT toDate(created_at) AS day, watchlist, term, uniqState(post_key) AS deleted
			FROM earshot.deleted_matches_local
			ARRAY JOIN keywords AS term
			GROUP BY day, watchlist, term;

INSERT INTO earshot.deleted_matches (post_key, created_at, watchlist, region, sentiment_label, keywords)
			SELECT post_key, created_at, watchlist, region, sentiment_label, keywords
			FROM earshot.matches FINAL
			WHERE post_key GLOBAL IN (SELECT post_key FROM earshot.deletions);

DROP TABLE IF EXISTS earshot.mentions_hourly ON CLUSTER prod;

CREATE VIEW earshot.mentions_hourly ON CLUSTER prod AS
			SELECT hour, watchlist, region, sentiment_label, toUInt64(greatest(toInt64(m.mentions) - toInt64(d.deleted), 0)) AS mentions
			FROM (
				SELECT hour, watchlist, region, sentiment_label, uniqMerge(mentions) AS mentions
				FROM earshot.mentions_hourly_agg
				GROUP BY hour, watchlist, region, sentiment_label
			) AS m
			GLOBAL ANY LEFT JOIN (
				SELECT hour, watchlist, region, sentiment_label, uniqMerge(deleted) AS deleted
				FROM earshot.mentions_hourly_deleted_agg
				GROUP BY hour, watchlist, region, sentiment_label
			) AS d USING (hour, watchlist, region, sentiment_label)
			WHERE mentions > 0;

DROP TABLE IF EXISTS earshot.terms_daily ON CLUSTER prod;

CREATE VIEW earshot.terms_daily ON CLUSTER prod AS
			SELECT day, watchlist, term, toUInt64(greatest(toInt64(m.mentions) - toInt64(d.deleted), 0)) AS mentions
			FROM (
				SELECT day, watchlist, term, uniqMerge(mentions) AS mentions
				FROM earshot.terms_daily_agg
				GROUP BY day, watchlist, term
			) AS m
			GLOBAL ANY LEFT JOIN (
				SELECT day, watchlist, term, uniqMerge(deleted) AS deleted
				FROM earshot.terms_daily_deleted_agg
				GROUP BY day, watchlist, term
			) AS d USING (day, watchlist, term)
			WHERE mentions > 0;

ALTER TABLE earshot.posts_local ON CLUSTER prod
			ADD COLUMN emotion String DEFAULT '',
			ADD COLUMN emotion_confidence Float32 DEFAULT 0,
			ADD COLUMN irony UInt8 DEFAULT 0,
			ADD COLUMN irony_confidence Float32 DEFAULT 0;

DROP TABLE IF EXISTS earshot.posts ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.posts ON CLUSTER prod AS earshot.posts_local ENGINE = Distributed(prod, earshot, posts_local, cityHash64(post_key));

ALTER TABLE earshot.matches_local ON CLUSTER prod
			ADD COLUMN emotion String DEFAULT '',
			ADD COLUMN irony UInt8 DEFAULT 0;

DROP TABLE IF EXISTS earshot.matches ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.matches ON CLUSTER prod AS earshot.matches_local ENGINE = Distributed(prod, earshot, matches_local, cityHash64(post_key));

DROP TABLE IF EXISTS earshot.posts_dedup ON CLUSTER prod;

DROP TABLE IF EXISTS earshot.matches_dedup ON CLUSTER prod;

CREATE VIEW earshot.posts_dedup ON CLUSTER prod AS SELECT * FROM earshot.posts FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions);

CREATE VIEW earshot.matches_dedup ON CLUSTER prod AS SELECT * FROM earshot.matches FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions);

CREATE TABLE IF NOT EXISTS earshot.suppressions_local ON CLUSTER prod (
			post_key String,
			rule String,
			reason String,
			watchlists Array(String),
			region String,
			at DateTime,
			inserted_at DateTime
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/suppressions_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(at)
		ORDER BY post_key;

CREATE TABLE IF NOT EXISTS earshot.suppressions ON CLUSTER prod AS earshot.suppressions_local ENGINE = Distributed(prod, earshot, suppressions_local, cityHash64(post_key));

ALTER TABLE earshot.alert_events_local ON CLUSTER prod
			ADD COLUMN event_id String,
			ADD COLUMN seq UInt64,
			ADD COLUMN assignee String,
			ADD COLUMN outcome String,
			ADD COLUMN snoozed_until DateTime,
			ADD COLUMN url String;

DROP TABLE IF EXISTS earshot.alert_events ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.alert_events ON CLUSTER prod AS earshot.alert_events_local ENGINE = Distributed(prod, earshot, alert_events_local, cityHash64(alert_id));

ALTER TABLE earshot.posts_local ON CLUSTER prod
			ADD COLUMN market String DEFAULT '';

DROP TABLE IF EXISTS earshot.posts ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.posts ON CLUSTER prod AS earshot.posts_local ENGINE = Distributed(prod, earshot, posts_local, cityHash64(post_key));

ALTER TABLE earshot.matches_local ON CLUSTER prod
			ADD COLUMN market String DEFAULT '';

DROP TABLE IF EXISTS earshot.matches ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.matches ON CLUSTER prod AS earshot.matches_local ENGINE = Distributed(prod, earshot, matches_local, cityHash64(post_key));

ALTER TABLE earshot.alerts_local ON CLUSTER prod
			ADD COLUMN market String DEFAULT '';

DROP TABLE IF EXISTS earshot.alerts ON CLUSTER prod;

CREATE TABLE IF NOT EXISTS earshot.alerts ON CLUSTER prod AS earshot.alerts_local ENGINE = Distributed(prod, earshot, alerts_local, cityHash64(alert_id));

DROP TABLE IF EXISTS earshot.posts_dedup ON CLUSTER prod;

DROP TABLE IF EXISTS earshot.matches_dedup ON CLUSTER prod;

CREATE VIEW earshot.posts_dedup ON CLUSTER prod AS SELECT * FROM earshot.posts FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions);

CREATE VIEW earshot.matches_dedup ON CLUSTER prod AS SELECT * FROM earshot.matches FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions);

DROP TABLE IF EXISTS earshot.alerts_latest ON CLUSTER prod;

CREATE VIEW earshot.alerts_latest ON CLUSTER prod AS
			SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
				retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, acknowledged_at, acknowledged_by, market
			FROM (SELECT * FROM earshot.alerts FINAL WHERE post_key GLOBAL NOT IN (SELECT post_key FROM earshot.deletions)) AS a
			GLOBAL ANY LEFT JOIN (
				SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by
				FROM earshot.alert_events
				WHERE event = 'acknowledged'
				GROUP BY alert_id
			) AS ack USING alert_id;

CREATE TABLE IF NOT EXISTS earshot.alert_times_local ON CLUSTER prod (
			queue String,
			created_at DateTime,
			alert_id String,
			inserted_at DateTime
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/alert_times_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (queue, created_at, alert_id);

CREATE TABLE IF NOT EXISTS earshot.alert_times ON CLUSTER prod AS earshot.alert_times_local ENGINE = Distributed(prod, earshot, alert_times_local, cityHash64(alert_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.alert_times_mv ON CLUSTER prod TO earshot.alert_times_local AS
			SELECT queue, created_at, alert_id, inserted_at
			FROM earshot.alerts_local;

INSERT INTO earshot.alert_times (queue, created_at, alert_id, inserted_at)
			SELECT queue, created_at, alert_id, inserted_at
			FROM earshot.alerts;

CREATE TABLE IF NOT EXISTS earshot.alerts_desk_local ON CLUSTER prod (
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
		) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/earshot/alerts_desk_local', '{replica}', inserted_at)
		PARTITION BY toYYYYMM(created_at)
		ORDER BY (queue, alert_id)
		SETTINGS index_granularity = 256;

CREATE TABLE IF NOT EXISTS earshot.alerts_desk ON CLUSTER prod AS earshot.alerts_desk_local ENGINE = Distributed(prod, earshot, alerts_desk_local, cityHash64(alert_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS earshot.alerts_desk_mv ON CLUSTER prod TO earshot.alerts_desk_local AS
			SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market
			FROM earshot.alerts_local;

INSERT INTO earshot.alerts_desk (alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market)
			SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market
			FROM earshot.alerts;

ALTER TABLE earshot.posts_local ON CLUSTER prod MODIFY TTL created_at + INTERVAL 90 DAY;

ALTER TABLE earshot.terms_daily_agg_local ON CLUSTER prod MODIFY TTL day + INTERVAL 36 HOUR;
