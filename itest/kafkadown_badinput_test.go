//go:build integration

package itest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/itest/chaos"
)

// newPrivateKafka starts a broker of the test's own (itest/chaos.Broker),
// killed at cleanup.
func newPrivateKafka(t *testing.T) *chaos.Broker {
	t.Helper()
	libs := filepath.Join(root, ".local/kafka/libs")
	if _, err := os.Stat(libs); err != nil {
		t.Skipf("no Kafka jars in %s (make up installs them): %v", libs, err)
	}
	k, err := chaos.StartBroker(context.Background(), t.TempDir(), libs)
	if k != nil {
		t.Cleanup(k.Kill)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKafkaDownMidRun: the broker dies while posts flow through ingest,
// match, enrich and sink, stays down, and comes back. No process may exit,
// every stage must wait and retry, and once the broker is back every
// matched post must reach ClickHouse exactly once (FINAL), none lost.
func TestKafkaDownMidRun(t *testing.T) {
	k := newPrivateKafka(t)
	prefix, db := fBadNames(t)
	const limit = 30_000
	cfg := writeConfig(t, setup{prefix: prefix, db: db, brokers: k.Addr, rate: 2000, limit: limit})
	want := expect(t, 11, limit)
	conn := openCH(t)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) }) // t.Context() is done by then
	procs := []*proc{start(t, "match", cfg), start(t, "enrich", cfg), start(t, "sink", cfg)}
	ing := start(t, "ingest", cfg)
	eventually(t, time.Minute, "the first posts in ClickHouse", func() bool {
		return count(t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND name = 'posts'") == 1 &&
			count(t, conn, "SELECT count() FROM "+db+".posts") > 0
	})

	k.Kill()
	died := time.Now()
	before := count(t, conn, "SELECT count() FROM "+db+".posts FINAL")
	// Ingest says it retries once its writer has given up its own attempts,
	// which on a loaded machine can take longer than the outage: waited
	// for, not assumed after a sleep. The outage lasts 15s at least.
	retrying := func() bool { return strings.Contains(ing.errs.String(), "produce failed; retrying") }
	for !retrying() && time.Since(died) < time.Minute {
		time.Sleep(250 * time.Millisecond)
	}
	if !retrying() {
		t.Errorf("ingest did not say it was retrying within a minute:\n%s", tail(ing.errs.String(), 2000))
	}
	time.Sleep(time.Until(died.Add(15 * time.Second)))
	for _, p := range append(procs, ing) {
		select {
		case <-p.done:
			t.Fatalf("%s exited while Kafka was down: %v\n%s", p.name, p.exit, tail(p.errs.String(), 2000))
		default:
		}
	}
	t.Logf("%d of %d matched posts in ClickHouse when the broker died", before, want.matched)

	if err := k.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ing.wait(t, 3*time.Minute)
	eventually(t, 3*time.Minute, "every matched post in ClickHouse", func() bool {
		return count(t, conn, "SELECT count() FROM "+db+".posts FINAL") >= uint64(want.matched)
	})
	for _, p := range procs {
		p.stop(t)
	}
	if got := count(t, conn, "SELECT count() FROM "+db+".posts FINAL"); got != uint64(want.matched) {
		t.Errorf("posts FINAL = %d, want %d", got, want.matched)
	}
	if n := len(readTopicAt(t, k.Addr, prefix+".deadletter")); n != 0 {
		t.Errorf("%d dead letters; an outage is not bad input", n)
	}
}
