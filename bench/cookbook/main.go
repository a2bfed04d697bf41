// Command cookbook times the analysts' cookbook (package insights) over a
// large generated data set: it migrates a scratch database on a ClickHouse
// server, fills it server-side (INSERT … SELECT FROM numbers(N), with skewed,
// realistic distributions: a few loud brands, power-law authors and
// engagement, a burst, deletions, alerts with acknowledgements), runs every
// query a number of times and prints p50/p95 per query as a Markdown table.
// The scratch database is dropped at the end unless -keep.
//
//	go run ./bench/cookbook -posts 10000000 -runs 10
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/sink"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "ClickHouse native address")
	user := flag.String("user", "default", "ClickHouse user (needs to create and drop a database)")
	password := flag.String("password", "", "password")
	db := flag.String("db", "earshot_cookbook_bench", "scratch database (dropped first and at the end)")
	posts := flag.Int("posts", 10_000_000, "matched posts to store")
	heard := flag.Int("heard", 5, "all posts heard per matched post (volume_per_minute)")
	runs := flag.Int("runs", 10, "runs of each query")
	keep := flag.Bool("keep", false, "keep the database (and reuse it if it is there)")
	only := flag.String("only", "", "comma-separated query names (default: all)")
	flag.Parse()

	ctx := context.Background()
	// Not sink.Open: an INSERT … SELECT of millions of rows sends nothing
	// back for longer than its 60s read timeout.
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{*addr},
		Auth:        clickhouse.Auth{Database: "default", Username: *user, Password: *password},
		DialTimeout: 5 * time.Second,
		ReadTimeout: time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		log.Fatal(err)
	}

	var stored uint64
	if *keep {
		conn.QueryRow(ctx, "SELECT count() FROM "+*db+".volume_per_minute_agg").Scan(&stored) // filled last; absent: 0
	}
	if stored == 0 {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+*db); err != nil {
			log.Fatal(err)
		}
		if _, err := sink.Migrate(ctx, conn, *db); err != nil {
			log.Fatal(err)
		}
		started := time.Now()
		for _, s := range load(*db, *posts, *heard) {
			t := time.Now()
			if err := conn.Exec(ctx, s.sql); err != nil {
				log.Fatalf("%s: %v", s.what, err)
			}
			fmt.Fprintf(os.Stderr, "%-28s %6.1fs\n", s.what, time.Since(t).Seconds())
		}
		fmt.Fprintf(os.Stderr, "loaded in %.0fs\n", time.Since(started).Seconds())
	}
	if !*keep {
		defer func() {
			if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+*db); err != nil {
				log.Print(err)
			}
		}()
	}
	counts := map[string]uint64{}
	for _, t := range []string{"posts_dedup", "matches_dedup", "alerts_latest", "alert_events", "deletions"} {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+*db+"."+t).Scan(&n); err != nil {
			log.Fatal(err)
		}
		counts[t] = n
	}
	var vol uint64
	if err := conn.QueryRow(ctx, "SELECT sum(posts) FROM "+*db+".volume_per_minute").Scan(&vol); err != nil {
		log.Fatal(err)
	}

	cat, err := insights.Load()
	if err != nil {
		log.Fatal(err)
	}
	cat.Limits.Timeout = 5 * time.Minute
	// Windows that reach over the whole 30 days generated.
	params := map[string]map[string]string{
		"*":                            {"watchlist": "brand1", "since": "30d"},
		"mentions_by_region_sentiment": {"watchlist": "", "since": "30d"},
		"top_terms_vs_previous":        {"watchlist": ""},
		"overdue_alerts":               {},
		"volume_by_platform":           {"since": "30d"},
	}
	fmt.Printf("ClickHouse %s, database %s: %d posts (posts_dedup), %d matches, %d alerts, %d alert events, %d deletions, %d posts heard (volume_per_minute); %d runs each\n\n",
		version, *db, counts["posts_dedup"], counts["matches_dedup"], counts["alerts_latest"], counts["alert_events"], counts["deletions"], vol, *runs)
	fmt.Println("| query | rows | p50 | p95 | max |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, q := range cat.List() {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), q.Name) {
			continue
		}
		p, ok := params[q.Name]
		if !ok {
			p = map[string]string{}
			for _, qp := range q.Params {
				if v, ok := params["*"][qp.Name]; ok {
					p[qp.Name] = v
				}
			}
		}
		var times []time.Duration
		var rows int
		for range *runs {
			t := time.Now()
			res, err := cat.Run(ctx, conn, *db, q.Name, p)
			if err != nil {
				log.Fatalf("%s: %v", q.Name, err)
			}
			times = append(times, time.Since(t))
			rows = len(res.Rows)
		}
		slices.Sort(times)
		fmt.Printf("| %s | %d | %s | %s | %s |\n", q.Name, rows, ms(pct(times, 0.5)), ms(pct(times, 0.95)), ms(times[len(times)-1]))
	}
}

