//go:build integration

package sink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// The sink's reads by key (the sources of changed posts, the matches of
// deleted posts, the stored versions of alerts) put the batch's keys in the
// query text, which ClickHouse bounds (max_query_size, 256 KiB by
// default). A batch whose keys pass it must still be written: a refused
// query is an error, and the runner retries the batch for ever, so one
// burst stalled the sink's partition.
func TestBigBatchesOfKeysAreWritten(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := New(conn, db)
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)

	// 600 deletes of ids of 500 bytes (ingest takes ids up to 512): one
	// push tenant's request, 300 KB of keys. One of them deletes a stored
	// post, which must be hidden (its matches subtracted).
	stored := enrichedItem("kept-then-deleted", "1", at)
	if _, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{stored}}); err != nil {
		t.Fatal(err)
	}
	var dels []*post.Item
	for i := range 600 {
		id := fmt.Sprintf("%03d%s", i, strings.Repeat("d", 497))
		dels = append(dels, &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: id}})
	}
	dels = append(dels, &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "kept-then-deleted"}})
	out, err := s.Stage()(ctx, post.Batch{Items: dels})
	if err != nil {
		t.Fatalf("a batch of 601 deletes with long ids: %v", err)
	}
	if len(out.Rejected) > 0 {
		t.Fatalf("deletes rejected: %+v", out.Rejected[0])
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".deletions"); n != 601 {
		t.Errorf("deletions stored: %d, want 601", n)
	}
	if n := queryCount(t, conn, "SELECT uniqMerge(deleted) FROM "+db+".mentions_hourly_deleted_agg"); n != 1 {
		t.Errorf("the deleted post's matches subtracted from the roll-up: %d posts, want 1", n)
	}

	// 10,000 alerts of one queue (the default sink.batch_size, what a
	// backlog after an outage fills): 50 bytes of key each.
	var alerts []*post.Item
	for i := range 10_000 {
		it := enrichedItem(fmt.Sprint("a", i), "1", at)
		it.Alert = &post.Alert{ID: fmt.Sprintf("%032x", i), Queue: "care-emea-complaints", Priority: "P2", Rule: "complaints", CreatedAt: at, Team: "care-emea"}
		alerts = append(alerts, it)
	}
	out, err = s.AlertStage()(ctx, post.Batch{Items: alerts})
	if err != nil {
		t.Fatalf("a batch of 10,000 alerts: %v", err)
	}
	if len(out.Rejected) > 0 {
		t.Fatalf("alerts rejected: %+v", out.Rejected[0])
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alerts FINAL"); n != 10_000 {
		t.Errorf("alerts stored: %d, want 10000", n)
	}
	// Written again (a redelivery), every one is found stored already.
	if _, err := s.AlertStage()(ctx, post.Batch{Items: alerts}); err != nil {
		t.Fatalf("the same 10,000 alerts again: %v", err)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".alert_events FINAL WHERE event = 'created'"); n != 10_000 {
		t.Errorf("created events: %d, want 10000 (one each, the redelivery found them stored)", n)
	}
}
