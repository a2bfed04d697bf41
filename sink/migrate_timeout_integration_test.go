//go:build integration

package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestMigrationOutlastsReadTimeout: a migration statement may run longer
// than the connection's read timeout (60s in Open), and must not fail for
// it. The driver gives an Exec one deadline for the whole statement (the
// read timeout), and an INSERT … SELECT sends nothing back until it ends:
// migration 10's backfill of a database with many alerts failed at 60s
// (roughly 100M alerts at the rates in BENCHMARKS.md, fewer on a busier
// server), left version 10 unrecorded, and every retry of the sink's
// first write ran the whole backfill again beside the one the server was
// still running.
// Here the connection's read timeout is 1s and the backfills of 5M alerts
// (migration 10's and 11's) take a few seconds.
func TestMigrationOutlastsReadTimeout(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := (Schema{DB: db}).migrateTo(ctx, conn, 9); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.alerts (alert_id, queue, priority, rule, post_key, created_at, payload, inserted_at)
		SELECT concat('a', toString(number)), concat('q', toString(number %% 7)), 'P2', 'r', concat('x:', toString(number)), toDateTime(?) + intDiv(number, 100), '{}', now()
		FROM system.numbers LIMIT 5000000`, db), t0); err != nil {
		t.Fatal(err)
	}
	short, err := clickhouse.Open(&clickhouse.Options{Addr: DefaultConfig().Addr, ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	start := time.Now()
	applied, err := Migrate(ctx, short, db)
	if err != nil || len(applied) != 2 || applied[0] != 10 || applied[1] != 11 {
		t.Fatalf("applied %v in %v, err %v; want 10 and 11", applied, time.Since(start), err)
	}
	t.Logf("migrations 10 and 11 over 5M alerts in %v", time.Since(start))
	for _, table := range []string{"alert_times", "alerts_desk"} {
		if n := queryCount(t, conn, "SELECT count() FROM (SELECT DISTINCT alert_id FROM "+db+"."+table+")"); n != 5_000_000 {
			t.Errorf("%s holds %d alerts, want 5000000", table, n)
		}
	}
}
