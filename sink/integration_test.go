//go:build integration

package sink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
)

// These tests talk to the ClickHouse 18.16 server `make up` starts, each in
// a database of its own.

func openTest(t testing.TB) (driver.Conn, string) {
	t.Helper()
	c := DefaultConfig()
	conn, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("sink_%s_%d", strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())), time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
		conn.Close()
	})
	return conn, db
}

func queryCount(t *testing.T, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrateFreshDatabase(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	applied, err := Migrate(ctx, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(migrations) || applied[len(applied)-1] != SchemaVersion() {
		t.Fatalf("applied %v, want all %d migrations up to %d", applied, len(migrations), SchemaVersion())
	}
	again, err := Migrate(ctx, conn, db)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate: applied %v, err %v; want nothing", again, err)
	}
	// The contract's tables and views exist with the contract's columns.
	want := map[string]string{
		"alerts":            "alert_id String, queue String, team String, priority String, rule String, post_key String, watchlists Array(String), region String, incident String, incident_size UInt32, spike UInt8, retracted UInt8, handed_off_from String, unstaffed UInt8, created_at DateTime, due_at DateTime, payload String, inserted_at DateTime, market String",
		"alerts_desk":       "alert_id String, queue String, team String, priority String, rule String, post_key String, watchlists Array(String), region String, incident String, incident_size UInt32, spike UInt8, retracted UInt8, handed_off_from String, unstaffed UInt8, created_at DateTime, due_at DateTime, payload String, inserted_at DateTime, market String",
		"alert_events":      "alert_id String, queue String, event String, actor String, at DateTime, note String, inserted_at DateTime, event_id String, seq UInt64, assignee String, outcome String, snoozed_until DateTime, url String",
		"audit_log":         "at DateTime, actor String, role String, action String, object_type String, object_id String, before String, after String, request_id String, inserted_at DateTime",
		"volume_per_minute": "minute DateTime, platform String, lang String, posts UInt64",
		"mentions_hourly":   "hour DateTime, watchlist String, region String, sentiment_label String, mentions UInt64",
		"terms_daily":       "day Date, watchlist String, term String, mentions UInt64",
		"alerts_latest":     "alert_id String, queue String, team String, priority String, rule String, post_key String, watchlists Array(String), region String, incident String, incident_size UInt32, spike UInt8, retracted UInt8, handed_off_from String, unstaffed UInt8, created_at DateTime, due_at DateTime, payload String, inserted_at DateTime, acknowledged_at DateTime, acknowledged_by String, market String",
	}
	for table, cols := range want {
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT name, type FROM system.columns WHERE database = '%s' AND table = '%s'", db, table))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var n, ty string
			if err := rows.Scan(&n, &ty); err != nil {
				t.Fatal(err)
			}
			got = append(got, n+" "+ty)
		}
		rows.Close()
		if strings.Join(got, ", ") != cols {
			t.Errorf("%s columns:\n got %s\nwant %s", table, strings.Join(got, ", "), cols)
		}
	}
}

