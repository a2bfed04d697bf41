//go:build integration

package sink

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/earshot-dev/earshot/post"
)

// readCost runs fn with a context that sums what ClickHouse reports
// reading (its progress packets: rows and uncompressed bytes), for every
// query fn sends.
func readCost(fn func(ctx context.Context) error) (rows, bytes uint64, err error) {
	var mu sync.Mutex
	ctx := clickhouse.Context(context.Background(), clickhouse.WithProgress(func(p *clickhouse.Progress) {
		mu.Lock()
		rows, bytes = rows+p.Rows, bytes+p.Bytes
		mu.Unlock()
	}))
	err = fn(ctx)
	mu.Lock()
	defer mu.Unlock()
	return rows, bytes, err
}

// TestDeskReadsAreBounded: reading one alert for the desk (Find, and its
// events) costs what the alert's own granules cost, not what the queue
// holds: with 60,000 alerts of 1 KiB on the queue (each with its "created"
// event) and 60,000 deleted posts, one alert's read stays within a few
// index granules (8,192 rows each) and well under the bytes of one
// granule's payloads (8 MiB here). A scan of the queue's events, of every
// deletion, or of a granule's payloads is what made each desk action cost
// tens of milliseconds, growing with the tables.
func TestDeskReadsAreBounded(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	const n = 60_000
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	text := strings.Repeat("acme is down ", 80)
	st := New(conn, db).AlertStage()
	for lo := 0; lo < n; lo += 10_000 {
		var items []*post.Item
		for i := lo; i < lo+10_000; i++ {
			id := fmt.Sprintf("b%d", i)
			items = append(items, &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: text, CreatedAt: t0},
				Alert: &post.Alert{ID: id, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: t0}})
		}
		if out, err := st(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("storing: %v", err)
		}
	}
	if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.deletions (post_key, deleted_at, inserted_at) SELECT concat('y:', toString(number)), now(), now() FROM system.numbers LIMIT %d", db, n)); err != nil {
		t.Fatal(err)
	}
	// One part per table, as after the server's merges: a lookup by key
	// reads a granule of each part the key may be in, so the bound below
	// holds for a merged table (a table of many unmerged parts costs a
	// granule per part, whatever the queries).
	for _, table := range []string{"alerts", "alerts_desk", "alert_events", "deletions"} {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+db+"."+table+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	tab := &AlertTables{Conn: conn, DB: db}
	const id = "b31337"
	if err := tab.AddDeskEvent(ctx, DeskEventRow{AlertID: id, Queue: "care", Event: "desk.claim", Actor: "rita", Assignee: "rita", At: t0, EventID: "c1", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	// A page of the newest 50 reads the queue's key columns (to order
	// it), not every alert's payload (60,000 × 1 KiB here).
	rows, bytes, err := readCost(func(ctx context.Context) error {
		page, err := tab.Latest(ctx, "care", 0, 51)
		if err == nil && len(page) != 51 {
			err = fmt.Errorf("%d alerts", len(page))
		}
		return err
	})
	t.Logf("Latest: %d rows, %d bytes read", rows, bytes)
	if err != nil || bytes > 16<<20 {
		t.Errorf("Latest 51 of %d alerts read %d bytes (%v), want at most 16 MiB", n, bytes, err)
	}
	const maxRows, maxBytes = 4 * 8192, 1 << 20
	for _, c := range []struct {
		name string
		read func(ctx context.Context) error
	}{
		{"Find", func(ctx context.Context) error {
			r, ok, err := tab.Find(ctx, "care", id)
			if err == nil && (!ok || r.ID != id) {
				err = fmt.Errorf("found %v %q", ok, r.ID)
			}
			return err
		}},
		{"DeskEvents", func(ctx context.Context) error {
			ev, err := tab.DeskEvents(ctx, "care", []string{id})
			if err == nil && (len(ev[id]) != 1 || ev[id][0].EventID != "c1") {
				err = fmt.Errorf("events %+v", ev)
			}
			return err
		}},
	} {
		rows, bytes, err := readCost(c.read)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%s: %d rows, %d bytes read", c.name, rows, bytes)
		if rows > maxRows || bytes > maxBytes {
			t.Errorf("%s of one alert read %d rows, %d bytes; want at most %d rows, %d bytes", c.name, rows, bytes, maxRows, maxBytes)
		}
	}
}

// TestLatestAsTheView: Latest pages through what the alerts_latest view
// gives (the spec of an alert's latest version: its newest row, without
// deleted posts, with its first acknowledgement), ordered newest first:
// alerts updated (a later post, a retraction) to another created_at and
// post_key, a deleted post that was an earlier version's only, ties of
// created_at, another queue, acknowledgements.
func TestLatestAsTheView(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	st := New(conn, db).AlertStage()
	put := func(postID string, a post.Alert) {
		t.Helper()
		if a.Queue == "" {
			a.Queue = "care"
		}
		a.Priority, a.Rule = "P2", "r"
		if out, err := st(ctx, post.Batch{Items: []*post.Item{{Post: &post.Post{Platform: "x", ID: postID, Text: "acme", CreatedAt: a.CreatedAt}, Alert: &a}}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("storing %s: %v", a.ID, err)
		}
	}
	for i := range 40 {
		put(fmt.Sprintf("p%d", i), post.Alert{ID: fmt.Sprintf("a%02d", i), CreatedAt: t0.Add(time.Duration(i/3) * time.Second)}) // ties of three
	}
	put("q1", post.Alert{ID: "other", Queue: "pr", CreatedAt: t0.Add(time.Hour)})
	// a05 grows into an incident: a later post, a later time; a07 is
	// retracted later still; a09's post is deleted; a11's first post is
	// deleted after it moved to another.
	time.Sleep(1100 * time.Millisecond) // a newer inserted_at
	put("p5b", post.Alert{ID: "a05", CreatedAt: t0.Add(30 * time.Minute), Incident: "i", IncidentSize: 2})
	put("p7", post.Alert{ID: "a07", CreatedAt: t0.Add(40 * time.Minute), Retracted: true})
	put("p11b", post.Alert{ID: "a11", CreatedAt: t0.Add(20 * time.Second)})
	if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.deletions (post_key, deleted_at, inserted_at) SELECT arrayJoin(['x:p9', 'x:p11']), now(), now()", db)); err != nil {
		t.Fatal(err)
	}
	tab := &AlertTables{Conn: conn, DB: db}
	for _, id := range []string{"a03", "a05", "a05"} {
		if err := tab.AddEvent(ctx, id, "care", "acknowledged", "rita", t0.Add(time.Minute), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.AddEvent(ctx, "a05", "care", "acknowledged", "sam", t0.Add(2*time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	latestAsTheView(t, tab, "care", [][2]int{{0, 10}, {0, 51}, {7, 5}, {30, 20}, {39, 3}, {100, 5}})
	if got, err := tab.Latest(ctx, "care", 0, 51); err != nil || len(got) != 39 { // 40 on care, a09 deleted
		t.Fatalf("the whole queue: %d alerts, %v; want 39", len(got), err)
	}
}

// latestAsTheView checks each page (offset, limit) of queue that Latest
// reads against the alerts_latest view, alert by alert.
func latestAsTheView(t *testing.T, tab *AlertTables, queue string, pages [][2]int) {
	t.Helper()
	ctx := context.Background()
	for _, p := range pages {
		got, err := tab.Latest(ctx, queue, p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		want, err := tab.query(ctx, fmt.Sprintf("WHERE queue = ? ORDER BY created_at DESC, alert_id LIMIT %d, %d", p[0], p[1]), queue)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("page %v: %d alerts, the view %d", p, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.ID != w.ID || g.PostKey != w.PostKey || !g.CreatedAt.Equal(w.CreatedAt) || g.Retracted != w.Retracted || g.IncidentSize != w.IncidentSize ||
				!g.AcknowledgedAt.Equal(w.AcknowledgedAt) || g.AcknowledgedBy != w.AcknowledgedBy || g.Payload != w.Payload {
				t.Errorf("page %v, #%d: %+v\nthe view: %+v", p, i, g, w)
			}
		}
	}
}

// TestLatestReadsAgain: the newest rows of the queue's order (alert_times)
// are versions left behind — alerts updated to an earlier time — and
// alerts of deleted posts, so the first read of the newest rows holds fewer
// alerts than the page: Latest reads further back until it has them, and
// the pages are the view's. A second queue's alerts, newer than all of
// these, never show on this one.
func TestLatestReadsAgain(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	st := New(conn, db).AlertStage()
	put := func(queue string, ids []string, at func(i int) time.Time, postID func(i int) string) {
		t.Helper()
		var items []*post.Item
		for i, id := range ids {
			items = append(items, &post.Item{Post: &post.Post{Platform: "x", ID: postID(i), Text: "acme", CreatedAt: at(i)},
				Alert: &post.Alert{ID: id, Queue: queue, Priority: "P2", Rule: "r", CreatedAt: at(i)}})
		}
		if out, err := st(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("storing: %v %+v", err, out.Rejected)
		}
	}
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("a%03d", i)
	}
	// a000…a299, one a second, a299 the newest; the other queue newer still.
	put("care", ids, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }, func(i int) string { return ids[i] })
	put("pr", []string{"p1", "p2"}, func(int) time.Time { return t0.Add(time.Hour) }, func(i int) string { return fmt.Sprint("pr", i) })
	// The newest 150 move back in time, before a000, on another post (the
	// sink keeps an alert's first time; another writer, a repair, may not):
	// their rows at the old times stay in alert_times. Of the next 100,
	// every other one's post is deleted.
	cols := "alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market"
	moved := strings.Replace(cols, "post_key", "concat('x:m', alert_id)", 1)
	moved = strings.Replace(moved, "created_at", "created_at - 7200", 1)
	moved = strings.Replace(moved, "inserted_at", "inserted_at + 10", 1)
	if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %[1]s.alerts (%[2]s) SELECT %[3]s FROM %[1]s.alerts FINAL WHERE queue = 'care' AND alert_id >= 'a150'", db, cols, moved)); err != nil {
		t.Fatal(err)
	}
	var gone []string
	for i := 50; i < 150; i += 2 {
		gone = append(gone, "x:"+ids[i])
	}
	if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.deletions (post_key, deleted_at, inserted_at) SELECT arrayJoin(?), now(), now()", db), gone); err != nil {
		t.Fatal(err)
	}
	tab := &AlertTables{Conn: conn, DB: db}
	if err := tab.AddEvent(ctx, "a149", "care", "acknowledged", "rita", t0.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	latestAsTheView(t, tab, "care", [][2]int{{0, 10}, {0, 51}, {10, 40}, {60, 50}, {200, 60}, {240, 10}, {0, 500}})
	got, err := tab.Latest(ctx, "care", 0, 3)
	if err != nil || len(got) != 3 || got[0].ID != "a149" || got[1].ID != "a147" || got[2].ID != "a145" || got[0].AcknowledgedBy != "rita" {
		t.Fatalf("the newest three: %+v %v; want a149 (acknowledged), a147, a145", got, err)
	}
	if all, err := tab.Latest(ctx, "care", 0, 1000); err != nil || len(all) != 250 {
		t.Fatalf("the whole queue: %d alerts, %v; want 250 (50 deleted)", len(all), err)
	}
}

// TestMigrationTenAlertTimes: a database at version 9 with alerts stored
// takes migration 10; the alerts already stored are in the queue's order
// (the backfill) and those stored after it too (the materialised view), so
// Latest lists both as the view does.
func TestMigrationTenAlertTimes(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := (Schema{DB: db}).migrateTo(ctx, conn, 9); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	// Stored by a version-9 sink (a sink migrates before its first write).
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.alerts (alert_id, queue, priority, rule, post_key, created_at, payload, inserted_at)
		SELECT concat('old', if(number < 10, '0', ''), toString(number)), 'care', 'P2', 'r', concat('x:old', toString(number)), toDateTime(?) + number, '{}', now()
		FROM system.numbers LIMIT 30`, db), t0); err != nil {
		t.Fatal(err)
	}
	st := New(conn, db).AlertStage()
	put := func(id string, at time.Time) {
		t.Helper()
		items := []*post.Item{{Post: &post.Post{Platform: "x", ID: id, Text: "acme", CreatedAt: at},
			Alert: &post.Alert{ID: id, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: at}}}
		if out, err := st(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("storing %s: %v %+v", id, err, out.Rejected)
		}
	}
	applied, err := Migrate(ctx, conn, db)
	if err != nil || len(applied) != 2 || applied[0] != 10 || applied[1] != 11 {
		t.Fatalf("applied %v, err %v; want 10 and 11", applied, err)
	}
	put("new", t0.Add(time.Minute))
	put("older", t0.Add(-time.Minute))
	tab := &AlertTables{Conn: conn, DB: db}
	latestAsTheView(t, tab, "care", [][2]int{{0, 5}, {0, 100}, {28, 10}})
	got, err := tab.Latest(ctx, "care", 0, 100)
	if err != nil || len(got) != 32 || got[0].ID != "new" || got[1].ID != "old29" || got[31].ID != "older" {
		t.Fatalf("%d alerts, %v; want 32, new first and older last", len(got), err)
	}
}

// TestMigrationElevenAlertsDesk: a database at version 10 with alerts
// stored (updated, retracted, one of a deleted post) takes migration 11.
// The desk's copy, alerts_desk, then holds what alerts holds — the alerts
// stored before (the backfill) and after (the materialised view: new
// alerts, updates, retractions), every column, the same latest version
// of each — also after the backfill ran a second time (a migrate killed
// before recording it); FindDesk and Latest answer as the alerts_latest
// view, and a deleted post's alert is not found.
func TestMigrationElevenAlertsDesk(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := (Schema{DB: db}).migrateTo(ctx, conn, 10); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	st := New(conn, db).AlertStage()
	put := func(postID string, a post.Alert) {
		t.Helper()
		if a.Queue == "" {
			a.Queue = "care"
		}
		a.Priority, a.Rule = "P2", "r"
		it := &post.Item{Post: &post.Post{Platform: "x", ID: postID, Text: "acme is down " + postID, CreatedAt: a.CreatedAt}, Alert: &a}
		if out, err := st(ctx, post.Batch{Items: []*post.Item{it}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("storing %s: %v", a.ID, err)
		}
	}
	// Stored by a version-10 sink (the sink's stage would migrate first):
	// 20 alerts, a05 updated to a later post and time, a07 retracted,
	// a09's post deleted.
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.alerts (alert_id, queue, priority, rule, post_key, created_at, payload, inserted_at)
		SELECT concat('a', if(number < 10, '0', ''), toString(number)), 'care', 'P2', 'r', concat('x:p', toString(number)), toDateTime(?) + number,
			concat('{"text":"acme ', toString(number), '"}'), toDateTime(?)
		FROM system.numbers LIMIT 20`, db), t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.alerts (alert_id, queue, priority, rule, post_key, incident, incident_size, retracted, created_at, payload, inserted_at)
		SELECT tupleElement(v, 1), 'care', 'P2', 'r', tupleElement(v, 2), tupleElement(v, 3), tupleElement(v, 4), tupleElement(v, 5), tupleElement(v, 6),
			'{"text":"later"}', toDateTime(?) + 1
		FROM (SELECT arrayJoin([('a05', 'x:p5b', 'i', 2, 0, toDateTime(?) + 1800), ('a07', 'x:p7', '', 0, 1, toDateTime(?) + 2400)]) AS v)`, db), t0, t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.deletions (post_key, deleted_at, inserted_at) SELECT 'x:p9', now(), now()", db)); err != nil {
		t.Fatal(err)
	}
	applied, err := Migrate(ctx, conn, db)
	if err != nil || len(applied) != 1 || applied[0] != 11 {
		t.Fatalf("applied %v, err %v; want 11", applied, err)
	}
	for i := range 5 {
		put(fmt.Sprintf("n%d", i), post.Alert{ID: fmt.Sprintf("n%d", i), Queue: "pr", CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	time.Sleep(1100 * time.Millisecond)
	put("p3b", post.Alert{ID: "a03", CreatedAt: t0.Add(50 * time.Minute), Incident: "j", IncidentSize: 2})
	put("p4", post.Alert{ID: "a04", CreatedAt: t0.Add(4 * time.Second), Retracted: true})
	put("n1", post.Alert{ID: "n1", Queue: "pr", CreatedAt: t0.Add(time.Minute), Retracted: true})
	// The backfill again, as after a kill -9 between it and the record.
	m := migrations[len(migrations)-1]
	for _, q := range (Schema{DB: db}).render(m.stmts[len(m.stmts)-1]) {
		if err := execLong(ctx, conn, q); err != nil {
			t.Fatal(err)
		}
	}
	tab := &AlertTables{Conn: conn, DB: db}
	all := func(table string) []AlertRow {
		t.Helper()
		rows, err := tab.scan(ctx, "SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, "+
			"handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, '', market FROM "+db+"."+table+" FINAL ORDER BY queue, alert_id")
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	want, got := all("alerts"), all("alerts_desk")
	if len(want) != 25 || len(got) != len(want) {
		t.Fatalf("alerts holds %d alerts, alerts_desk %d; want 25 each", len(want), len(got))
	}
	for i := range want {
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
			t.Errorf("alerts_desk:\n%+v\nalerts:\n%+v", got[i], want[i])
		}
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alerts_desk"); n <= 25 {
		t.Logf("alerts_desk: %d rows before merges (the backfill ran twice)", n)
	}
	for _, r := range want {
		a, _, found, err := tab.FindDesk(ctx, r.Queue, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		view, err := tab.query(ctx, "WHERE queue = ? AND alert_id = ?", r.Queue, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(view) != 1 {
			if found || r.ID != "a09" {
				t.Errorf("%s: found %v, the view has %d rows", r.ID, found, len(view))
			}
			continue
		}
		if !found || fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", view[0]) {
			t.Errorf("%s: FindDesk %v %+v\nthe view %+v", r.ID, found, a, view[0])
		}
	}
	latestAsTheView(t, tab, "care", [][2]int{{0, 5}, {0, 50}, {10, 10}})
	latestAsTheView(t, tab, "pr", [][2]int{{0, 50}})
	// The two tables' columns on the server, as the unit test
	// TestAlertsDeskKeepsAlertsColumns holds the migrations to.
	cols := func(table string) string {
		var s string
		q := fmt.Sprintf("SELECT arrayStringConcat(groupArray(concat(name, ' ', type, ' ', default_expression)), ', ') FROM (SELECT name, type, default_expression FROM system.columns WHERE database = '%s' AND table = '%s')", db, table)
		if err := conn.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, d := cols("alerts"), cols("alerts_desk"); a != d {
		t.Errorf("columns differ:\nalerts      %s\nalerts_desk %s", a, d)
	}
}
