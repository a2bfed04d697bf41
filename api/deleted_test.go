package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Content of the deleted post in these tests: none of it may be served
// once the post is deleted at its source.
const (
	deletedText   = "secret-text-of-the-deleted-post"
	deletedAuthor = "secret-author-handle"
	deletedURL    = "https://x.example/secret-author-handle/status/77"
)

func deletedPostItem(id string, a *post.Alert) *post.Item {
	return &post.Item{
		Post: &post.Post{Platform: "x", ID: id, Text: deletedText + " " + strings.Repeat("x", AlertTextBytes),
			Author: post.Author{Handle: deletedAuthor, Name: deletedAuthor}, URLs: []string{deletedURL}, CreatedAt: deskT0},
		Matches:    []post.Match{{Watchlist: "brand", Version: 1}},
		Enrichment: &post.Enrichment{RedactedText: deletedText, Region: "emea", Market: "uk"},
		Alert:      a,
	}
}

// deleteRetraction is what route sends when the post is deleted: the
// delete item (the platform's change, no text) carrying the retraction.
func deleteRetraction(id string, a *post.Alert) *post.Item {
	return &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: id, Author: post.Author{Handle: deletedAuthor}, URLs: []string{deletedURL}}, Alert: a}
}

// wantNoContent fails when a, as the API would answer it, shows any of
// the deleted post's content.
func wantNoContent(t *testing.T, where string, a Alert) {
	t.Helper()
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{deletedText, deletedAuthor, deletedURL, `"item"`, `"x:77"`, `"text_bytes"`} {
		if strings.Contains(string(raw), s) {
			t.Errorf("%s: the deleted post's alert still serves %q: %.300s", where, s, raw)
		}
	}
	if !a.Deleted || !a.Retracted {
		t.Errorf("%s: deleted=%v retracted=%v, want both", where, a.Deleted, a.Retracted)
	}
}

// TestMemAlertsDeletedPostIsNotServed: once a post is deleted at its
// source, its alert (and the stakeholder copy on another queue) keeps its
// id, queue, times, market and desk thread, closed by the platform and
// marked deleted, but no list, get, action answer or live feed serves the
// post's text, author or URL; the notes responders wrote stay; a
// redelivery of the original alert does not bring the content back.
func TestMemAlertsDeletedPostIsNotServed(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	hub := NewHub()
	care := hub.Subscribe("care", 16)
	tap := Tap(m, hub, slog.New(slog.DiscardHandler))
	raise := func(id, queue string) *post.Alert {
		return &post.Alert{ID: id, Queue: queue, Priority: "P2", Rule: "r", CreatedAt: deskT0}
	}
	tap(deletedPostItem("77", raise("a1", "care")))
	tap(deletedPostItem("77", raise("c1", "pr")))
	tap(deletedPostItem("78", raise("a2", "care")))
	if _, _, err := m.Act(ctx, "care", "a1", ev(ActNote, "rita", 1), false); err != nil {
		t.Fatal(err)
	}
	if a, _ := m.Get(ctx, "care", "a1"); !strings.Contains(string(a.Item), deletedText) {
		t.Fatalf("before the delete the alert shows its post: %s", a.Item)
	}
	<-care.C
	<-care.C
	at := deskT0.Add(time.Minute)
	tap(deleteRetraction("77", &post.Alert{ID: "a1", Queue: "care", Priority: "P2", Rule: "retract", CreatedAt: at, Retracted: true}))
	tap(deleteRetraction("77", &post.Alert{ID: "c1", Queue: "pr", Priority: "P2", Rule: "retract", CreatedAt: at, Retracted: true, Of: "a1"}))
	wantNoContent(t, "live feed", <-care.C)

	check := func(when string) {
		t.Helper()
		a, err := m.Get(ctx, "care", "a1")
		if err != nil {
			t.Fatal(err)
		}
		wantNoContent(t, when+": get", a)
		wantClosedByPlatform(t, a, at)
		if a.ID != "a1" || a.Queue != "care" || !a.CreatedAt.Equal(deskT0) || a.Market != "uk" || len(a.Desk.Notes) == 0 || a.Desk.Notes[0].Author != "rita" {
			t.Fatalf("%s: the alert lost what is not the post's: %+v", when, a)
		}
		page, _, _ := m.List(ctx, "care", 0, 10)
		if len(page) != 2 {
			t.Fatalf("%s: list %+v", when, page)
		}
		wantNoContent(t, when+": list", page[1])
		if !strings.Contains(string(page[0].Item), deletedText[:10]) || page[0].Deleted {
			t.Fatalf("%s: another post's alert lost its content: %+v", when, page[0])
		}
		c, _ := m.Get(ctx, "pr", "c1")
		wantNoContent(t, when+": stakeholder copy", c)
		n, _, err := m.Act(ctx, "care", "a1", ev(ActNote, "rita", 2+len(when)), false)
		if err != nil {
			t.Fatal(err)
		}
		wantNoContent(t, when+": note answer", n)
	}
	check("deleted")
	// The original alert redelivered (a restart re-reads its topic): the
	// content stays gone.
	tap(deletedPostItem("77", raise("a1", "care")))
	check("redelivered")
}

