package search

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestForeignChangesAreDeadLetters is issue 16 (9) for the index: a delete
// or an edit of an indexed post from another source than the one that
// delivered it is a dead letter with the reason, and the post stays as it
// was; the same changes from the post's own source apply.
func TestForeignChangesAreDeadLetters(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	stage := x.Stage()
	run := func(items ...*post.Item) []post.Rejected {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		return out.Rejected
	}
	mk := func(id, source string) *post.Item {
		it := doc{id, "acme refund " + id, "en", "NA", "negative", time.Hour, []string{"acme"}}.item()
		it.Post.Source = source
		return it
	}
	change := func(kind, id, source string) *post.Item {
		it := &post.Item{Post: &post.Post{Kind: kind, Platform: "x", ID: id, Source: source}}
		if kind == post.KindEdit {
			it.Post.Text, it.Matches = "rewritten "+id, matches("acme")
		}
		return it
	}
	if rej := run(mk("a1", "push:alpha"), mk("a2", "push:alpha"), mk("a3", "push:alpha")); len(rej) != 0 {
		t.Fatalf("indexing: %v", rej)
	}
	rej := run(change(post.KindDelete, "a1", "push:beta"), change(post.KindEdit, "a2", "push:beta"))
	if len(rej) != 2 {
		t.Fatalf("foreign delete and edit: %d dead letters, want 2: %v", len(rej), rej)
	}
	for _, r := range rej {
		if r.Class != post.ClassForeignSource {
			t.Errorf("class %q, want foreign_source", r.Class)
		}
		if !strings.Contains(r.Reason, `"push:beta"`) || !strings.Contains(r.Reason, `"push:alpha"`) {
			t.Errorf("reason does not name both sources: %s", r.Reason)
		}
	}
	if got := keys(search1(t, x, Query{Text: "refund"})); !slices.Equal(got, []string{"a1", "a2", "a3"}) {
		t.Errorf("after foreign changes: %v, want all three as they were", got)
	}
	if r := search1(t, x, Query{Text: "rewritten"}); r.Total != 0 {
		t.Errorf("a foreign edit was indexed")
	}
	// In one batch: a post from alpha, then beta's delete of it.
	if rej := run(mk("a4", "push:alpha"), change(post.KindDelete, "a4", "push:beta")); len(rej) != 1 {
		t.Errorf("foreign delete in the post's own batch: %d dead letters, want 1", len(rej))
	}
	// The post's own source may delete and edit it.
	if rej := run(change(post.KindDelete, "a1", "push:alpha"), change(post.KindEdit, "a2", "push:alpha")); len(rej) != 0 {
		t.Fatalf("own delete and edit refused: %v", rej)
	}
	if got := keys(search1(t, x, Query{Text: "refund"})); !slices.Equal(got, []string{"a3", "a4"}) {
		t.Errorf("after own changes: %v, want a3 a4", got)
	}
	if r := search1(t, x, Query{Text: "rewritten"}); r.Total != 1 {
		t.Errorf("own edit not indexed: %d hits", r.Total)
	}
	// A change of a post the index does not hold goes on (nothing to protect).
	if rej := run(change(post.KindDelete, "nope", "push:beta")); len(rej) != 0 {
		t.Errorf("delete of an unknown post: %v", rej)
	}
}

// TestJetstreamInstancesAreOneSource: a delete read from another Jetstream
// instance than its post (the connector fails over between them) applies.
func TestJetstreamInstancesAreOneSource(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	it := doc{"j1", "acme refund j1", "en", "NA", "negative", time.Hour, []string{"acme"}}.item()
	it.Post.Source = "jetstream:wss://jetstream1.us-east.bsky.network/subscribe"
	if out, err := x.Stage()(context.Background(), post.Batch{Items: []*post.Item{it}}); err != nil || len(out.Rejected) != 0 {
		t.Fatalf("indexing: %v %v", err, out.Rejected)
	}
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "j1", Source: "jetstream:wss://jetstream2.us-west.bsky.network/subscribe"}}
	if out, err := x.Stage()(context.Background(), post.Batch{Items: []*post.Item{del}}); err != nil || len(out.Rejected) != 0 {
		t.Fatalf("a delete from another Jetstream instance: %v %v, want it applied", err, out.Rejected)
	}
	if r := search1(t, x, Query{Text: "refund"}); r.Total != 0 {
		t.Errorf("the post is still found after its delete")
	}
}
