//go:build integration

package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// A batch of alerts larger than the IN list ClickHouse parses in one query
// (max_query_size, 256 KiB: about 5,600 alert ids of 32 hex digits) must
// be stored: the read of their stored versions failed with a syntax error
// at 262,134 bytes, the runner retried it forever and the queue's sink
// stalled (a distributed chaos soak lost 790,839 alerts this way, with
// sink.batch_size 5000 and 2 workers). sink.batch_size may be 100,000.
func TestAlertStageStoresABatchPastMaxQuerySize(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	const n = 12_000
	items := make([]*post.Item, n)
	for i := range items {
		id := fmt.Sprintf("%032x", i)
		items[i] = &post.Item{
			Post:  &post.Post{Platform: "x", ID: id, Text: "down", CreatedAt: t0},
			Alert: &post.Alert{ID: id, Queue: "legal", Priority: "P2", Rule: "r", CreatedAt: t0},
		}
	}
	st := New(conn, db).AlertStage()
	for round := range 2 { // the second finds every alert stored already
		if out, err := st(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("round %d: %v (%d rejected)", round, err, len(out.Rejected))
		}
	}
	if got := queryCount(t, conn, "SELECT count() FROM "+db+".alerts FINAL"); got != n {
		t.Errorf("%d alerts stored, want %d", got, n)
	}
}
