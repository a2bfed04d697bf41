//go:build integration

package api

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/sink"
)

// tracedConn tags every query it sends with its own query id under a
// prefix, and asks ClickHouse to log it (system.query_log), so that a test
// can count a desk action's round trips and read what each one read.
type tracedConn struct {
	driver.Conn
	prefix string
	n      atomic.Int64
}

func (c *tracedConn) tag(ctx context.Context) context.Context {
	id := fmt.Sprintf("%s-%03d", c.prefix, c.n.Add(1))
	return clickhouse.Context(ctx, clickhouse.WithQueryID(id), clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
}

func (c *tracedConn) Query(ctx context.Context, q string, args ...any) (driver.Rows, error) {
	return c.Conn.Query(c.tag(ctx), q, args...)
}

func (c *tracedConn) QueryRow(ctx context.Context, q string, args ...any) driver.Row {
	return c.Conn.QueryRow(c.tag(ctx), q, args...)
}

func (c *tracedConn) PrepareBatch(ctx context.Context, q string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	return c.Conn.PrepareBatch(c.tag(ctx), q, opts...)
}

func (c *tracedConn) Exec(ctx context.Context, q string, args ...any) error {
	return c.Conn.Exec(c.tag(ctx), q, args...)
}

// loggedQuery is a finished query of system.query_log.
type loggedQuery struct {
	id              string
	ms, rows, bytes uint64
	marks           uint64
	query           string
}

// queriesOf reads system.query_log for the finished queries under prefix,
// waiting (up to 10 s) for at least want of them: the server logs a query
// as it finishes, which may be after its client had the answer.
func queriesOf(t testing.TB, conn driver.Conn, prefix string, want int) []loggedQuery {
	t.Helper()
	ctx := context.Background()
	var out []loggedQuery
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
			t.Fatal(err)
		}
		out = loggedQueries(t, conn, prefix)
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
	}
}

func loggedQueries(t testing.TB, conn driver.Conn, prefix string) []loggedQuery {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT query_id, query_duration_ms, read_rows, read_bytes,
			arraySum(arrayFilter((v, n) -> n = 'SelectedMarks', ProfileEvents.Values, ProfileEvents.Names)), query
		FROM system.query_log WHERE type = 2 AND startsWith(query_id, ?) ORDER BY query_id`, prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []loggedQuery
	for rows.Next() {
		var q loggedQuery
		if err := rows.Scan(&q.id, &q.ms, &q.rows, &q.bytes, &q.marks, &q.query); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

// TestDeskRoundTrips: each desk action on one of 100,000 stored alerts, on
// the real ClickHouse, sends the queries it should and no more (one read
// of the alert with its events; the insert; the read after the write of
// an action that changes the state), and each query reads the alert's own
// granules, not the queue: what a desk action costs whatever the load of
// the machine (the server's time per query is logged, from
// system.query_log).
func TestDeskRoundTrips(t *testing.T) {
	ctx := context.Background()
	const n = 100_000
	// One part per table (storedAlerts settles them), as after the
	// server's merges: a lookup by key reads a granule of each part the key
	// may be in.
	conn, db := storedAlerts(t, n)
	run := fmt.Sprintf("deskrt%d", time.Now().UnixNano())
	// Each lookup by key reads one granule (8,192 rows), two when the key
	// falls on a granule's edge: of alerts (twice: the row, and its post_key
	// for the deletions), of events, of deletions. A scan reads the queue.
	const maxRows = 8 * 8192
	for i, step := range []struct {
		name    string
		queries int
		do      func(w *CHAlerts) error
	}{
		{"ack", 2, func(w *CHAlerts) error { _, err := w.Ack(ctx, "care", "b10", "rita", ""); return err }},
		{"get", 1, func(w *CHAlerts) error { _, err := w.Get(ctx, "care", "b11"); return err }},
		{"claim", 3, func(w *CHAlerts) error {
			_, _, err := w.Act(ctx, "care", "b12", DeskEvent{Action: ActClaim, Actor: "rita", At: time.Now().UTC()}, false)
			return err
		}},
		{"note", 2, func(w *CHAlerts) error {
			_, _, err := w.Act(ctx, "care", "b12", DeskEvent{Action: ActNote, Actor: "rita", Text: "x", At: time.Now().UTC()}, false)
			return err
		}},
		{"resolve", 3, func(w *CHAlerts) error {
			_, _, err := w.Act(ctx, "care", "b12", DeskEvent{Action: ActResolve, Actor: "rita", Outcome: "replied", At: time.Now().UTC()}, false)
			return err
		}},
		{"list50", 3, func(w *CHAlerts) error { _, _, err := w.List(ctx, "care", 0, 50); return err }},
	} {
		tc := &tracedConn{Conn: conn, prefix: fmt.Sprintf("%s-%d%s", run, i, step.name)}
		w := &CHAlerts{Table: &sink.AlertTables{Conn: tc, DB: db}}
		if err := step.do(w); err != nil {
			t.Fatal(step.name, err)
		}
		qs := queriesOf(t, conn, tc.prefix, step.queries)
		if len(qs) != step.queries {
			t.Errorf("%s: %d queries, want %d", step.name, len(qs), step.queries)
		}
		for j, q := range qs {
			t.Logf("%-8s %s %4d ms %7d rows %9d bytes %4d marks  %.60s", step.name, q.id[len(run):], q.ms, q.rows, q.bytes, q.marks, strings.Join(strings.Fields(q.query), " "))
			switch {
			case step.name == "list50" && j == 0:
				// The page's cutoff: the queue's rows of alert_times, two
				// light columns (queue, created_at), not the alerts.
				if q.bytes > 24*n {
					t.Errorf("list50: the cutoff read %d bytes, want at most %d (two columns of the queue): %.200s", q.bytes, 24*n, q.query)
				}
			case q.rows > maxRows:
				t.Errorf("%s: a query read %d rows, want at most %d: %.200s", step.name, q.rows, maxRows, q.query)
			}
		}
	}
}
