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

// A batch of deletes (and edits) larger than one query's IN list takes:
// the read of the changed posts' sources and of the deleted posts' matches
// failed with a syntax error past max_query_size and the runner retried
// it forever.
func TestStageStoresDeletesPastMaxQuerySize(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := New(conn, db)
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	const n = 12_000
	var posts, deletes []*post.Item
	for i := range n {
		id := fmt.Sprintf("%032x", i)
		posts = append(posts, enrichedItem(id, "1", at))
		deletes = append(deletes, &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: id}})
	}
	if out, err := s.Stage()(ctx, post.Batch{Items: posts}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("the posts: %v (%d rejected)", err, len(out.Rejected))
	}
	if out, err := s.Stage()(ctx, post.Batch{Items: deletes}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("their deletes: %v (%d rejected)", err, len(out.Rejected))
	}
	if got := queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup"); got != 0 {
		t.Errorf("%d of the %d deleted posts still visible", got, n)
	}
}
