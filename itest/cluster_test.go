//go:build integration

package itest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// The cluster tests run against the two-shard ClickHouse cluster `earshot`
// that deploy/local/chcluster.sh starts (`make up` runs it): node N answers
// on 127.0.0.1:CHCLUSTER_PORT_BASE+N (9101, 9102).
const clusterName = "earshot"

func clusterAddr(t *testing.T, node int) string {
	t.Helper()
	base := 9100
	if v := os.Getenv("CHCLUSTER_PORT_BASE"); v != "" {
		var err error
		if base, err = strconv.Atoi(v); err != nil {
			t.Fatalf("CHCLUSTER_PORT_BASE=%q: %v", v, err)
		}
	}
	return fmt.Sprintf("127.0.0.1:%d", base+node)
}

// openNode connects to one node of the cluster as the sink would with
// sink.cluster set.
func openNode(t *testing.T, node int) driver.Conn {
	t.Helper()
	c := sink.DefaultConfig()
	c.Addr, c.Cluster = []string{clusterAddr(t, node)}, clusterName
	conn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(context.Background()); err != nil {
		t.Fatalf("cluster node %d (%s): %v; start the cluster with deploy/local/chcluster.sh start", node, c.Addr[0], err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// migrateCluster runs `earshot migrate` with sink.cluster set and returns
// what it printed.
func migrateCluster(t *testing.T, db string) string {
	t.Helper()
	path := writeConfig(t, setup{db: db, clickhouse: clusterAddr(t, 1), rate: 1, limit: 1})
	cfg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	withCluster := strings.Replace(string(cfg), "sink:\n  enabled: true\n", "sink:\n  enabled: true\n  cluster: "+clusterName+"\n", 1)
	if withCluster == string(cfg) {
		t.Fatal("could not add sink.cluster to the config")
	}
	if err := os.WriteFile(path, []byte(withCluster), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "migrate", "--config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("earshot migrate on the cluster: %v\n%s", err, out)
	}
	return string(out)
}

func clusterItem(i int, at time.Time) *post.Item {
	it := &post.Item{
		Post:       &post.Post{Platform: "x", ID: strconv.Itoa(i), Author: post.Author{ID: "a" + strconv.Itoa(i%7), Handle: "h"}, Text: "acme is down", CreatedAt: at, Lang: "en", IngestedAt: at},
		Matches:    []post.Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme", "down"}}},
		Enrichment: &post.Enrichment{Lang: "en", Region: "EMEA", SentimentLabel: "negative"},
	}
	if i%2 == 0 {
		it.Matches = append(it.Matches, post.Match{Watchlist: "globex", Version: 1, Keywords: []string{"globex"}})
	}
	return it
}

// TestClusterMode runs sink.cluster on a real cluster: the migrations ON
// CLUSTER (twice), the sink writing through the Distributed tables with a
// redelivered batch and a delete, and the views read from the other node.
func TestClusterMode(t *testing.T) {
	n1, n2 := openNode(t, 1), openNode(t, 2)
	_, name := names(t)
	db := "clu_" + strings.TrimPrefix(name, "it_")
	ctx := context.Background()
	t.Cleanup(func() {
		if !t.Failed() {
			n1.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+clusterName)
		}
	})

	want := fmt.Sprintf("schema version %d", sink.SchemaVersion())
	if out := migrateCluster(t, db); !strings.Contains(out, "applied migrations [1 2 3 4 5]") || !strings.Contains(out, want) {
		t.Fatalf("first migrate: %q", out)
	}
	if out := migrateCluster(t, db); !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %q, want up to date", out)
	}
	for node, conn := range map[int]driver.Conn{1: n1, 2: n2} {
		if n := count(t, conn, "SELECT count() FROM "+db+".schema_migrations"); n != uint64(sink.SchemaVersion()) {
			t.Errorf("node %d: %d migrations recorded, want %d", node, n, sink.SchemaVersion())
		}
		if n := count(t, conn, "SELECT toUInt64(max(version)) FROM "+db+".schema_migrations"); n != uint64(sink.SchemaVersion()) {
			t.Errorf("node %d: schema version %d, want %d", node, n, sink.SchemaVersion())
		}
		// Every node has the local tables, replicated, and the Distributed ones.
		if n := count(t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND name = 'posts_local' AND engine = 'ReplicatedReplacingMergeTree'"); n != 1 {
			t.Errorf("node %d: no ReplicatedReplacingMergeTree posts_local", node)
		}
		if n := count(t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND name = 'posts' AND engine = 'Distributed'"); n != 1 {
			t.Errorf("node %d: no Distributed posts", node)
		}
		// Migration 2's columns reached the Distributed table too.
		if n := count(t, conn, "SELECT count() FROM system.columns WHERE database = '"+db+"' AND table = 'posts' AND name = 'intents'"); n != 1 {
			t.Errorf("node %d: posts has no column intents", node)
		}
	}

	// The sink, connected to node 1, writes 200 matched posts twice (a
	// redelivered batch), then deletes x:7.
	s := sink.NewWith(n1, sink.Config{Database: db, Cluster: clusterName}, sink.Options{})
	const n = 200
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var items []*post.Item
	for i := range n {
		items = append(items, clusterItem(i, at.Add(time.Duration(i)*time.Minute)))
	}
	for range 2 {
		if out, err := s.Stage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("sink stage: %v %+v", err, out.Rejected)
		}
	}
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "7", IngestedAt: at.Add(5 * time.Hour)}}
	if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{del}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("sink stage, delete: %v %+v", err, out.Rejected)
	}
	for range 2 {
		if out, err := s.VolumeStage()(ctx, post.Batch{Items: post.CountVolume(items)}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("volume stage: %v %+v", err, out.Rejected)
		}
	}

	// Read through node 2: the Distributed tables and views see both shards.
	checks := []struct {
		what, query string
		want        uint64
	}{
		{"posts_dedup", "SELECT count() FROM " + db + ".posts_dedup", n - 1},
		{"posts_dedup keys", "SELECT uniqExact(post_key) FROM " + db + ".posts_dedup", n - 1},
		{"matches_dedup", "SELECT count() FROM " + db + ".matches_dedup", n + n/2 - 1},
		{"posts FINAL, deleted included", "SELECT count() FROM " + db + ".posts FINAL", n},
		{"deleted post in posts_dedup", "SELECT count() FROM " + db + ".posts_dedup WHERE post_key = 'x:7'", 0},
		{"deleted post in matches_dedup", "SELECT count() FROM " + db + ".matches_dedup WHERE post_key = 'x:7'", 0},
		{"mentions_hourly acme", "SELECT sum(mentions) FROM " + db + ".mentions_hourly WHERE watchlist = 'acme'", n - 1},
		{"mentions_hourly globex", "SELECT sum(mentions) FROM " + db + ".mentions_hourly WHERE watchlist = 'globex'", n / 2},
		{"mentions_hourly cells", "SELECT count() FROM " + db + ".mentions_hourly", 8}, // 10:00 to 13:19, two watchlists
		{"terms_daily down", "SELECT sum(mentions) FROM " + db + ".terms_daily WHERE term = 'down'", n - 1},
		{"volume_per_minute", "SELECT sum(posts) FROM " + db + ".volume_per_minute", n},
		{"volume_per_minute minutes", "SELECT count() FROM " + db + ".volume_per_minute", n},
	}
	for _, c := range checks {
		if got := count(t, n2, c.query); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}

	// Each post lives on one shard, with its matches, and both shards
	// have some.
	var onShards uint64
	for node, conn := range map[int]driver.Conn{1: n1, 2: n2} {
		local := count(t, conn, "SELECT count() FROM "+db+".posts_local FINAL")
		if local == 0 || local == n {
			t.Errorf("node %d holds %d of the %d posts; want them spread over both shards", node, local, n)
		}
		onShards += local
		if away := count(t, conn, "SELECT count() FROM "+db+".matches_local WHERE post_key NOT IN (SELECT post_key FROM "+db+".posts_local)"); away != 0 {
			t.Errorf("node %d: %d matches whose post is on the other shard", node, away)
		}
		if m := count(t, conn, "SELECT count() FROM "+db+".volume_per_minute_agg_local"); m == 0 {
			t.Errorf("node %d: no volume cells; want volume spread over both shards", node)
		}
	}
	if onShards != n {
		t.Errorf("the shards hold %d posts together, want %d (each on one shard)", onShards, n)
	}

	// Alerts: raised, redelivered and routed again; the stored one keeps
	// its created_at, read back from its shard.
	a1 := clusterItem(1, at)
	a1.Alert = &post.Alert{ID: "a1", Queue: "care", Priority: "P2", Rule: "complaints", CreatedAt: at, DueAt: at.Add(time.Hour)}
	a2 := clusterItem(2, at)
	a2.Alert = &post.Alert{ID: "a2", Queue: "care", Priority: "P3", Rule: "complaints", CreatedAt: at}
	a1again := clusterItem(1, at)
	a1again.Alert = &post.Alert{ID: "a1", Queue: "care", Priority: "P1", Rule: "complaints", CreatedAt: at.Add(time.Minute), DueAt: at.Add(time.Hour + time.Minute)}
	for _, b := range [][]*post.Item{{a1, a2}, {a1, a2}, {a1again}} {
		if out, err := s.AlertStage()(ctx, post.Batch{Items: b}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("alert stage: %v %+v", err, out.Rejected)
		}
	}
	if got := count(t, n2, "SELECT count() FROM "+db+".alerts_latest"); got != 2 {
		t.Errorf("alerts_latest: %d alerts, want 2", got)
	}
	if got := count(t, n2, "SELECT count() FROM "+db+".alert_events FINAL WHERE event = 'created'"); got != 2 {
		t.Errorf("alert_events: %d created events, want 2", got)
	}
	var priority string
	var created time.Time
	if err := n2.QueryRow(ctx, "SELECT priority, created_at FROM "+db+".alerts_latest WHERE alert_id = 'a1'").Scan(&priority, &created); err != nil {
		t.Fatal(err)
	}
	if priority != "P1" || !created.Equal(at) {
		t.Errorf("a1: priority %s, created %v; want P1 (the latest) created %v (the first)", priority, created, at)
	}
}