// pct is the nearest-rank percentile.
func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

type stmt struct{ what, sql string }

// load fills db: posts over the last 30 days, one or two matches each, the
// alerts raised on a twentieth of them with their events, a thousandth of
// the posts deleted, and heard×posts rows of volume.
func load(db string, posts, heard int) []stmt {
	r := strings.NewReplacer("{db}", db, "{n}", fmt.Sprint(posts), "{heard}", fmt.Sprint(posts*heard))
	var out []stmt
	for _, s := range []stmt{
		{"posts", `INSERT INTO {db}.posts (post_key, platform, id, author_id, author_handle, author_followers, author_location, author_verified,
	text, created_at, lang, urls, hashtags, mentions, reply_to, repost_of, quote_of, country, region, sentiment, sentiment_label,
	watchlists, ingested_at, inserted_at, lang_confidence, sentiment_confidence, region_source, region_confidence, intents, influence,
	cluster_id, cluster_size, media, likes, reposts, replies, source)
SELECT
	concat(platform, ':', toString(n)), platform, toString(n), toString(author), concat('user', toString(author)), followers, '', toUInt8(followers > 1000000),
	concat('post ', toString(n), ' about ', brand, ' ', arrayElement(['my order is late', 'love the new phone', 'refund please', 'is the app down?', 'great support today', 'battery dies fast', 'price went up again', 'just bought one'], 1 + h3 % 8)),
	created, lang, [], arrayElement([[concat('#', brand)], [], ['#fail'], [], ['#deal', concat('#', brand)], []], 1 + h3 % 6), [], '', '', '',
	'', region, sentiment, multiIf(sentiment < -0.3, 'negative', sentiment > 0.3, 'positive', 'neutral'),
	if(h3 % 10 = 0, [brand, second], [brand]), created, now(), 0.9, 0.8, 'profile', 0.7,
	arrayElement([['complaint'], ['question'], ['praise'], [], [], ['purchase'], ['complaint', 'crisis'], []], 1 + h2 % 8),
	toFloat32(log10(toFloat64(followers) + 1) * 14), '', 0, 0,
	likes, intDiv(likes, 5), intDiv(likes, 10), 'synthetic'
FROM
(
	SELECT n, h, h2, h3, author, platform, created, brand, second, region, lang, sentiment, followers, likes
	FROM
	(
		SELECT
			number AS n, intHash64(number) AS h, intHash64(number + 1000000000) AS h2, intHash64(number + 2000000000) AS h3,
			toUInt64(floor(pow(1000000, (h2 % 1000000) / 1000000))) AS author,
			arrayElement(['x', 'x', 'x', 'x', 'bluesky', 'bluesky', 'bluesky', 'mastodon', 'mastodon', 'file'], 1 + h % 10) AS platform,
			if(h % 50 = 0, toDateTime(toUInt32(now()) - 3 * 86400 - intDiv(h2, 1000) % 3600),
				toDateTime(toUInt32(now()) - intDiv(number * 2592000, {n}))) AS created,
			if(h % 50 = 0, 'brand3', concat('brand', toString(toUInt32(floor(pow(20, (intDiv(h, 256) % 10000) / 10000)))))) AS brand,
			concat('brand', toString(1 + intDiv(h3, 7) % 19)) AS second,
			arrayElement(['NA', 'NA', 'EMEA', 'EMEA', 'APAC', 'LATAM', 'unknown'], 1 + intDiv(h, 65536) % 7) AS region,
			arrayElement(['en', 'en', 'en', 'en', 'es', 'de', 'fr', 'pt', 'ja', 'el'], 1 + intDiv(h, 1048576) % 10) AS lang,
			toFloat32(intDiv(h, 16777216) % 2001 / 1000 - 1) AS sentiment,
			toInt64(floor(pow(10, 7 * pow((intHash64(author) % 1000) / 1000, 3)))) AS followers,
			toInt64(floor(pow(10, 4 * pow((intDiv(h3, 1024) % 1000) / 1000, 4)))) AS likes
		FROM numbers({n})
	)
)`},
		{"matches", `INSERT INTO {db}.matches (post_key, watchlist, watchlist_version, brand, team, keywords, created_at, lang, country, region,
	sentiment, sentiment_label, inserted_at, tags, span_starts, span_ends, intents, influence)
SELECT post_key, wl, 1, wl, 'social', [wl, arrayElement(['refund', 'outage', 'launch', 'price', 'support', 'battery', 'delivery', 'ad'], 1 + cityHash64(post_key) % 8)],
	created_at, lang, country, region, sentiment, sentiment_label, inserted_at, [], [], [], intents, influence
FROM {db}.posts
ARRAY JOIN watchlists AS wl`},
		{"deletions", `INSERT INTO {db}.deletions (post_key, deleted_at, inserted_at)
SELECT post_key, now(), now() FROM {db}.posts WHERE cityHash64(post_key, 'deleted') % 1000 = 0`},
		{"alerts", `INSERT INTO {db}.alerts (alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
	retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at)
SELECT hex(cityHash64(post_key)), arrayElement(['care', 'care', 'care', 'pr', 'legal', 'sales'], 1 + k % 6) AS queue, concat(queue, '-team'),
	arrayElement(['P1', 'P2', 'P2', 'P3', 'P3', 'P4'], 1 + intDiv(k, 8) % 6) AS priority, 'rule', post_key, watchlists, region,
	if(k % 7 = 0, concat('inc', toString(k % 997)), ''), toUInt32(if(k % 7 = 0, 2 + k % 40, 1)), toUInt8(k % 101 = 0), toUInt8(k % 499 = 0),
	if(k % 10 = 0, 'care', ''), toUInt8(k % 211 = 0), created_at,
	if(priority = 'P4', toDateTime(0), created_at + multiIf(priority = 'P1', 900, priority = 'P2', 3600, 14400)), '{}', now()
FROM (SELECT post_key, watchlists, region, created_at, intDiv(cityHash64(post_key), 20) AS k FROM {db}.posts WHERE cityHash64(post_key) % 20 = 3)`},
		{"alert_events", `INSERT INTO {db}.alert_events (alert_id, queue, event, actor, at, note, inserted_at)
SELECT alert_id, queue, ev, 'agent',
	created_at + multiIf(ev = 'created', 0, ev = 'acknowledged', toUInt32(floor(pow(10, 1.5 + 2.5 * (intDiv(k, 100) % 1000) / 1000))), ev = 'resolved', 20000, 1800),
	'', now()
FROM
(
	SELECT alert_id, queue, created_at, cityHash64(alert_id) AS k,
		arrayFilter(e -> e != '', ['created', if(k % 100 < 85, 'acknowledged', ''), if(k % 100 < 60, 'resolved', ''), if(k % 100 >= 95, 'escalated', '')]) AS evs
	FROM {db}.alerts
)
ARRAY JOIN evs AS ev`},
		{"volume", `INSERT INTO {db}.volume_in (minute, platform, lang, post_hash)
SELECT toStartOfMinute(toDateTime(toUInt32(now()) - intDiv(number * 2592000, {heard}))),
	arrayElement(['x', 'x', 'x', 'x', 'bluesky', 'bluesky', 'bluesky', 'mastodon', 'mastodon', 'file'], 1 + intHash64(number) % 10),
	arrayElement(['en', 'en', 'en', 'en', 'es', 'de', 'fr', 'pt', 'ja', ''], 1 + intHash64(number + 7) % 10), intHash64(number + 99)
FROM numbers({heard})`},
	} {
		out = append(out, stmt{s.what, r.Replace(s.sql)})
	}
	return out
}