// TestMemAlertsDeletedIncidentPost: a post deleted at its source that is
// the latest post of an incident's alert (route sends no retraction: the
// incident stands for other posts) leaves the alert without it, open; the
// incident's next post shows again. An alert of a post that arrives
// after the post's delete is kept without it, closed; other posts'
// alerts and other queues are untouched.
func TestMemAlertsDeletedIncidentPost(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	hub := NewHub()
	tap := Tap(m, hub, slog.New(slog.DiscardHandler))
	inc := &post.Alert{ID: "i1", Queue: "care", Priority: "P2", Rule: "r", Incident: "story-1", IncidentSize: 2, CreatedAt: deskT0}
	tap(deletedPostItem("77", inc))
	tap(deletedPostItem("78", &post.Alert{ID: "a2", Queue: "care", Priority: "P2", Rule: "r", CreatedAt: deskT0}))
	if _, _, err := m.Act(ctx, "care", "i1", ev(ActClaim, "rita", 1), false); err != nil {
		t.Fatal(err)
	}
	changed := m.Deleted("x:77", "")
	if len(changed) != 1 || changed[0].ID != "i1" {
		t.Fatalf("Deleted changed %+v, want the incident's alert", changed)
	}
	a, _ := m.Get(ctx, "care", "i1")
	raw, _ := json.Marshal(a)
	if strings.Contains(string(raw), deletedText) || strings.Contains(string(raw), deletedAuthor) || strings.Contains(string(raw), "x:77") || !a.Deleted {
		t.Fatalf("the incident still shows its deleted post: %.300s", raw)
	}
	if a.Retracted || a.Desk.State != StateClaimed || a.IncidentSize != 2 {
		t.Fatalf("the incident was closed by its post's delete: %+v", a)
	}
	if b, _ := m.Get(ctx, "care", "a2"); b.Deleted || !strings.Contains(string(b.Item), "secret-text") {
		t.Fatalf("another post's alert changed: %+v", b)
	}
	// The incident grows: its alert shows the new post, keeps its desk.
	grown := *inc
	grown.IncidentSize = 4
	tap(deletedPostItem("79", &grown))
	if a, _ := m.Get(ctx, "care", "i1"); a.Deleted || a.PostKey != "x:79" || a.Desk.State != StateClaimed {
		t.Fatalf("the incident's next post: %+v", a)
	}
	// An alert of an already deleted post (the delete read first).
	m.Deleted("x:80", "")
	tap(deletedPostItem("80", &post.Alert{ID: "a3", Queue: "pr", Priority: "P2", Rule: "r", CreatedAt: deskT0}))
	a, _ = m.Get(ctx, "pr", "a3")
	if raw, _ := json.Marshal(a); strings.Contains(string(raw), deletedText) || !a.Deleted || !a.Retracted || a.Desk.Outcome != OutcomeRetracted {
		t.Fatalf("an alert arriving after its post's delete: %.300s", raw)
	}
	if len(m.Deleted("x:nothing", "")) != 0 || len(m.Deleted("", "")) != 0 {
		t.Fatal("a delete of a post no alert shows changed something")
	}
}

