//go:build integration

package itest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// runDistributed runs every stage as its own process over Kafka and
// ClickHouse, optionally killing one stage mid-run, and checks that
// ClickHouse and the alert topics end with exactly the expected records.
// With, when set, are the stages that run in the ingest process
// (earshot ingest --with match,enrich) instead of their own.
func runDistributed(t *testing.T, posts int, victim string, with ...string) (prefix string) {
	prefix, db := names(t)
	cfg := writeConfig(t, setup{prefix: prefix, db: db, rate: 20000, limit: posts})
	want := expect(t, 11, posts)
	t.Logf("expecting %d matched posts, %d match rows, %d alerts from %d posts", want.matched, want.matches, len(want.alertIDs), posts)
	if want.matched == 0 || len(want.alertIDs) == 0 {
		t.Fatal("the expectation is empty; the test would prove nothing")
	}

	var ingestArgs []string
	if len(with) > 0 {
		ingestArgs = []string{"--with", strings.Join(with, ",")}
	}
	consumers := slices.DeleteFunc([]string{"match", "enrich", "route", "sink"}, func(s string) bool { return slices.Contains(with, s) })
	procs := map[string]*proc{}
	for _, s := range consumers {
		procs[s] = start(t, s, cfg)
	}
	procs["ingest"] = start(t, "ingest", cfg, ingestArgs...)

	conn := openCH(t)
	finalCount := func() uint64 { return count(t, conn, "SELECT count() FROM "+db+".posts FINAL") }
	if victim != "" {
		// Kill the stage once it is well into the run, then bring it back.
		eventually(t, 2*time.Minute, "the pipeline to be under way", func() bool { return finalCount() > uint64(want.matched/5) })
		procs[victim].kill()
		t.Logf("killed %s at %d posts in ClickHouse", victim, finalCount())
		time.Sleep(time.Second)
		if victim == "ingest" {
			procs[victim] = start(t, victim, cfg, ingestArgs...) // the synthetic source starts over
		} else {
			procs[victim] = start(t, victim, cfg)
		}
	}
	began := time.Now()
	procs["ingest"].wait(t, 3*time.Minute)
	t.Logf("ingest done after %v", time.Since(began))
	eventually(t, 3*time.Minute, fmt.Sprintf("%d posts in ClickHouse", want.matched), func() bool { return finalCount() >= uint64(want.matched) })
	t.Logf("ClickHouse complete after %v", time.Since(began))
	wantAlerts := len(want.alertIDs)
	var ids map[string]int
	var total int
	eventually(t, 2*time.Minute, fmt.Sprintf("%d alerts", wantAlerts), func() bool {
		ids, total = alertIDs(t, prefix)
		return len(ids) >= wantAlerts
	})
	t.Logf("alerts complete after %v", time.Since(began))
	// Let anything still in flight land before the final counts.
	time.Sleep(3 * time.Second)
	for _, s := range consumers {
		procs[s].stop(t)
	}

	t.Logf("stopped after %v", time.Since(began))
	if got := finalCount(); got != uint64(want.matched) {
		t.Errorf("ClickHouse posts FINAL = %d, want %d", got, want.matched)
	}
	if got := count(t, conn, "SELECT count() FROM "+db+".posts_dedup"); got != uint64(want.matched) {
		t.Errorf("posts_dedup count = %d, want %d", got, want.matched)
	}
	if got := count(t, conn, "SELECT uniqExact(post_key) FROM "+db+".posts"); got != uint64(want.matched) {
		t.Errorf("distinct posts = %d, want %d", got, want.matched)
	}
	if got := count(t, conn, "SELECT count() FROM "+db+".matches_dedup"); got != uint64(want.matches) {
		t.Errorf("matches_dedup count = %d, want %d", got, want.matches)
	}
	ids, total = alertIDs(t, prefix)
	for id := range want.alertIDs {
		if ids[id] == 0 {
			t.Errorf("alert %s missing", id)
			break
		}
	}
	if len(ids) != wantAlerts {
		t.Errorf("distinct alerts = %d, want %d", len(ids), wantAlerts)
	}
	raw := count(t, conn, "SELECT count() FROM "+db+".posts")
	t.Logf("alert records %d (distinct %d), ClickHouse rows before dedup %d", total, len(ids), raw)
	if victim == "" && total != wantAlerts {
		// Without a crash nothing is redelivered, so not even the raw topic repeats.
		t.Errorf("alert records = %d, want exactly %d", total, wantAlerts)
	}
	if dl := readTopic(t, prefix+".deadletter"); len(dl) != 0 {
		t.Errorf("%d dead letters from clean synthetic input, first: %s", len(dl), dl[0])
	}
	return prefix
}

