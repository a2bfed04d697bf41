package route

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestRetractionOnlyByTheSource: a delete or an edit from another source
// than the one that delivered the post does not retract its alert (the
// match stage refuses it first; this holds when match has forgotten the
// post, after a restart): it is a dead letter with the reason.
func TestRetractionOnlyByTheSource(t *testing.T) {
	p, _ := load(t, policy)
	stage := p.Stage(time.Now)
	run := func(items ...*post.Item) post.Batch {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	a.Post.Source = "push:acme"
	if out := run(a); len(out.Items) != 1 {
		t.Fatalf("%d alerts", len(out.Items))
	}
	for _, kind := range []string{post.KindDelete, post.KindEdit} {
		out := run(&post.Item{Post: &post.Post{Platform: a.Post.Platform, ID: a.Post.ID, Kind: kind, Source: "push:rival"}})
		if len(out.Items) != 0 {
			t.Fatalf("a %s from another source retracted: %+v", kind, out.Items[0].Alert)
		}
		if len(out.Rejected) != 1 || !strings.Contains(out.Rejected[0].Reason, `"push:acme"`) {
			t.Fatalf("a %s from another source: dead letters %+v", kind, out.Rejected)
		}
		if c := out.Rejected[0].Class; c != post.ClassForeignSource {
			t.Errorf("a %s from another source: class %q, want foreign_source", kind, c)
		}
	}
	out := run(&post.Item{Post: &post.Post{Platform: a.Post.Platform, ID: a.Post.ID, Kind: post.KindDelete, Source: "push:acme"}})
	if len(out.Items) != 1 || !out.Items[0].Alert.Retracted {
		t.Fatalf("a delete from the post's own source: %+v", out)
	}
}

// TestRetractionFromAnotherJetstreamInstance: the Bluesky connector fails
// over between Jetstream instances, and the source names the instance; a
// delete read from another instance than its post retracts the alert.
func TestRetractionFromAnotherJetstreamInstance(t *testing.T) {
	p, _ := load(t, policy)
	stage := p.Stage(time.Now)
	a := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	a.Post.Source = "jetstream:wss://jetstream1.us-east.bsky.network/subscribe"
	if out, err := stage(context.Background(), post.Batch{Items: []*post.Item{a}}); err != nil || len(out.Items) != 1 {
		t.Fatalf("the alert: %v %+v", err, out)
	}
	del := &post.Item{Post: &post.Post{Platform: a.Post.Platform, ID: a.Post.ID, Kind: post.KindDelete, Source: "jetstream:wss://jetstream2.us-west.bsky.network/subscribe"}}
	out, err := stage(context.Background(), post.Batch{Items: []*post.Item{del}})
	if err != nil || len(out.Items) != 1 || !out.Items[0].Alert.Retracted {
		t.Fatalf("a delete from another Jetstream instance: %v items %d dead letters %+v, want the alert retracted", err, len(out.Items), out.Rejected)
	}
}
