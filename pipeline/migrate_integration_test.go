//go:build integration

package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// TestMigrateTimeout: earshot migrate has no limit in all of its own (it
// gave up after 2 minutes, where one backfill statement may run an hour);
// --timeout sets one, and running out of it says so and how to go on.
func TestMigrateTimeout(t *testing.T) {
	cfg := Default()
	cfg.Sink = sink.DefaultConfig()
	cfg.Sink.Enabled = true
	cfg.Sink.Database = fmt.Sprintf("migrate_itest_%d", time.Now().UnixNano()%1e9)
	conn, err := sink.Open(cfg.Sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Sink.Database)
		conn.Close()
	})
	log := slog.New(slog.DiscardHandler)
	var out bytes.Buffer
	err = Migrate(context.Background(), cfg, &out, log, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stopped after --timeout 1ms") {
		t.Errorf("--timeout 1ms: %v, want it to say it stopped after --timeout 1ms", err)
	}
	out.Reset()
	if err := Migrate(context.Background(), cfg, &out, log, 0); err != nil || !strings.Contains(out.String(), fmt.Sprintf("schema version %d", sink.SchemaVersion())) {
		t.Errorf("no timeout: %v, %q", err, out.String())
	}
	// The context is the only limit with 0: a cancelled one stops it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Migrate(ctx, cfg, &out, log, 0); err == nil {
		t.Error("a cancelled context migrated")
	}
}