// A database at version 3 with matches stored gets its roll-ups filled
// from them by migration 4.
func TestMigrationFourBackfillsRollups(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := (Schema{DB: db}).migrateTo(ctx, conn, 3); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".matches (post_key, watchlist, keywords, created_at, region, sentiment_label, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	for i, key := range []string{"x:1", "x:2", "x:2", "x:3"} { // x:2 twice: a redelivery
		if err := b.Append(key, "acme", []string{"acme", "outage"}, at.Add(time.Duration(i)*time.Minute), "EMEA", "negative", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	// x:4 was deleted before the upgrade (version 5 takes it back out).
	d, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".matches (post_key, watchlist, keywords, created_at, region, sentiment_label, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	d.Append("x:4", "acme", []string{"acme", "outage"}, at, "EMEA", "negative", at)
	if err := d.Send(); err != nil {
		t.Fatal(err)
	}
	del, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".deletions (post_key, deleted_at, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	del.Append("x:4", at, at)
	if err := del.Send(); err != nil {
		t.Fatal(err)
	}
	applied, err := Migrate(ctx, conn, db)
	if err != nil || len(applied) != SchemaVersion()-3 || applied[0] != 4 || applied[1] != 5 {
		t.Fatalf("applied %v, err %v; want 4 to %d", applied, err, SchemaVersion())
	}
	if n := queryCount(t, conn, "SELECT sum(mentions) FROM "+db+".mentions_hourly WHERE watchlist = 'acme' AND region = 'EMEA' AND sentiment_label = 'negative' AND hour = toDateTime('2026-11-01 10:00:00', 'UTC')"); n != 3 {
		t.Errorf("mentions_hourly after backfill: %d, want 3 (x:4 deleted)", n)
	}
	if n := queryCount(t, conn, "SELECT sum(mentions) FROM "+db+".terms_daily WHERE term = 'outage'"); n != 3 {
		t.Errorf("terms_daily after backfill: %d, want 3 (x:4 deleted)", n)
	}
}

// TestDeletesLeaveTheRollups: a delete takes its post out of the roll-ups
// as well as the views, once even when the delete is redelivered.
func TestDeletesLeaveTheRollups(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := New(conn, db)
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	var items []*post.Item
	for i := range 4 {
		it := enrichedItem(fmt.Sprint(i), "1", at.Add(time.Duration(i)*time.Minute))
		it.Matches[0].Keywords = []string{"acme", "outage"}
		items = append(items, it)
	}
	if out, err := s.Stage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("stage: %v %+v", err, out.Rejected)
	}
	mentions := func() uint64 {
		return queryCount(t, conn, "SELECT sum(mentions) FROM "+db+".mentions_hourly WHERE watchlist = 'acme' AND region = 'EMEA' AND sentiment_label = 'negative'")
	}
	if n := mentions(); n != 4 {
		t.Fatalf("mentions before the delete: %d, want 4", n)
	}
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "2"}}
	unknown := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "never-stored"}}
	for range 2 { // the second time is a redelivery
		if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{del, unknown}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("delete: %v %+v", err, out.Rejected)
		}
		if n := mentions(); n != 3 {
			t.Errorf("mentions after the delete: %d, want 3", n)
		}
		if n := queryCount(t, conn, "SELECT sum(mentions) FROM "+db+".terms_daily WHERE watchlist = 'acme' AND term = 'outage'"); n != 3 {
			t.Errorf("terms after the delete: %d, want 3", n)
		}
	}
	// A cell whose every post was deleted disappears.
	var rest []*post.Item
	for _, id := range []string{"0", "1", "3"} {
		rest = append(rest, &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: id}})
	}
	if _, err := s.Stage()(ctx, post.Batch{Items: rest}); err != nil {
		t.Fatal(err)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".mentions_hourly"); n != 0 {
		t.Errorf("%d roll-up rows left after every post was deleted", n)
	}
}

func enrichedItem(id, author string, at time.Time) *post.Item {
	return &post.Item{
		Post:       &post.Post{Platform: "x", ID: id, Author: post.Author{ID: author, Handle: "h" + id}, Text: "acme is down " + id, CreatedAt: at, Lang: "en", IngestedAt: at},
		Matches:    []post.Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}},
		Enrichment: &post.Enrichment{Lang: "en", Region: "EMEA", SentimentLabel: "negative"},
	}
}

