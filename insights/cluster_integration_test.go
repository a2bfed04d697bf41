//go:build integration

package insights

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/localstack"
	"github.com/earshot-dev/earshot/sink"
)

// TestCookbookOnCluster seeds the data set through the Distributed tables
// of the two-shard cluster `earshot` that deploy/local/chcluster.sh starts
// (sink.cluster: the migrations ON CLUSTER, the sink, redeliveries, the
// delete) and checks every cookbook query's result as on one server.
func TestCookbookOnCluster(t *testing.T) {
	node1, err := localstack.ClusterNode(1)
	if err != nil {
		t.Fatal(err)
	}
	c := sink.DefaultConfig()
	c.Addr, c.Cluster = []string{node1}, localstack.ClusterName
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
	for n := 1; n <= 2; n++ {
		node := sink.DefaultConfig()
		addr, err := localstack.ClusterNode(n)
		if err != nil {
			t.Fatal(err)
		}
		node.Addr = []string{addr}
		nc, err := sink.Open(node)
		if err != nil {
			t.Fatal(err)
		}
		var count uint64
		if err := nc.QueryRow(ctx, "SELECT count() FROM "+c.Database+".posts_local").Scan(&count); err != nil || count == 0 {
			t.Errorf("node %d holds %d posts (%v); want the data on both shards", n, count, err)
		}
		nc.Close()
	}
	runCookbook(t, conn, c.Database)
}