func TestDistributedExact(t *testing.T) { runDistributed(t, 100_000, "") }

// TestDistributedFusedExact runs match and enrich in the ingest process:
// the same exact counts, nothing on the posts and matched topics.
func TestDistributedFusedExact(t *testing.T) {
	prefix := runDistributed(t, 100_000, "", "match", "enrich")
	for _, topic := range []string{prefix + ".posts", prefix + ".matched"} {
		if n := len(readTopic(t, topic)); n != 0 {
			t.Errorf("%d records on %s, which the chain keeps in memory", n, topic)
		}
	}
}

// TestDistributedFusedKill kills the ingest process that runs match (and
// enrich) mid-run: what it held in memory is produced again by the
// restarted process, and ClickHouse and the alerts end exact.
func TestDistributedFusedKill(t *testing.T) {
	for _, with := range [][]string{{"match"}, {"match", "enrich"}} {
		t.Run(strings.Join(with, "_"), func(t *testing.T) { runDistributed(t, 100_000, "ingest", with...) })
	}
}

func TestDistributedKillAndRestart(t *testing.T) {
	for _, victim := range []string{"match", "sink"} {
		t.Run(victim, func(t *testing.T) { runDistributed(t, 100_000, victim) })
	}
}

func TestKafkaUnreachableAtStart(t *testing.T) {
	prefix, db := names(t)
	px := newProxy(t, kafkaAddr)
	cfg := writeConfig(t, setup{prefix: prefix, db: db, brokers: px.addr, rate: 1000, limit: 10})
	p := start(t, "match", cfg)
	eventually(t, 30*time.Second, "a retry message", func() bool {
		return strings.Contains(p.errs.String(), "kafka unreachable; retrying")
	})
	time.Sleep(2 * time.Second)
	select {
	case <-p.done:
		t.Fatalf("match exited while Kafka was unreachable: %v\n%s", p.exit, p.errs.String())
	default:
	}
	px.up(t)
	eventually(t, 60*time.Second, "kafka reachable", func() bool { return strings.Contains(p.errs.String(), "kafka reachable") })
	p.stop(t)
}

func TestClickHouseDownDuringRun(t *testing.T) {
	prefix, db := names(t)
	px := newProxy(t, clickhouseAddr)
	px.up(t)
	cfg := writeConfig(t, setup{prefix: prefix, db: db, clickhouse: px.addr, rate: 5000, limit: 20_000})
	want := expect(t, 11, 20_000)
	procs := []*proc{start(t, "match", cfg), start(t, "enrich", cfg)}
	sk := start(t, "sink", cfg)
	conn := openCH(t)
	px.down() // ClickHouse goes away before the first write
	ing := start(t, "ingest", cfg)
	ing.wait(t, 2*time.Minute)
	eventually(t, time.Minute, "the sink to retry", func() bool { return strings.Contains(sk.errs.String(), "stage failed; retrying") })
	if n := count(t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND name = 'posts'"); n != 0 {
		if got := count(t, conn, "SELECT count() FROM "+db+".posts"); got != 0 {
			t.Fatalf("%d posts reached ClickHouse through a proxy that was down", got)
		}
	}
	select {
	case <-sk.done:
		t.Fatalf("sink exited while ClickHouse was down: %v", sk.exit)
	default:
	}
	px.up(t)
	eventually(t, 2*time.Minute, "posts to arrive once ClickHouse is back", func() bool {
		return count(t, conn, "SELECT count() FROM "+db+".posts FINAL") >= uint64(want.matched)
	})
	for _, p := range append(procs, sk) {
		p.stop(t)
	}
	if got := count(t, conn, "SELECT count() FROM "+db+".posts FINAL"); got != uint64(want.matched) {
		t.Errorf("posts FINAL = %d, want %d", got, want.matched)
	}
}
