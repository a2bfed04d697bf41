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