// TestMemAlertsDeletedKeysBounded: the store remembers a bounded number
// of deleted keys and its post index follows eviction (no key of an
// evicted alert stays behind).
func TestMemAlertsDeletedKeysBounded(t *testing.T) {
	m := NewMemAlerts(3)
	for i := range deletedKeys + 100 {
		m.Deleted(fmt.Sprintf("x:d%d", i), "")
	}
	if m.deleted.len() != deletedKeys || len(m.deleted.ring) != deletedKeys {
		t.Fatalf("%d deleted keys held (%d ordered), want %d", m.deleted.len(), len(m.deleted.ring), deletedKeys)
	}
	first, kept := m.deleted.has(deletion{"x:d99", ""}), m.deleted.has(deletion{"x:d100", ""})
	if first || !kept {
		t.Fatalf("x:d99 held %v, x:d100 held %v: want the oldest 100 gone, the rest kept", first, kept)
	}
	for i := range 50 {
		m.Add(Alert{ID: fmt.Sprint("a", i), Queue: "care", PostKey: fmt.Sprint("x:p", i), CreatedAt: deskT0})
	}
	if q := m.queues["care"]; len(q.byPost) != 3 || len(q.byID) != 3 {
		t.Fatalf("post index holds %d keys for %d alerts", len(q.byPost), len(q.byID))
	}
}

// TestMemAlertsDeleteOfAnotherSource: a delete from another source than
// the one that delivered the post (another ingest tenant) hides nothing,
// neither an alert held nor one that arrives after it; the delivering
// source's delete still does.
func TestMemAlertsDeleteOfAnotherSource(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	tap := Tap(m, NewHub(), slog.New(slog.DiscardHandler))
	del := DeleteTap(m, NewHub())
	item := func(id, alert, source string) *post.Item {
		it := deletedPostItem(id, &post.Alert{ID: alert, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: deskT0})
		it.Post.Source = source
		return it
	}
	deleteOf := func(id, source string) *post.Item {
		return &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: id, Source: source}}
	}
	tap(item("77", "a1", "push:alpha"))
	del(deleteOf("77", "push:beta"))
	del(deleteOf("78", "push:beta"))
	tap(item("78", "a2", "push:alpha"))
	for _, id := range []string{"a1", "a2"} {
		if a, _ := m.Get(ctx, "care", id); a.Deleted || a.Retracted || !strings.Contains(string(a.Item), "secret-text") {
			t.Fatalf("%s hidden by another source's delete: %+v", id, a)
		}
	}
	del(deleteOf("77", "push:alpha"))
	if a, _ := m.Get(ctx, "care", "a1"); !a.Deleted || len(a.Item) != 0 {
		t.Fatalf("the delivering source's delete left %+v", a)
	}
}

// TestMemAlertsDeleteFromAnotherJetstreamInstance: the Bluesky connector
// fails over between Jetstream instances and names the instance in the
// source; a delete read from another instance hides the post's alert, held
// or arriving after it.
func TestMemAlertsDeleteFromAnotherJetstreamInstance(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	tap := Tap(m, NewHub(), slog.New(slog.DiscardHandler))
	del := DeleteTap(m, NewHub())
	one, two := "jetstream:wss://jetstream1.us-east.bsky.network/subscribe", "jetstream:wss://jetstream2.us-west.bsky.network/subscribe"
	item := func(id, alert string) *post.Item {
		it := deletedPostItem(id, &post.Alert{ID: alert, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: deskT0})
		it.Post.Source = one
		return it
	}
	deleteOf := func(id string) *post.Item {
		return &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: id, Source: two}}
	}
	tap(item("77", "a1"))
	del(deleteOf("77"))
	del(deleteOf("78"))
	tap(item("78", "a2"))
	for _, id := range []string{"a1", "a2"} {
		if a, _ := m.Get(ctx, "care", id); !a.Deleted || len(a.Item) != 0 {
			t.Errorf("%s after a delete from another Jetstream instance: %+v, want it hidden", id, a)
		}
	}
}

// BenchmarkMemAlertsDeleted: the cost of a delete on a full store (5
// queues of 1,000 alerts) of a post no alert shows (most deletes: the
// enriched topic carries every delete, matched or not), beside the
// baseline of making its key alone; bounded by the queues, not the alerts
// held.
func BenchmarkMemAlertsDeleted(b *testing.B) {
	b.Run("baseline=key-only", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := range b.N {
			n += len(fmt.Sprint("x:gone", i))
		}
		_ = n
	})
	b.Run("unheld", func(b *testing.B) {
		m := NewMemAlerts(1000)
		for q := range 5 {
			for i := range 1000 {
				m.Add(Alert{ID: fmt.Sprint("a", q, "-", i), Queue: fmt.Sprint("q", q), PostKey: fmt.Sprint("x:p", i), CreatedAt: deskT0, source: "s"})
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			m.Deleted(fmt.Sprint("x:gone", i), "s")
		}
	})
}
