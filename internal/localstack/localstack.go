// Package localstack names the services that deploy/local starts, for the
// integration tests: one place reads the ports the scripts were given.
package localstack

import (
	"fmt"
	"os"
	"strconv"
)

// ClusterName is the cluster deploy/local/chcluster.sh defines in the
// servers' remote_servers: shard 1 is nodes 1 and 3, shard 2 is node 2.
const ClusterName = "earshot"

// ClusterNode is the native-protocol address of node n of the local
// cluster, 127.0.0.1:CHCLUSTER_PORT_BASE+n (9101 to 9103 by default).
func ClusterNode(n int) (string, error) {
	base := 9100
	if v := os.Getenv("CHCLUSTER_PORT_BASE"); v != "" {
		var err error
		if base, err = strconv.Atoi(v); err != nil {
			return "", fmt.Errorf("CHCLUSTER_PORT_BASE=%q: %w", v, err)
		}
	}
	return fmt.Sprintf("127.0.0.1:%d", base+n), nil
}
