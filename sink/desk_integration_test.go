//go:build integration

package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestDeskResponseStopsEscalation: an alert a responder claimed (or
// resolved) on the desk is answered, as an acknowledged one is: the
// escalation job leaves it alone. One only noted is not.
func TestDeskResponseStopsEscalation(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	var items []*post.Item
	for _, id := range []string{"claimed", "resolved", "noted"} {
		items = append(items, &post.Item{
			Post:  &post.Post{Platform: "x", ID: id, Text: "down", CreatedAt: t0},
			Alert: &post.Alert{ID: id, Queue: "care", Priority: "P1", Rule: "r", CreatedAt: t0, EscalateTo: "leads", EscalateAt: t0.Add(time.Hour)},
		})
	}
	if out, err := New(conn, db).AlertStage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing: %v %+v", err, out.Rejected)
	}
	tab := &AlertTables{Conn: conn, DB: db}
	at := t0.Add(10 * time.Minute)
	for _, r := range []DeskEventRow{
		{AlertID: "claimed", Queue: "care", Event: "desk.claim", Actor: "rita", Assignee: "rita", At: at, EventID: "e1"},
		{AlertID: "resolved", Queue: "care", Event: "desk.resolve", Actor: "rita", Outcome: "spam", At: at, EventID: "e2"},
		{AlertID: "noted", Queue: "care", Event: "desk.note", Actor: "rita", Note: "later", At: at, EventID: "e3"},
	} {
		if err := tab.AddDeskEvent(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	due, err := NewEscalations(conn, db).Overdue(ctx, time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range due {
		ids = append(ids, it.Alert.ID)
	}
	if len(ids) != 1 || ids[0] != "noted" {
		t.Fatalf("overdue %v, want only the alert nobody claimed", ids)
	}
}

// DeskCounts: the open alerts per queue and desk state, and the breached
// ones, over a window of creation, on the real server.
func TestDeskCounts(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	t0 := now.Add(-2 * time.Hour)
	mk := func(id, queue string, created, due time.Time, retracted bool) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: "down", CreatedAt: created},
			Alert: &post.Alert{ID: id, Queue: queue, Priority: "P1", Rule: "r", CreatedAt: created, DueAt: due, Retracted: retracted}}
	}
	items := []*post.Item{
		mk("new-late", "care", t0, t0.Add(15*time.Minute), false),                      // unanswered past due: breached
		mk("new-ontime", "care", t0, now.Add(time.Hour), false),                        // not yet due
		mk("claimed-late", "care", t0, t0.Add(15*time.Minute), false),                  // claimed after due: breached
		mk("claimed-ontime", "care", t0, t0.Add(15*time.Minute), false),                // claimed in time
		mk("resolved", "care", t0, t0.Add(15*time.Minute), false),                      // resolved in time
		mk("reopened", "care", t0, time.Time{}, false),                                 // resolved, then reopened: new
		mk("unclaimed", "pr", t0, time.Time{}, false),                                  // claimed, then unclaimed: new
		mk("acked-late", "pr", t0, t0.Add(time.Minute), false),                         // acknowledged late: breached
		mk("old", "care", now.Add(-30*24*time.Hour), now.Add(-29*24*time.Hour), false), // before the window
		mk("gone", "care", t0, t0.Add(time.Minute), true),                              // retracted
		mk("near", "care", t0, now.Add(20*time.Minute), false),                         // unanswered, past 80%: near breach
	}
	if out, err := New(conn, db).AlertStage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing: %v %+v", err, out.Rejected)
	}
	tab := &AlertTables{Conn: conn, DB: db}
	ev := func(id, queue, event string, at time.Time, seq uint64) {
		t.Helper()
		if err := tab.AddDeskEvent(ctx, DeskEventRow{AlertID: id, Queue: queue, Event: event, Actor: "rita", Assignee: "rita", At: at, EventID: id + event, Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	ev("claimed-late", "care", "desk.claim", t0.Add(20*time.Minute), 1)
	ev("claimed-ontime", "care", "desk.claim", t0.Add(5*time.Minute), 1)
	ev("resolved", "care", "desk.resolve", t0.Add(5*time.Minute), 1)
	ev("reopened", "care", "desk.resolve", t0.Add(5*time.Minute), 1)
	ev("reopened", "care", "desk.reopen", t0.Add(5*time.Minute), 2) // the same second: seq orders them
	ev("unclaimed", "pr", "desk.claim", t0.Add(time.Minute), 1)
	ev("unclaimed", "pr", "desk.unclaim", t0.Add(2*time.Minute), 2)
	if err := tab.AddEvent(ctx, "acked-late", "pr", "acknowledged", "rita", t0.Add(5*time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	// Resolve targets: care P1 in 90 minutes (an alert created two hours
	// ago and unresolved is past it; resolved in five minutes, in time), pr
	// P1 in two and a half hours (two hours is past 80% of it: near).
	targets := map[string]map[string]time.Duration{"care": {"P1": 90 * time.Minute}, "pr": {"P1": 150 * time.Minute}}
	q := DeskQuery{Since: now.Add(-7 * 24 * time.Hour), Now: now, MaxBreached: 100, ResolveTargets: targets}
	c, err := tab.DeskCounts(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	open, breached := c.Open, c.Breached
	want := map[string]map[string]uint64{
		"care": {"new": 4, "claimed": 2, "resolved": 1}, // new-late, new-ontime, reopened, near
		"pr":   {"new": 2},
	}
	for q, states := range want {
		for s, n := range states {
			if open[q][s] != n {
				t.Errorf("%s %s: %d, want %d (all: %v)", q, s, open[q][s], n, open)
			}
		}
	}
	if len(open["care"]) != 3 || len(open["pr"]) != 1 {
		t.Errorf("counts %v", open)
	}
	got := map[AlertKey]bool{}
	for _, k := range breached {
		got[k] = true
	}
	if len(breached) != 3 || !got[AlertKey{"care", "new-late"}] || !got[AlertKey{"care", "claimed-late"}] || !got[AlertKey{"pr", "acked-late"}] {
		t.Errorf("breached %v", breached)
	}
	// new-ontime: created two hours ago, due in an hour: 2/3 of its window,
	// not near; near: created 2 h ago, due in 20 min (6/7).
	if c.NearBreach["care"] != 1 || len(c.NearBreach) != 1 {
		t.Errorf("near breach %v, want care 1 (near)", c.NearBreach)
	}
	// Resolving: every unresolved one of care and pr past 80% (those created
	// two hours ago, but "resolved" in five minutes and "old" out of the
	// window), resolved ones only past the target.
	res := map[string]ResolveClock{}
	for _, r := range c.Resolving {
		res[r.ID] = r
	}
	for _, id := range []string{"new-late", "new-ontime", "claimed-late", "claimed-ontime", "reopened", "near", "unclaimed", "acked-late"} {
		if r, ok := res[id]; !ok || !r.ResolvedAt.IsZero() || r.Priority != "P1" || !r.CreatedAt.Equal(t0) {
			t.Errorf("resolving %s: %+v %v", id, r, ok)
		}
	}
	if len(res) != 8 {
		t.Errorf("resolving %v", c.Resolving)
	}
	c2, err := tab.DeskCounts(ctx, DeskQuery{Since: q.Since, Now: now, MaxBreached: 100,
		ResolveTargets: map[string]map[string]time.Duration{"care": {"P1": 3 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := findClock(c2.Resolving, "resolved"); r == nil || !r.ResolvedAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("resolved after its 3-minute target: %+v", r)
	}
	// Breaches whose deadline passed before BreachedFrom (a process's
	// start) are left out: the counter of a restarted API counts each once.
	late := q
	late.BreachedFrom = t0.Add(10 * time.Minute)
	if c, err := tab.DeskCounts(ctx, late); err != nil || len(c.Breached) != 2 || findKey(c.Breached, "acked-late") {
		t.Errorf("breached from %v: %v %v, want the two due at t0+15m", late.BreachedFrom, c.Breached, err)
	}
	bounded := q
	bounded.MaxBreached = 1
	if c, err := tab.DeskCounts(ctx, bounded); err != nil || len(c.Breached) != 1 || len(c.Resolving) != 1 {
		t.Errorf("bounded lists: %v %v %v", c.Breached, c.Resolving, err)
	}
}

func findClock(cs []ResolveClock, id string) *ResolveClock {
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	return nil
}

func findKey(ks []AlertKey, id string) bool {
	for _, k := range ks {
		if k.ID == id {
			return true
		}
	}
	return false
}

// DeskEventsSince lists the desk events of the queues asked for from a
// time on, oldest first, bounded; not other queues', not other events.
func TestDeskEventsSince(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	tab := &AlertTables{Conn: conn, DB: db}
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	for i, r := range []DeskEventRow{
		{AlertID: "a1", Queue: "care", Event: "desk.claim", At: t0, EventID: "old"},
		{AlertID: "a1", Queue: "care", Event: "desk.note", At: t0.Add(2 * time.Minute), EventID: "n1"},
		{AlertID: "a2", Queue: "care", Event: "desk.assign", At: t0.Add(time.Minute), EventID: "as1"},
		{AlertID: "b1", Queue: "legal", Event: "desk.claim", At: t0.Add(time.Minute), EventID: "other-team"},
	} {
		r.Actor, r.Seq = "rita", uint64(i)
		if err := tab.AddDeskEvent(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.AddEvent(ctx, "a2", "care", "acknowledged", "rita", t0.Add(time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	got, err := tab.DeskEventsSince(ctx, []string{"care", "pr"}, t0.Add(time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.Queue+"/"+r.ID+"/"+r.EventID)
	}
	if want := "[care/a2/as1 care/a1/n1]"; fmt.Sprint(ids) != want || !got[0].At.Equal(t0.Add(time.Minute)) {
		t.Errorf("since: %v, want %s", got, want)
	}
	if got, err := tab.DeskEventsSince(ctx, []string{"care"}, t0, 1); err != nil || len(got) != 1 || got[0].EventID != "old" {
		t.Errorf("bounded: %v %v", got, err)
	}
	if got, err := tab.DeskEventsSince(ctx, nil, t0, 10); err != nil || len(got) != 0 {
		t.Errorf("no queues: %v %v", got, err)
	}
}
