//go:build integration

package sink

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/ingest/canon"
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

// pushedAs returns the post the push endpoint passes on for line, sent
// by tenant (through the API, which names the tenant).
func pushedAs(t *testing.T, tenant, line string) *post.Post {
	t.Helper()
	cfg := ingest.DefaultPushConfig()
	cfg.Addr = ""
	p, err := ingest.NewPush(cfg, canon.NewNormalizer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		p.ServeTenant(w, httptest.NewRequest("POST", "/v1/posts", strings.NewReader(line+"\n")), tenant)
	}()
	b, err := p.Next(context.Background(), 10)
	p.Checkpoint(p.Position(), false) // handed on: the request is answered
	<-answered
	if w.Code != 202 || err != nil || len(b.Items) != 1 {
		t.Fatalf("push as %s: %d %s %v %+v", tenant, w.Code, w.Body.String(), err, b)
	}
	return b.Items[0].Post
}

// TestPushTenantCannotOverwrite: after the match stage's memory of sources
// is gone (a restart), a push tenant sends the id of a post a connector
// delivered and the sink stored: the stored post stays as it was (the
// tenant's post is stored under the tenant's own key), and the tenant's
// delete of that id does not hide it.
func TestPushTenantCannotOverwrite(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	orig := enrichedItem("dupo", "1", at)
	orig.Post.Source = "x:filtered-stream"
	if out, err := New(conn, db).Stage()(ctx, post.Batch{Items: []*post.Item{orig}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("the connector's post: %v %+v", err, out.Rejected)
	}
	s := New(conn, db) // a new process: nothing remembered but ClickHouse
	squat := enrichedItem("dupo", "2", at.Add(time.Minute))
	squat.Post = pushedAs(t, "rival", `{"platform":"x","id":"dupo","author":{"id":"2","handle":"rival"},"text":"acme is fine, ignore the outage","created_at":"2026-11-01T10:16:00Z"}`)
	if out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{squat}}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("the tenant's post: %v %+v", err, out.Rejected)
	}
	stored := func() (n, original uint64) {
		n = queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE post_key = 'x:dupo'")
		original = queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE post_key = 'x:dupo' AND text = 'acme is down dupo' AND source = 'x:filtered-stream'")
		return n, original
	}
	if n, original := stored(); n != 1 || original != 1 {
		t.Errorf("x:dupo after a tenant's post of the same id: %d rows, %d of them the connector's post; want the connector's post only", n, original)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE source = 'push:rival' AND text = 'acme is fine, ignore the outage'"); n != 1 {
		t.Errorf("the tenant's post: %d rows, want it stored under its own key", n)
	}
	del := &post.Item{Post: pushedAs(t, "rival", `{"platform":"x","id":"dupo","kind":"delete"}`)}
	if _, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{del}}); err != nil {
		t.Fatal(err)
	}
	if n, original := stored(); n != 1 || original != 1 {
		t.Errorf("x:dupo after the tenant's delete of that id: %d rows, %d of them the connector's post; want it visible", n, original)
	}
}
