//go:build integration

package sink

import (
	"context"
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
	open, breached, err := tab.DeskCounts(ctx, now.Add(-7*24*time.Hour), now, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]uint64{
		"care": {"new": 3, "claimed": 2, "resolved": 1}, // new-late, new-ontime, reopened
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
	if _, b, err := tab.DeskCounts(ctx, now.Add(-7*24*time.Hour), now, 1); err != nil || len(b) != 1 {
		t.Errorf("bounded list: %v %v", b, err)
	}
}
