//go:build integration

package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestMigrationSixEmotionAndIrony: a database at version 5 with posts in it
// takes migration 6; the old rows read as no emotion, not ironic; new posts
// keep their emotion and irony, written column by column and row by row.
func TestMigrationSixEmotionAndIrony(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := (Schema{DB: db}).migrateTo(ctx, conn, 5); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".posts (post_key, platform, id, text, created_at, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append("x:old", "x", "old", "before the upgrade", at, at); err != nil {
		t.Fatal(err)
	}
	if err := b.Append("x:gone", "x", "gone", "deleted before the upgrade", at, at); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	del, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".deletions (post_key, deleted_at, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	del.Append("x:gone", at, at)
	if err := del.Send(); err != nil {
		t.Fatal(err)
	}
	applied, err := Migrate(ctx, conn, db)
	// 6 and every later migration: the sink below writes the newest columns.
	if err != nil || len(applied) == 0 || applied[0] != 6 || applied[len(applied)-1] != SchemaVersion() {
		t.Fatalf("applied %v, err %v; want 6 to %d", applied, err, SchemaVersion())
	}
	for _, rowWise := range []bool{false, true} {
		s := NewWith(conn, Config{Database: db}, Options{})
		s.rowWise = rowWise
		id := fmt.Sprintf("new-%v", rowWise)
		it := enrichedItem(id, "1", at)
		it.Enrichment.Emotion, it.Enrichment.EmotionConfidence = "anger", 0.8
		it.Enrichment.Irony, it.Enrichment.IronyConfidence = true, 0.7
		if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{it}}); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("row-wise %v: %v %+v", rowWise, err, out.Rejected)
		}
		var emo string
		var irony uint8
		var conf float32
		q := fmt.Sprintf("SELECT emotion, irony, emotion_confidence FROM %s.posts_dedup WHERE post_key = 'x:%s'", db, id)
		if err := conn.QueryRow(ctx, q).Scan(&emo, &irony, &conf); err != nil {
			t.Fatal(err)
		}
		if emo != "anger" || irony != 1 || conf < 0.79 || conf > 0.81 {
			t.Errorf("row-wise %v: post has emotion %q irony %d confidence %v", rowWise, emo, irony, conf)
		}
		if n := queryCount(t, conn, fmt.Sprintf("SELECT count() FROM %s.matches_dedup WHERE post_key = 'x:%s' AND emotion = 'anger' AND irony = 1", db, id)); n != 1 {
			t.Errorf("row-wise %v: %d matches with the emotion, want 1", rowWise, n)
		}
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE post_key = 'x:old' AND emotion = '' AND irony = 0"); n != 1 {
		t.Errorf("the old post: %d rows without emotion, want 1", n)
	}
	// the recreated views still hide deleted posts (version 3's rule)
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE post_key = 'x:gone'"); n != 0 {
		t.Errorf("posts_dedup shows a deleted post after migration 6")
	}
}
