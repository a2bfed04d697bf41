package match

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestStageRefusesChangesFromAnotherSource is issue 16's crossing tenants:
// a second ingest tenant pushes a delete (or an edit, or the same id with
// other text) of a post the first tenant pushed. Only the source that
// delivered a post may change it; the others are dead letters with a
// reason, and the post's own source still may.
func TestStageRefusesChangesFromAnotherSource(t *testing.T) {
	m, err := New([]*Watchlist{{ID: "legal", Version: 1, Status: "live", Rule: "acme AND lawsuit"}})
	if err != nil {
		t.Fatal(err)
	}
	stage := m.Stage()
	at := time.Now()
	p := func(kind, source, id, text string) *post.Item {
		return &post.Item{Post: &post.Post{Kind: kind, Platform: "bluesky", ID: id, Text: text, CreatedAt: at, Source: source}}
	}
	run := func(its ...*post.Item) post.Batch {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: its})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := run(p("", "push:acme", "dupx", "acme lawsuit now")); len(out.Items) != 1 {
		t.Fatalf("the post: %+v", out)
	}
	for _, c := range []struct {
		name string
		it   *post.Item
	}{
		{"delete by another tenant", p(post.KindDelete, "push:rival", "dupx", "")},
		{"edit by another tenant", p(post.KindEdit, "push:rival", "dupx", "harmless")},
		{"edit by another tenant that still matches", p(post.KindEdit, "push:rival", "dupx", "acme lawsuit dropped, all fine")},
		{"the same id again with other text", p("", "push:rival", "dupx", "acme lawsuit was a hoax")},
		{"delete by a connector", p(post.KindDelete, "bluesky:jetstream", "dupx", "")},
		{"delete of an old record without a source", p(post.KindDelete, "", "dupx", "")},
	} {
		out := run(c.it)
		if len(out.Items) != 0 || len(out.Rejected) != 1 {
			t.Errorf("%s: passed on %d, dead letters %d; want it refused", c.name, len(out.Items), len(out.Rejected))
			continue
		}
		if r := out.Rejected[0].Reason; !strings.Contains(r, "push:acme") || !strings.Contains(r, "bluesky:dupx") {
			t.Errorf("%s: reason %q names neither the origin nor the post", c.name, r)
		}
		if cl := out.Rejected[0].Class; cl != post.ClassForeignSource {
			t.Errorf("%s: class %q, want foreign_source", c.name, cl)
		}
	}
	// The post's own source may edit and delete it.
	if out := run(p(post.KindEdit, "push:acme", "dupx", "acme lawsuit settled")); len(out.Items) != 1 || len(out.Rejected) != 0 {
		t.Errorf("edit by its own source: %+v", out)
	}
	if out := run(p(post.KindDelete, "push:acme", "dupx", "")); len(out.Items) != 1 || len(out.Rejected) != 0 {
		t.Errorf("delete by its own source: %+v", out)
	}
	// A post this stage never passed on (it matched nothing) holds nothing
	// to protect: a change of it goes on, as before.
	run(p("", "push:acme", "quiet", "nothing here"))
	if out := run(p(post.KindDelete, "push:rival", "quiet", "")); len(out.Items) != 1 {
		t.Errorf("delete of a post that raised nothing: %+v", out)
	}
}

// TestOriginsBounded: the memory of origins is bounded, and safe for the
// runner's workers.
func TestOriginsBounded(t *testing.T) {
	o := newOrigins(1000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10_000 {
				k := fmt.Sprintf("x:%d-%d", w, i)
				o.check(k, "s", true)
				o.check(k, "s", false)
			}
		}()
	}
	wg.Wait()
	if n := o.len(); n > 1000 {
		t.Errorf("%d origins kept, over 1000", n)
	}
	o.check("x:newest", "s", true)
	if _, ok := o.check("x:newest", "t", false); ok {
		t.Error("the newest origin was forgotten")
	}
}

// BenchmarkOriginsCheck is what the source check adds per post passed on:
// remember (a new key), then a change's lookup; BenchmarkMatch is the
// matching it rides beside.
func BenchmarkOriginsCheck(b *testing.B) {
	o := newOrigins(originsCapacity)
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("bluesky:at://did:plc:%024d/app.bsky.feed.post/%d", i, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i&(len(keys)-1)]
		o.check(k, "bluesky:jetstream", true)
		o.check(k, "bluesky:jetstream", false)
		i++
	}
}

