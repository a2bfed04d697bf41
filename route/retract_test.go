package route

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

func TestRetraction(t *testing.T) {
	p, _ := load(t, policy)
	stage := p.Stage(time.Now)
	run := func(items ...*post.Item) []*post.Alert {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		var as []*post.Alert
		for _, it := range out.Items {
			as = append(as, it.Alert)
		}
		return as
	}
	change := func(id, kind string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Kind: kind}}
	}
	a := item("acme", []string{"acme"}, "negative", "EMEA", 10) // id x:1 → care
	raised := run(a)
	if len(raised) != 1 {
		t.Fatalf("%d alerts", len(raised))
	}
	got := run(change("1", post.KindDelete))
	if len(got) != 1 || !got[0].Retracted || got[0].ID != raised[0].ID || got[0].Queue != raised[0].Queue {
		t.Fatalf("retraction = %+v, want the alert %s retracted", got, raised[0].ID)
	}
	if got := run(change("1", post.KindDelete)); len(got) != 0 {
		t.Errorf("a second delete retracted again: %+v", got)
	}
	if got := run(change("99", post.KindDelete)); len(got) != 0 {
		t.Errorf("a delete of a post that raised nothing gave %+v", got)
	}
	// An edit out of every watchlist retracts too; an incident is not
	// retracted by one deleted copy.
	b := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	b.Post.ID = "2"
	run(b)
	if got := run(change("2", post.KindEdit)); len(got) != 1 || !got[0].Retracted {
		t.Errorf("an edit that no longer matches: %+v", got)
	}
	c := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	c.Post.ID = "3"
	c.Enrichment.ClusterID, c.Enrichment.ClusterSize = "k", 1
	first := run(c)
	d := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	d.Post.ID = "4"
	d.Enrichment.ClusterID, d.Enrichment.ClusterSize = "k", 2
	if copies := run(d); len(copies) != 1 || copies[0].ID != first[0].ID || copies[0].IncidentSize != 2 {
		t.Fatalf("the copy: %+v", copies)
	}
	if got := run(change("3", post.KindDelete)); len(got) != 0 {
		t.Errorf("deleting the first of two copies retracted their incident: %+v", got)
	}
	e := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	e.Post.ID = "5"
	e.Enrichment.ClusterID, e.Enrichment.ClusterSize = "lonely", 1
	run(e)
	if got := run(change("5", post.KindDelete)); len(got) != 1 || !got[0].Retracted {
		t.Errorf("a post alone in its cluster was not retracted: %+v", got)
	}
}

func TestRecentIsBounded(t *testing.T) {
	r := newRecent(3)
	for _, k := range []string{"a", "b", "c", "d"} {
		r.put(k, "s", "id"+k, "q", "P1")
	}
	if _, ok, _ := r.take("a", "s"); ok {
		t.Error("the oldest entry survived past the capacity")
	}
	if e, ok, _ := r.take("d", "s"); !ok || e.id != "idd" {
		t.Errorf("take(d) = %+v, %v", e, ok)
	}
	if r.order.Len() != 2 || len(r.byKey) != 2 {
		t.Errorf("%d entries left, want 2", r.order.Len())
	}
}

