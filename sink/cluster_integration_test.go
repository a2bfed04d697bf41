//go:build integration

package sink

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/localstack"
	"github.com/earshot-dev/earshot/post"
)

// A cluster database at schema version 1 holding posts is upgraded: the
// local tables are altered, the Distributed tables made again, and the rows
// stored before read through them with the new columns. Runs on the
// cluster `earshot` of deploy/local/chcluster.sh (two shards, the first
// with two replicas).
func TestClusterUpgradeKeepsRows(t *testing.T) {
	node1, err := localstack.ClusterNode(1)
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Addr, c.Cluster = []string{node1}, localstack.ClusterName
	c.Database = fmt.Sprintf("clu_upgrade_%d", time.Now().UnixNano()%1e9)
	conn, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("cluster node 1 (%s): %v; start the cluster with deploy/local/chcluster.sh start", c.Addr[0], err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(ctx, "DROP DATABASE IF EXISTS "+c.Database+" ON CLUSTER earshot")
		}
		conn.Close()
	})
	db := c.Database
	if _, err := c.Schema().migrateTo(ctx, conn, 1); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".posts (post_key, platform, id, created_at, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	const n = 50
	for i := range n {
		if err := b.Append(fmt.Sprintf("x:%d", i), "x", strconv.Itoa(i), at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	applied, err := c.Schema().Migrate(ctx, conn, nil)
	if err != nil || len(applied) != len(migrations)-1 || applied[len(applied)-1] != SchemaVersion() {
		t.Fatalf("upgrade: applied %v, %v; want every migration after 1, up to %d", applied, err, SchemaVersion())
	}
	// The rows written at version 1, through the new Distributed table, with
	// version 2's columns at their defaults.
	if got := queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE length(intents) = 0 AND source = ''"); got != n {
		t.Errorf("posts_dedup after the upgrade: %d rows, want %d", got, n)
	}
	// Nodes 1 and 2 are the two shards, node 3 a replica of node 1 (whose
	// rows it may still be fetching).
	for i := 1; i <= 3; i++ {
		node := DefaultConfig()
		addr, err := localstack.ClusterNode(i)
		if err != nil {
			t.Fatal(err)
		}
		node.Addr = []string{addr}
		nc, err := Open(node)
		if err != nil {
			t.Fatal(err)
		}
		if got := queryCount(t, nc, "SELECT count() FROM "+db+".posts_local"); i != 3 && (got == 0 || got == n) {
			t.Errorf("node %d holds %d of %d posts; want them on both shards", i, got, n)
		}
		if got := queryCount(t, nc, "SELECT count() FROM system.columns WHERE database = '"+db+"' AND table = 'posts' AND name = 'source'"); got != 1 {
			t.Errorf("node %d: the Distributed posts has no column source", i)
		}
		nc.Close()
	}
	// The desk's events (migration 8) through the Distributed alert_events:
	// two notes of one second are two rows, read back in order with FINAL.
	tab := &AlertTables{Conn: conn, DB: db, Cluster: true}
	alert := post.Batch{Items: []*post.Item{{Post: &post.Post{Platform: "x", ID: "al", Text: "down", CreatedAt: at},
		Alert: &post.Alert{ID: "al-1", Queue: "care", Priority: "P2", Rule: "r", CreatedAt: at}}}}
	if out, err := New(conn, db).AlertStage()(ctx, alert); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing an alert on the cluster: %v", err)
	}
	if r, ok, err := tab.Find(ctx, "care", "al-1"); err != nil || !ok || r.Priority != "P2" {
		t.Fatalf("Find on the cluster: %+v %v %v", r, ok, err)
	}
	for i, text := range []string{"first", "second"} {
		r := DeskEventRow{AlertID: "al-1", Queue: "care", Event: "desk.note", Actor: "rita", At: at, Note: text, EventID: fmt.Sprintf("n%d", i), Seq: uint64(i)}
		if err := tab.AddDeskEvent(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := tab.DeskEvents(ctx, "care", []string{"al-1"})
	if err != nil || len(ev["al-1"]) != 2 || ev["al-1"][0].Note != "first" || ev["al-1"][1].Event != "desk.note" {
		t.Fatalf("desk events on the cluster: %+v %v", ev, err)
	}
	// The desk's counts (GLOBAL subqueries): notes leave the alert new.
	if err := tab.AddDeskEvent(ctx, DeskEventRow{AlertID: "al-1", Queue: "care", Event: "desk.claim", Actor: "rita", Assignee: "rita", At: at, EventID: "c1", Seq: 5}); err != nil {
		t.Fatal(err)
	}
	dc, err := tab.DeskCounts(ctx, DeskQuery{Since: at.Add(-time.Hour), Now: at.Add(time.Hour), MaxBreached: 10,
		ResolveTargets: map[string]map[string]time.Duration{"care": {"P1": time.Minute, "P2": time.Minute}}})
	if err != nil || dc.Open["care"]["claimed"] != 1 || len(dc.Open["care"]) != 1 || len(dc.Breached) != 0 || len(dc.Resolving) != 1 {
		t.Fatalf("desk counts on the cluster: %+v %v", dc, err)
	}
	// The live feed's read of the events (through the Distributed table).
	if refs, err := tab.DeskEventsSince(ctx, []string{"care", "legal"}, at.Add(-time.Minute), 10); err != nil || len(refs) != 3 || refs[0].EventID != "c1" { // one second: by event id
		t.Fatalf("desk events since, on the cluster: %+v %v", refs, err)
	}
}
