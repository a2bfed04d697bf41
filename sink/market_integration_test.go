//go:build integration

package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestMigrationNineMarkets: a database at version 8 with a post, a match
// and an alert in it takes migration 9; the old rows read as no market
// (no backfill), the views still hide deleted posts, and new posts,
// matches and alerts keep their market, written column by column and row
// by row.
func TestMigrationNineMarkets(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := (Schema{DB: db}).migrateTo(ctx, conn, 8); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	// written as a version-8 sink did: without the market column
	insert := func(table, cols string, rows ...[]any) {
		t.Helper()
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+"."+table+" ("+cols+")")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := b.Append(r...); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	// written as a version-8 sink did: without the market column
	insert("posts", "post_key, platform, id, text, created_at, country, region, inserted_at",
		[]any{"x:old", "x", "old", "before", at, "DE", "EMEA", at}, []any{"x:gone", "x", "gone", "deleted", at, "DE", "EMEA", at})
	insert("matches", "post_key, watchlist, created_at, country, region, inserted_at", []any{"x:old", "acme", at, "DE", "EMEA", at})
	insert("alerts", "alert_id, queue, post_key, region, created_at, inserted_at", []any{"a-old", "care", "x:old", "EMEA", at, at})
	insert("deletions", "post_key, deleted_at, inserted_at", []any{"x:gone", at, at})
	applied, err := Migrate(ctx, conn, db)
	if err != nil || len(applied) == 0 || applied[0] != 9 || applied[len(applied)-1] != SchemaVersion() {
		t.Fatalf("applied %v, err %v; want 9 to %d", applied, err, SchemaVersion())
	}
	for _, table := range []string{"posts_dedup", "matches_dedup"} {
		if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.%s WHERE post_key = 'x:old' AND market = ''", db, table)); n != 1 {
			t.Errorf("%s: %d old rows with no market, want 1", table, n)
		}
	}
	if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.alerts_latest WHERE alert_id = 'a-old' AND market = ''", db)); n != 1 {
		t.Errorf("alerts_latest: %d old alerts with no market, want 1", n)
	}
	if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.posts_dedup WHERE post_key = 'x:gone'", db)); n != 0 {
		t.Errorf("posts_dedup shows a deleted post after migration 9")
	}
	for _, rowWise := range []bool{false, true} {
		s := NewWith(conn, Config{Database: db}, Options{})
		s.rowWise = rowWise
		id := fmt.Sprintf("new-%v", rowWise)
		it := enrichedItem(id, "1", at)
		it.Enrichment.Country, it.Enrichment.Market = "AT", "DACH"
		if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{it}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("row-wise %v: %v %+v", rowWise, err, out.Rejected)
		}
		for _, table := range []string{"posts_dedup", "matches_dedup"} {
			if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.%s WHERE post_key = 'x:%s' AND market = 'DACH'", db, table, id)); n != 1 {
				t.Errorf("row-wise %v: %s: %d rows in DACH, want 1", rowWise, table, n)
			}
		}
		al := enrichedItem(id, "1", at)
		al.Enrichment.Market = "DACH"
		al.Alert = &post.Alert{ID: "a-" + id, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: at}
		if out, err := s.AlertStage()(ctx, post.Batch{Items: []*post.Item{al}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("alert: %v %+v", err, out.Rejected)
		}
		if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.alerts_latest WHERE alert_id = 'a-%s' AND market = 'DACH'", db, id)); n != 1 {
			t.Errorf("row-wise %v: %d alerts in DACH, want 1", rowWise, n)
		}
		// a retraction keeps the stored alert's market
		ret := *al
		ret.Enrichment = &post.Enrichment{Region: "EMEA"}
		ret.Alert = &post.Alert{ID: "a-" + id, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: at, Retracted: true}
		if out, err := s.AlertStage()(ctx, post.Batch{Items: []*post.Item{&ret}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("retraction: %v %+v", err, out.Rejected)
		}
		if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.alerts_latest WHERE alert_id = 'a-%s' AND market = 'DACH' AND retracted = 1", db, id)); n != 1 {
			t.Errorf("row-wise %v: the retracted alert lost its market", rowWise)
		}
	}
}