// An incident alert stands for the live posts behind it: deleting every one
// of them retracts it, in whatever order, also when the cluster's first
// post was deleted (and its alert retracted) before a copy raised it again.
func TestIncidentRetractedWhenAllPostsDeleted(t *testing.T) {
	copyOf := func(id, cluster string, size int) *post.Item {
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.ID = id
		it.Enrichment.ClusterID, it.Enrichment.ClusterSize = cluster, size
		return it
	}
	del := func(id string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Kind: post.KindDelete}}
	}
	newRun := func(t *testing.T) func(items ...*post.Item) []*post.Alert {
		p, _ := load(t, policy)
		stage := p.Stage(time.Now)
		return func(items ...*post.Item) []*post.Alert {
			t.Helper()
			out, err := stage(context.Background(), post.Batch{Items: items})
			if err != nil {
				t.Fatal(err)
			}
			var as []*post.Alert
			for _, it := range out.Items {
				as = append(as, it.Alert)
			}
			return as
		}
	}
	retracted := func(t *testing.T, got []*post.Alert, id string) {
		t.Helper()
		if len(got) != 1 || !got[0].Retracted || got[0].ID != id {
			t.Fatalf("got %+v, want alert %s retracted", got, id)
		}
	}

	t.Run("delete, copy, delete", func(t *testing.T) {
		run := newRun(t)
		raised := run(copyOf("1", "k", 1))
		retracted(t, run(del("1")), raised[0].ID)
		again := run(copyOf("2", "k", 2))
		if len(again) != 1 || again[0].ID != raised[0].ID || again[0].Retracted {
			t.Fatalf("the copy: %+v", again)
		}
		retracted(t, run(del("2")), raised[0].ID)
	})
	t.Run("both live, delete first then second", func(t *testing.T) {
		run := newRun(t)
		raised := run(copyOf("1", "k", 1))
		run(copyOf("2", "k", 2))
		if got := run(del("1")); len(got) != 0 {
			t.Fatalf("deleting one of two live copies: %+v", got)
		}
		retracted(t, run(del("2")), raised[0].ID)
	})
	t.Run("second first", func(t *testing.T) {
		run := newRun(t)
		raised := run(copyOf("1", "k", 1))
		run(copyOf("2", "k", 2))
		if got := run(del("2")); len(got) != 0 {
			t.Fatalf("deleting one of two live copies: %+v", got)
		}
		retracted(t, run(del("1")), raised[0].ID)
	})
	t.Run("a copy that raised no update", func(t *testing.T) {
		// The third copy raises nothing (updates at 1, 2, 4, …) but still
		// keeps the incident open until it is deleted too.
		run := newRun(t)
		raised := run(copyOf("1", "k", 1))
		run(copyOf("2", "k", 2))
		if got := run(copyOf("3", "k", 3)); len(got) != 0 {
			t.Fatalf("the third copy: %+v", got)
		}
		run(del("1"))
		if got := run(del("2")); len(got) != 0 {
			t.Fatalf("retracted with copy 3 live: %+v", got)
		}
		retracted(t, run(del("3")), raised[0].ID)
	})
	t.Run("enrichment saw more copies", func(t *testing.T) {
		// After a route restart (or with copies on another route process)
		// enrichment counted copies this process never saw: their posts
		// may be live, so deleting the ones it saw does not retract.
		run := newRun(t)
		run(copyOf("7", "k", 5))
		if got := run(del("7")); len(got) != 0 {
			t.Fatalf("retracted although enrichment counted 5 copies: %+v", got)
		}
	})
	t.Run("an edit moves the last post to another cluster", func(t *testing.T) {
		run := newRun(t)
		raised := run(copyOf("1", "k", 1))
		run(copyOf("2", "k", 2))
		run(del("1"))
		edit := copyOf("2", "m", 1)
		edit.Post.Kind = post.KindEdit
		got := run(edit)
		if len(got) != 2 || !got[0].Retracted || got[0].ID != raised[0].ID || got[1].Retracted || got[1].ID == raised[0].ID {
			t.Fatalf("the edit: %+v, want incident %s retracted and the post's new alert", got, raised[0].ID)
		}
		retracted(t, run(del("2")), got[1].ID)
	})
	t.Run("redelivered create and delete", func(t *testing.T) {
		run := newRun(t)
		raised := run(copyOf("1", "k", 1))
		run(copyOf("2", "k", 2))
		run(del("1"))
		retracted(t, run(del("2")), raised[0].ID)
		run(copyOf("2", "k", 2)) // a replay from before the delete
		retracted(t, run(del("2")), raised[0].ID)
	})
}

