//go:build integration

package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/watchlist"
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

// scopedServer serves an API over deps with a fresh state dir: its tokens,
// audit log and a watchlist store seeded with specs are the helper's (deps'
// own are replaced); it creates the named tokens and returns their secrets.
func scopedServer(tb testing.TB, specs []watchlist.Spec, deps Deps, named map[string]NewToken) (*httptest.Server, map[string]string) {
	tb.Helper()
	dir := tb.TempDir()
	cfg := DefaultConfig()
	cfg.Addr, cfg.StateDir = "127.0.0.1:0", dir
	tokens, _ := OpenTokens(cfg.Tokens(), nil)
	audit, err := OpenAudit(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { audit.Close() })
	store, err := watchlist.Open(filepath.Join(dir, "watchlists"), watchlist.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	for _, s := range specs {
		if _, err := store.Apply(context.Background(), "seed", s, 0); err != nil {
			tb.Fatal(err)
		}
	}
	deps.Tokens, deps.Audit, deps.Watchlists = tokens, audit, store
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	srv, err := New(cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	tok := map[string]string{}
	for name, nt := range named {
		_, s, err := tokens.Create(nt)
		if err != nil {
			tb.Fatal(err)
		}
		tok[name] = s
	}
	return ts, tok
}