func TestSinkAlertsAndVolume(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	s := NewWith(conn, Config{Database: db}, Options{Registerer: reg})
	at := time.Date(2026, 11, 1, 10, 15, 30, 0, time.UTC)

	// Volume: five posts, the batch delivered twice, then an edit of one of
	// them: five posts heard.
	var posts []*post.Item
	for i := range 5 {
		posts = append(posts, enrichedItem(fmt.Sprint(i), "1", at.Add(time.Duration(i)*20*time.Second)))
	}
	vol := post.CountVolume(posts)
	edit := enrichedItem("2", "1", at.Add(40*time.Second)) // as created
	edit.Post.Kind = post.KindEdit
	// A redelivery in other batches (after a crash the match stage fetches
	// from the last commit, in batches cut differently) counts nothing twice.
	again := append(post.CountVolume(posts[:3]), post.CountVolume(posts[2:])...)
	for _, b := range [][]*post.Item{vol, vol, post.CountVolume([]*post.Item{edit}), again} {
		if out, err := s.VolumeStage()(ctx, post.Batch{Items: b}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("volume stage: %v %+v", err, out.Rejected)
		}
	}
	if n := queryCount(t, conn, "SELECT sum(posts) FROM "+db+".volume_per_minute WHERE platform = 'x' AND lang = 'en'"); n != 5 {
		t.Errorf("volume_per_minute: %d posts, want 5", n)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".volume_per_minute"); n != 2 {
		t.Errorf("volume_per_minute: %d minutes, want 2 (10:15 and 10:16)", n)
	}
	// A post from a year a DateTime cannot hold, counted with a new one:
	// its cell is dead-lettered, the other written.
	far := enrichedItem("far", "1", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
	out, err := s.VolumeStage()(ctx, post.Batch{Items: post.CountVolume([]*post.Item{far, enrichedItem("5", "1", at)})})
	if err != nil || len(out.Rejected) != 1 || out.Rejected[0].Item.Volume.Cells[0].Posts[0] != post.PostHash("x:far") {
		t.Fatalf("volume with a far cell: %v %+v", err, out.Rejected)
	}
	if n := queryCount(t, conn, "SELECT sum(posts) FROM "+db+".volume_per_minute"); n != 6 {
		t.Errorf("volume_per_minute: %d posts, want 6", n)
	}

	// Alerts: one raised and redelivered, another, then the first retracted.
	a1 := enrichedItem("1", "1", at)
	a1.Alert = &post.Alert{ID: "a1", Queue: "care", Priority: "P2", Rule: "complaints", CreatedAt: at, Team: "care-emea", DueAt: at.Add(time.Hour)}
	a2 := enrichedItem("2", "1", at)
	a2.Alert = &post.Alert{ID: "a2", Queue: "care", Priority: "P3", Rule: "complaints", CreatedAt: at}
	// Routed again after a crash upstream: the route stage stamps it anew.
	a1again := enrichedItem("1", "1", at)
	a1again.Alert = &post.Alert{ID: "a1", Queue: "care", Priority: "P2", Rule: "complaints", CreatedAt: at.Add(5 * time.Second), Team: "care-emea", DueAt: at.Add(time.Hour + 5*time.Second)}
	for _, b := range [][]*post.Item{{a1, a2}, {a1}, {a1again}} {
		if out, err := s.AlertStage()(ctx, post.Batch{Items: b}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("alert stage: %v %+v", err, out.Rejected)
		}
	}
	retract := enrichedItem("1", "1", at)
	retract.Matches = nil
	retract.Alert = &post.Alert{ID: "a1", Queue: "care", Priority: "P2", Rule: "retract", CreatedAt: at.Add(40 * 24 * time.Hour), Retracted: true}
	if out, err := s.AlertStage()(ctx, post.Batch{Items: []*post.Item{retract}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("alert stage: %v %+v", err, out.Rejected)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alerts_latest"); n != 2 {
		t.Errorf("alerts_latest: %d alerts, want 2", n)
	}
	var retracted uint8
	var rule string
	var created, due time.Time
	err = conn.QueryRow(ctx, "SELECT retracted, rule, created_at, due_at FROM "+db+".alerts_latest WHERE alert_id = 'a1'").Scan(&retracted, &rule, &created, &due)
	if err != nil {
		t.Fatal(err)
	}
	// The retraction keeps the alert's fields and its created_at (a month
	// later, so another partition: it would not replace it otherwise).
	if retracted != 1 || rule != "complaints" || !created.Equal(at) || !due.Equal(at.Add(time.Hour)) {
		t.Errorf("a1 after retraction: retracted %d, rule %s, created %v, due %v", retracted, rule, created, due)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alert_events FINAL"); n != 3 {
		t.Errorf("alert_events: %d, want 3 (two created, one retracted)", n)
	}
	// Retracting it again (a redelivery) changes nothing.
	if out, err := s.AlertStage()(ctx, post.Batch{Items: []*post.Item{retract}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("alert stage: %v %+v", err, out.Rejected)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alert_events FINAL"); n != 3 {
		t.Errorf("alert_events after a second retraction: %d, want 3", n)
	}
	var payload string
	if err := conn.QueryRow(ctx, "SELECT payload FROM "+db+".alerts_latest WHERE alert_id = 'a2'").Scan(&payload); err != nil {
		t.Fatal(err)
	}
	if got, err := post.Decode([]byte(payload)); err != nil || got.Alert.ID != "a2" {
		t.Errorf("payload %s does not decode to the alert: %v", payload, err)
	}
	// A deleted post's alert leaves alerts_latest.
	if _, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "2"}}}}); err != nil {
		t.Fatal(err)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alerts_latest"); n != 1 {
		t.Errorf("alerts_latest after the delete: %d alerts, want 1", n)
	}
	if got := testutil.ToFloat64(s.metrics.rows.WithLabelValues("volume_in")); got != 18 {
		t.Errorf("earshot_sink_rows_total{table=volume_in} = %v, want 18", got)
	}
	if n, err := testutil.GatherAndCount(reg, "earshot_sink_flush_duration_seconds"); err != nil || n == 0 {
		t.Errorf("flush histogram: %d series, %v", n, err)
	}
}

