//go:build integration

package insights

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// TestCookbookOnCluster seeds the data set through the Distributed tables
// of the two-shard cluster `earshot` that deploy/local/chcluster.sh starts
// (sink.cluster: the migrations ON CLUSTER, the sink, redeliveries, the
// delete) and checks every cookbook query's result as on one server.
func TestCookbookOnCluster(t *testing.T) {
	base := 9100
	if v := os.Getenv("CHCLUSTER_PORT_BASE"); v != "" {
		var err error
		if base, err = strconv.Atoi(v); err != nil {
			t.Fatalf("CHCLUSTER_PORT_BASE=%q: %v", v, err)
		}
	}
	c := sink.DefaultConfig()
	c.Addr, c.Cluster = []string{fmt.Sprintf("127.0.0.1:%d", base+1)}, "earshot"
	c.Database = fmt.Sprintf("clu_insights_%d", time.Now().UnixNano()%1e9)
	conn, err := sink.Open(c)
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
	seedWith(t, conn, c)
	// The data is on both shards.
	for _, port := range []int{base + 1, base + 2} {
		node := sink.DefaultConfig()
		node.Addr = []string{fmt.Sprintf("127.0.0.1:%d", port)}
		nc, err := sink.Open(node)
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		if err := nc.QueryRow(ctx, "SELECT count() FROM "+c.Database+".posts_local").Scan(&n); err != nil || n == 0 {
			t.Errorf("node on %d holds %d posts (%v); want the data on both shards", port, n, err)
		}
		nc.Close()
	}
	runCookbook(t, conn, c.Database)
}
