//go:build integration

package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/sink"
)

// scratchDB migrates a database of the test's own, prefix_<n>, on the
// shared ClickHouse (127.0.0.1:9000, Debian's 18.16), and drops it and
// closes the connection at cleanup.
func scratchDB(tb testing.TB, prefix string) (driver.Conn, string) {
	tb.Helper()
	db := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano()%1e9)
	c := sink.DefaultConfig()
	c.Addr = []string{"127.0.0.1:9000"}
	conn, err := sink.Open(c)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	if _, err := sink.Migrate(context.Background(), conn, db); err != nil {
		tb.Fatal(err)
	}
	return conn, db
}
