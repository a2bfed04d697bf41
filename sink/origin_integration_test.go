//go:build integration

package sink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestForeignChangesRefused: a delete or an edit of a stored post from
// another source than the one that delivered it is a dead letter, and the
// post stays as it was; the post's own source may still change it.
func TestForeignChangesRefused(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := New(conn, db)
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	orig := enrichedItem("dupx", "1", at)
	orig.Post.Source = "push:acme"
	if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{orig}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("the post: %v %+v", err, out.Rejected)
	}
	visible := func() uint64 {
		return queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE post_key = 'x:dupx' AND text = 'acme is down dupx'")
	}
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "dupx", Source: "push:rival"}}
	edit := enrichedItem("dupx", "1", at)
	edit.Post.Kind, edit.Post.Text, edit.Post.Source = post.KindEdit, "acme is fine", "push:rival"
	out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{del, edit}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rejected) != 2 || !strings.Contains(out.Rejected[0].Reason, `"push:acme"`) {
		t.Fatalf("another source's delete and edit: dead letters %+v, want both", out.Rejected)
	}
	if n := visible(); n != 1 {
		t.Fatalf("the post after another source's delete and edit: %d rows as stored, want 1", n)
	}
	own := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "dupx", Source: "push:acme"}}
	if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{own}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("its own source's delete: %v %+v", err, out.Rejected)
	}
	if n := visible(); n != 0 {
		t.Errorf("the post after its own source's delete: still visible")
	}
}

// TestJetstreamInstancesAreOneSource: a delete read from another Jetstream
// instance than its stored post (the connector fails over between them,
// and names the instance in the source) hides the post.
func TestJetstreamInstancesAreOneSource(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := New(conn, db)
	orig := enrichedItem("jet", "1", time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC))
	orig.Post.Source = "jetstream:wss://jetstream1.us-east.bsky.network/subscribe"
	if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{orig}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("the post: %v %+v", err, out.Rejected)
	}
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "jet", Source: "jetstream:wss://jetstream2.us-west.bsky.network/subscribe"}}
	if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{del}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("a delete from another Jetstream instance: %v %+v, want it applied", err, out.Rejected)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE post_key = 'x:jet'"); n != 0 {
		t.Errorf("the post is still visible after its delete")
	}
}