// A batch sent in several blocks counts every block's rows in
// earshot_sink_rows_total, not only the last block's.
func TestSinkRowsMetricCountsEveryBlock(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := NewWith(conn, Config{Database: db}, Options{Registerer: prometheus.NewRegistry()})
	s.blockRows = 5
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var items []*post.Item
	for i := range 23 {
		items = append(items, enrichedItem(fmt.Sprint(i), "7", at))
	}
	if _, err := s.Stage()(ctx, post.Batch{Items: items}); err != nil {
		t.Fatal(err)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".posts"); n != 23 {
		t.Fatalf("%d posts stored, want 23", n)
	}
	for _, table := range []string{"posts", "matches"} {
		if got := testutil.ToFloat64(s.metrics.rows.WithLabelValues(table)); got != 23 {
			t.Errorf("earshot_sink_rows_total{table=%s} = %v, want 23", table, got)
		}
	}
}

// ClickHouse refuses a row when a view over the table cannot take its
// value: here an analyst's view that reads author ids as numbers. The
// sink finds that row by cutting the batch, dead-letters it with the
// server's reason and writes the rest; also when the batch goes in
// several blocks and the bad row is in the first block or a later one,
// and when the server writes each block as it comes (no squashing), so it
// throws while the next blocks are still being sent.
func TestSinkDeadLettersRejectedRows(t *testing.T) {
	for _, tc := range []struct {
		blockRows, bad int
		unsquashed     bool
	}{{0, 13, false}, {5, 13, false}, {5, 1, false}, {5, 39, false}, {5, 1, true}, {5, 13, true}} {
		t.Run(fmt.Sprintf("block%d_bad%d_unsquashed_%v", tc.blockRows, tc.bad, tc.unsquashed), func(t *testing.T) {
			conn, db := openTest(t)
			ctx := context.Background()
			reg := prometheus.NewRegistry()
			s := NewWith(conn, Config{Database: db}, Options{Registerer: reg})
			s.blockRows = tc.blockRows
			if err := s.migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW "+db+".author_numbers ENGINE = MergeTree ORDER BY uid AS SELECT toUInt64(author_id) AS uid FROM "+db+".posts"); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			var items []*post.Item
			for i := range 40 {
				author := fmt.Sprint(1000 + i)
				if i == tc.bad {
					author = "not-a-number"
				}
				items = append(items, enrichedItem(fmt.Sprint(i), author, at))
			}
			// And a date a DateTime cannot hold, which the driver would wrap.
			items = append(items, enrichedItem("far", "7", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)))
			stageCtx := ctx
			if tc.unsquashed {
				stageCtx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"min_insert_block_size_rows": 1, "min_insert_block_size_bytes": 1}))
			}
			out, err := s.Stage()(stageCtx, post.Batch{Items: items})
			for try := 1; err != nil && tc.unsquashed && try < 5; try++ {
				// The server may close the connection on its error while a
				// block is still being sent; the client then sees a broken
				// pipe, not the error, and the batch fails as a network error.
				// The runner retries it, as here, and a retry reads the error.
				t.Logf("try %d: %v", try, err)
				out, err = s.Stage()(stageCtx, post.Batch{Items: items})
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Rejected) != 2 {
				t.Fatalf("%d rejected, want 2: %+v", len(out.Rejected), out.Rejected)
			}
			reasons := map[string]string{}
			for _, r := range out.Rejected {
				reasons[r.Item.Post.ID] = r.Reason
			}
			if r := reasons[fmt.Sprint(tc.bad)]; !strings.Contains(r, "ClickHouse rejected it") || !strings.Contains(r, "not-a-number") {
				t.Errorf("reason for the bad author id: %q", r)
			}
			if !strings.Contains(reasons["far"], "outside what a ClickHouse DateTime holds") {
				t.Errorf("reason for the far date: %q", reasons["far"])
			}
			if n := queryCount(t, conn, "SELECT uniqExact(uid) FROM "+db+".author_numbers"); n != 39 {
				t.Errorf("%d authors through the view, want the 39 good ones", n)
			}
			if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.matches_dedup WHERE post_key != 'x:%d'", db, tc.bad)); n != 39 {
				t.Errorf("%d good matches stored, want 39", n)
			}
			if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.posts_dedup WHERE post_key != 'x:%d'", db, tc.bad)); n != 39 {
				t.Errorf("%d good posts stored, want 39", n)
			}
			if got := testutil.ToFloat64(s.metrics.rejected.WithLabelValues("posts")); got != 2 {
				t.Errorf("earshot_sink_rejected_rows_total{table=posts} = %v, want 2", got)
			}
		})
	}
}