// A story incident with a stakeholder copy: deleting every post retracts
// the alert and its copy; deleting some does not.
func TestStoryIncidentRetractedWithCopies(t *testing.T) {
	p, err := load(t, `
queues: [pr, legal]
rules:
  - name: recall
    when: {keywords: [recall]}
    queue: pr
    priority: P1
    notify: [legal]
    incident: story
`)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	stage := p.Stage(func() time.Time { return t0 })
	run := func(items ...*post.Item) []*post.Alert {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		var as []*post.Alert
		for _, it := range out.Items {
			as = append(as, it.Alert)
		}
		return as
	}
	mk := func(id string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, CreatedAt: t0}, Matches: []post.Match{{Watchlist: "acme", Keywords: []string{"recall"}}}}
	}
	del := func(id string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Kind: post.KindDelete}}
	}
	first := run(mk("1"))
	if len(first) != 2 {
		t.Fatalf("first post: %+v", first)
	}
	run(mk("2"), mk("3"))
	if got := run(del("3"), del("1")); len(got) != 0 {
		t.Fatalf("retracted with post 2 live: %+v", got)
	}
	got := run(del("2"))
	if len(got) != 2 || !got[0].Retracted || got[0].ID != first[0].ID || got[0].Queue != "pr" ||
		!got[1].Retracted || got[1].ID != first[1].ID || got[1].Queue != "legal" || got[1].Of != first[0].ID {
		t.Fatalf("retraction = %+v, want %s on pr and its copy %s on legal", got, first[0].ID, first[1].ID)
	}
}

// The incidents remembered are bounded by the same capacity as the alerts
// (posts in all); a forgotten incident is not retracted by its posts'
// deletes, which is the safe side: its forgotten posts may be live.
func TestIncidentMembersBounded(t *testing.T) {
	r := newRecent(4)
	a := &post.Alert{Queue: "care", Priority: "P2"}
	r.putMember("a1", "s", member{"A", 1}, a, nil)
	r.putMember("a2", "s", member{"A", 2}, a, nil)
	r.putMember("a3", "s", member{"A", 3}, nil, nil)
	r.putMember("b1", "s", member{"B", 1}, a, nil)
	r.putMember("b2", "s", member{"B", 2}, a, nil) // five posts: A is forgotten
	if r.members > 4 || len(r.incidents) != 1 || r.incidents["A"] != nil {
		t.Fatalf("%d posts in %d incidents remembered, want B's 2 in 1", r.members, len(r.incidents))
	}
	for _, k := range []string{"a1", "a2", "a3"} {
		if v, ok, _ := r.take(k, "s"); ok {
			t.Errorf("delete of %s retracted the forgotten incident: %+v", k, v)
		}
	}
	// One incident larger than the capacity keeps itself and is never
	// retracted, as its first posts are no longer remembered.
	r = newRecent(2)
	for _, k := range []string{"c1", "c2", "c3"} {
		r.putMember(k, "s", member{"C", 3}, a, nil)
	}
	for _, k := range []string{"c1", "c2", "c3"} {
		if v, ok, _ := r.take(k, "s"); ok {
			t.Errorf("delete of %s retracted an incident with forgotten posts: %+v", k, v)
		}
	}
	if r.order.Len() > 2 {
		t.Errorf("%d posts remembered, want at most 2", r.order.Len())
	}
}

// Past maxIncidentMembers posts an incident is no longer counted exactly
// and deletes never retract it; a delete from another source than the
// post's counts nothing out.
func TestIncidentOverflowAndOtherSource(t *testing.T) {
	r := newRecent(recentCapacity)
	a := &post.Alert{Queue: "care", Priority: "P2"}
	keys := make([]string, maxIncidentMembers+1)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		r.putMember(keys[i], "s", member{"big", i + 1}, a, nil)
	}
	if inc := r.incidents["big"]; len(inc.members) != maxIncidentMembers || !inc.overflow {
		t.Fatalf("%d posts remembered, overflow %v", len(inc.members), inc.overflow)
	}
	for _, k := range keys {
		if v, ok, _ := r.take(k, "s"); ok {
			t.Fatalf("delete of %s retracted an incident with uncounted posts: %+v", k, v)
		}
	}
	r.putMember("x1", "tenant-a", member{"small", 1}, a, nil)
	if _, ok, origin := r.take("x1", "tenant-b"); ok || origin != "tenant-a" {
		t.Fatalf("another source's delete: ok %v, origin %q", ok, origin)
	}
	if v, ok, _ := r.take("x1", "tenant-a"); !ok || v.id != "small" {
		t.Fatalf("the post's own source's delete: %+v, %v", v, ok)
	}
}
