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
	tab := &AlertTables{Conn: conn, DB: db}
	const id = "b31337"
	if err := tab.AddDeskEvent(ctx, DeskEventRow{AlertID: id, Queue: "care", Event: "desk.claim", Actor: "rita", Assignee: "rita", At: t0, EventID: "c1", Seq: 1}); err != nil {
		t.Fatal(err)
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