// An unreachable ClickHouse is not a rejection: the batch fails as a
// whole, for the runner to retry (backpressure), and nothing is dropped.
func TestSinkUnreachableIsRetried(t *testing.T) {
	c := DefaultConfig()
	c.Addr, c.DialTimeout = []string{"127.0.0.1:1"}, 500*time.Millisecond
	conn, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := NewWith(conn, Config{Database: "nowhere"}, Options{})
	out, err := s.Stage()(context.Background(), post.Batch{Items: []*post.Item{enrichedItem("1", "1", time.Now())}})
	if err == nil || len(out.Rejected) > 0 || Rejection(err) {
		t.Fatalf("unreachable server: err %v, rejected %+v; want an error to retry", err, out.Rejected)
	}
}

func TestRetentionSkippedWithoutTTL(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	v, err := Version(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if v.HasTTL() {
		t.Skipf("ClickHouse %s has TTL; this test is for the 18.16 server", v.Text)
	}
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	schema := Schema{DB: db, Retention: Retention{"posts": "90d", "alert_events": "36h"}}
	if _, err := schema.Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "sink.retention not applied") || !strings.Contains(logs.String(), "server_version="+v.Text) {
		t.Errorf("no note that retention was skipped; log:\n%s", logs.String())
	}
	var engine string
	if err := conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = '"+db+"' AND name = 'posts'").Scan(&engine); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(engine, "TTL") {
		t.Errorf("posts has a TTL on %s: %s", v.Text, engine)
	}
}