// TestOldRecordsWithoutSource: records written before sources were checked
// (no "source" on the wire) still decode, and their source is the empty
// one: their own changes (also without a source) pass, another's do not.
func TestOldRecordsWithoutSource(t *testing.T) {
	m, err := New([]*Watchlist{{ID: "legal", Version: 1, Status: "live", Rule: "acme AND lawsuit"}})
	if err != nil {
		t.Fatal(err)
	}
	stage := m.Stage()
	decode := func(s string) *post.Item {
		t.Helper()
		it, err := post.Decode([]byte(s))
		if err != nil {
			t.Fatalf("an old record: %v", err)
		}
		return it
	}
	old := decode(`{"v":1,"post":{"platform":"bluesky","id":"old1","author":{"handle":"a"},"text":"acme lawsuit","created_at":"2026-11-01T10:00:00Z","ingested_at":"2026-11-01T10:00:01Z"}}`)
	if old.Post.Source != "" {
		t.Fatalf("source %q", old.Post.Source)
	}
	run := func(it *post.Item) post.Batch {
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := run(old); len(out.Items) != 1 {
		t.Fatalf("the old post: %+v", out)
	}
	if out := run(decode(`{"v":1,"post":{"kind":"delete","platform":"bluesky","id":"old1","source":"push:rival"}}`)); len(out.Rejected) != 1 {
		t.Errorf("another source's delete of an old post: %+v", out)
	}
	if out := run(decode(`{"v":1,"post":{"kind":"delete","platform":"bluesky","id":"old1"}}`)); len(out.Items) != 1 {
		t.Errorf("an old delete (no source) of an old post: %+v", out)
	}
}

// TestStageJetstreamInstancesAreOneSource: the Bluesky connector records
// the Jetstream instance it reads (jetstream:<endpoint>) and fails over
// between the four public ones, which serve the same network's events. A
// delete or an edit read from another instance than the post was is the
// post's own source's, not a foreign one: it was dead-lettered, and a
// deleted post stayed matched, alerted and stored. Another connector, or
// a push tenant, still may not.
func TestStageJetstreamInstancesAreOneSource(t *testing.T) {
	m, err := New([]*Watchlist{{ID: "legal", Version: 1, Status: "live", Rule: "acme AND lawsuit"}})
	if err != nil {
		t.Fatal(err)
	}
	stage := m.Stage()
	one, two := "jetstream:wss://jetstream1.us-east.bsky.network/subscribe", "jetstream:wss://jetstream2.us-west.bsky.network/subscribe"
	p := func(kind, source, text string) *post.Item {
		return &post.Item{Post: &post.Post{Kind: kind, Platform: "bluesky", ID: "at://did:plc:a/app.bsky.feed.post/1", Text: text, CreatedAt: time.Now(), Source: source}}
	}
	run := func(it *post.Item) post.Batch {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := run(p("", one, "acme lawsuit now")); len(out.Items) != 1 {
		t.Fatalf("the post: %+v", out)
	}
	if out := run(p(post.KindDelete, "push:rival", "")); len(out.Rejected) != 1 {
		t.Errorf("a push tenant's delete: %+v, want it refused", out)
	}
	if out := run(p(post.KindEdit, two, "acme lawsuit settled")); len(out.Items) != 1 || len(out.Rejected) != 0 {
		t.Errorf("an edit read from another Jetstream instance: %+v, want it passed on", out.Rejected)
	}
	if out := run(p(post.KindDelete, two, "")); len(out.Items) != 1 || len(out.Rejected) != 0 {
		t.Errorf("a delete read from another Jetstream instance: %+v, want it passed on", out.Rejected)
	}
}

// TestStageVolumeRecordIsADeadLetter: a volume record (match's own output
// for the sink) that lands on the posts topic is a dead letter with the
// reason, as the sink makes one on the enriched topic; it was dropped
// without a word.
func TestStageVolumeRecordIsADeadLetter(t *testing.T) {
	m, err := New([]*Watchlist{{ID: "w", Version: 1, Status: "live", Rule: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	vol := post.CountVolume([]*post.Item{{Post: &post.Post{Platform: "x", ID: "1", Text: "acme", CreatedAt: time.Now()}}})
	if len(vol) == 0 {
		t.Fatal("no volume record")
	}
	out, err := m.Stage()(context.Background(), post.Batch{Items: vol[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 || len(out.Rejected) != 1 || !strings.Contains(out.Rejected[0].Reason, "volume") {
		t.Errorf("a volume record on the posts topic: passed on %d, dead letters %+v; want one dead letter naming it", len(out.Items), out.Rejected)
	} else if c := out.Rejected[0].Class; c != post.ClassMisrouted {
		t.Errorf("a volume record on the posts topic: class %q, want misrouted", c)
	}
}
