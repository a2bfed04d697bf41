//go:build integration

package sink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// These tests talk to the ClickHouse 18.16 server `make up` starts, each in
// a database of its own.

func openTest(t *testing.T) (driver.Conn, string) {
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
	if len(applied) != SchemaVersion() {
		t.Fatalf("applied %v, want 1 to %d", applied, SchemaVersion())
	}
	again, err := Migrate(ctx, conn, db)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate: applied %v, err %v; want nothing", again, err)
	}
	// The contract's tables and views exist with the contract's columns.
	want := map[string]string{
		"alerts":            "alert_id String, queue String, team String, priority String, rule String, post_key String, watchlists Array(String), region String, incident String, incident_size UInt32, spike UInt8, retracted UInt8, handed_off_from String, unstaffed UInt8, created_at DateTime, due_at DateTime, payload String, inserted_at DateTime",
		"alert_events":      "alert_id String, queue String, event String, actor String, at DateTime, note String, inserted_at DateTime",
		"audit_log":         "at DateTime, actor String, role String, action String, object_type String, object_id String, before String, after String, request_id String, inserted_at DateTime",
		"volume_per_minute": "minute DateTime, platform String, lang String, posts UInt64",
		"mentions_hourly":   "hour DateTime, watchlist String, region String, sentiment_label String, mentions UInt64",
		"terms_daily":       "day Date, watchlist String, term String, mentions UInt64",
		"alerts_latest":     "alert_id String, queue String, team String, priority String, rule String, post_key String, watchlists Array(String), region String, incident String, incident_size UInt32, spike UInt8, retracted UInt8, handed_off_from String, unstaffed UInt8, created_at DateTime, due_at DateTime, payload String, inserted_at DateTime, acknowledged_at DateTime, acknowledged_by String",
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
	applied, err := Migrate(ctx, conn, db)
	if err != nil || len(applied) != 1 || applied[0] != 4 {
		t.Fatalf("applied %v, err %v; want [4]", applied, err)
	}
	if n := queryCount(t, conn, "SELECT sum(mentions) FROM "+db+".mentions_hourly WHERE watchlist = 'acme' AND region = 'EMEA' AND sentiment_label = 'negative' AND hour = toDateTime('2026-11-01 10:00:00', 'UTC')"); n != 3 {
		t.Errorf("mentions_hourly after backfill: %d, want 3", n)
	}
	if n := queryCount(t, conn, "SELECT sum(mentions) FROM "+db+".terms_daily WHERE term = 'outage'"); n != 3 {
		t.Errorf("terms_daily after backfill: %d, want 3", n)
	}
}
