package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// wantClosedByPlatform checks that a is a retracted alert whose desk reads
// resolved, outcome retracted, by the platform, at the retraction's time.
func wantClosedByPlatform(t *testing.T, a Alert, at time.Time) {
	t.Helper()
	d := a.Desk
	if !a.Retracted || d.State != StateResolved || d.Outcome != OutcomeRetracted || d.ResolvedBy != ActorPlatform || !d.ResolvedAt.Equal(at) || !d.SnoozedUntil.IsZero() {
		t.Fatalf("retracted alert's desk: retracted=%v %+v, want resolved, retracted by platform at %s", a.Retracted, d, at)
	}
}

// deskRefusesRetracted: every action that changes the state or holder of
// a retracted alert is a conflict that says so, for a responder and a
// coach alike; a note and a link are taken.
func deskRefusesRetracted(t *testing.T, st DeskStore, queue, id string, at0 int) {
	t.Helper()
	ctx := context.Background()
	for i, act := range stateActions {
		for _, coach := range []bool{false, true} {
			e := ev(act, "sam", at0+i)
			e.ID += "-retracted"
			if coach {
				e.ID += "-coach"
			}
			_, changed, err := st.Act(ctx, queue, id, e, coach)
			if !errors.Is(err, ErrDeskConflict) || changed || !strings.Contains(err.Error(), "retracted") {
				t.Errorf("%s on a retracted alert (coach %v): changed=%v err=%v, want a conflict that says it was retracted", act, coach, changed, err)
			}
		}
	}
	for i, act := range []string{ActNote, ActLink} {
		if a, changed, err := st.Act(ctx, queue, id, ev(act, "sam", at0+50+i), false); err != nil || !changed || a.Desk.Outcome != OutcomeRetracted {
			t.Errorf("%s on a retracted alert: changed=%v err=%v desk %+v", act, changed, err, a.Desk)
		}
	}
}

// TestDeskRetractedAlertIsClosedByThePlatform (in-memory store): an alert
// whose post is retracted reads as resolved (outcome retracted, by
// platform) and leaves the open counts; the claim and note made before stay
// on it; no action but a note or a link is taken; when the pipeline raises
// the alert again (the post edited back into a watchlist) the desk is the
// responders' again.
func TestDeskRetractedAlertIsClosedByThePlatform(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	m.Add(Alert{ID: "a1", Queue: "care", CreatedAt: deskT0})
	m.Add(Alert{ID: "a2", Queue: "care", CreatedAt: deskT0})
	for _, e := range []DeskEvent{ev(ActClaim, "rita", 1), ev(ActNote, "rita", 2), ev(ActSnooze, "rita", 3)} {
		if _, _, err := m.Act(ctx, "care", "a1", e, false); err != nil {
			t.Fatal(err)
		}
	}
	retractAt := deskT0.Add(time.Minute)
	m.Add(Alert{ID: "a1", Queue: "care", CreatedAt: retractAt, Retracted: true})
	a, err := m.Get(ctx, "care", "a1")
	if err != nil {
		t.Fatal(err)
	}
	wantClosedByPlatform(t, a, retractAt)
	if a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 {
		t.Fatalf("the responders' work is gone: %+v", a.Desk)
	}
	page, _, _ := m.List(ctx, "care", 0, 10)
	if len(page) != 2 || page[1].ID != "a1" || page[1].Desk.Outcome != OutcomeRetracted || page[0].Desk.State != StateNew {
		t.Fatalf("list: %+v", page)
	}
	if st := m.stats(deskT0); st.open["care"] != [2]uint64{1, 0} {
		t.Fatalf("open counts %v, want 1 new (a2) and none claimed", st.open["care"])
	}
	deskRefusesRetracted(t, m, "care", "a1", 10)
	// A retraction of an alert the store no longer held is kept itself,
	// closed the same way.
	m.Add(Alert{ID: "a3", Queue: "care", CreatedAt: retractAt, Retracted: true})
	if a, _ := m.Get(ctx, "care", "a3"); true {
		wantClosedByPlatform(t, a, retractAt)
	}
	// Raised again: the responders' desk is back, the notes taken since kept.
	m.Add(Alert{ID: "a1", Queue: "care", CreatedAt: deskT0.Add(2 * time.Minute)})
	a, _ = m.Get(ctx, "care", "a1")
	if a.Retracted || a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" || a.Desk.Outcome != "" || len(a.Desk.Notes) != 2 {
		t.Fatalf("raised again: retracted=%v %+v", a.Retracted, a.Desk)
	}
}

// TestDeskRetractedAlertResolvedByAPersonKeepsTheOutcome: an alert a
// responder resolved before its post was retracted keeps that outcome (the
// reply was made), and cannot be reopened.
func TestDeskRetractedAlertResolvedByAPersonKeepsTheOutcome(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	m.Add(Alert{ID: "a1", Queue: "care", CreatedAt: deskT0})
	if _, _, err := m.Act(ctx, "care", "a1", ev(ActResolve, "rita", 1), false); err != nil {
		t.Fatal(err)
	}
	m.Add(Alert{ID: "a1", Queue: "care", CreatedAt: deskT0.Add(time.Minute), Retracted: true})
	a, _ := m.Get(ctx, "care", "a1")
	if a.Desk.State != StateResolved || a.Desk.Outcome != "replied" || a.Desk.ResolvedBy != "rita" {
		t.Fatalf("desk %+v", a.Desk)
	}
	if _, _, err := m.Act(ctx, "care", "a1", ev(ActReopen, "rita", 2), true); !errors.Is(err, ErrDeskConflict) {
		t.Fatalf("reopen of a retracted alert: %v", err)
	}
}

// TestCHAlertsRetractedAlertIsClosedByThePlatform: the same over the
// ClickHouse store, the retraction's time read from its "retracted" event
// in alert_events (the latest of them, when a post was retracted, raised
// again and retracted again).
func TestCHAlertsRetractedAlertIsClosedByThePlatform(t *testing.T) {
	ctx := context.Background()
	tab := &fakeTable{rows: []sink.AlertRow{{ID: "a1", Queue: "care", CreatedAt: deskT0}}}
	c := &CHAlerts{Table: tab}
	for _, e := range []DeskEvent{ev(ActClaim, "rita", 1), ev(ActNote, "rita", 2)} {
		if _, _, err := c.Act(ctx, "care", "a1", e, false); err != nil {
			t.Fatal(err)
		}
	}
	retractAt := deskT0.Add(time.Minute)
	tab.rows[0].Retracted = true
	tab.desk = append(tab.desk,
		sink.DeskEventRow{AlertID: "a1", Queue: "care", Event: "retracted", Actor: "earshot", At: deskT0.Add(30 * time.Second)},
		sink.DeskEventRow{AlertID: "a1", Queue: "care", Event: "retracted", Actor: "earshot", At: retractAt})
	a, err := c.Get(ctx, "care", "a1")
	if err != nil {
		t.Fatal(err)
	}
	wantClosedByPlatform(t, a, retractAt)
	if a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 || a.Desk.Events != 2 {
		t.Fatalf("desk %+v", a.Desk)
	}
	page, _, err := c.List(ctx, "care", 0, 10)
	if err != nil || len(page) != 1 {
		t.Fatal(page, err)
	}
	wantClosedByPlatform(t, page[0], retractAt)
	deskRefusesRetracted(t, c, "care", "a1", 10)
	// Raised again: the sink stores it unretracted.
	tab.rows[0].Retracted = false
	a, _ = c.Get(ctx, "care", "a1")
	if a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" || a.Desk.Outcome != "" {
		t.Fatalf("raised again: %+v", a.Desk)
	}
}

// TestDeskIncidentUpdateKeepsTheDesk (in-memory store): route updates an
// incident's alert under the same id as it grows (sizes 1, 2, 4, …: see
// route.TestIncidentsPageOnce); the update carries the later post and the
// larger size, and the claim, notes and links made on the alert stay.
func TestDeskIncidentUpdateKeepsTheDesk(t *testing.T) {
	ctx := context.Background()
	m := NewMemAlerts(10)
	m.Add(Alert{ID: "inc", Queue: "care", Incident: "c1", IncidentSize: 2, PostKey: "x:1", CreatedAt: deskT0})
	for _, e := range []DeskEvent{ev(ActClaim, "rita", 1), ev(ActNote, "rita", 2), ev(ActLink, "rita", 3)} {
		if _, _, err := m.Act(ctx, "care", "inc", e, false); err != nil {
			t.Fatal(err)
		}
	}
	m.Add(Alert{ID: "inc", Queue: "care", Incident: "c1", IncidentSize: 4, PostKey: "x:4", CreatedAt: deskT0.Add(time.Minute)})
	page, _, _ := m.List(ctx, "care", 0, 10)
	if len(page) != 1 {
		t.Fatalf("the update is another desk item: %d alerts", len(page))
	}
	a := page[0]
	if a.IncidentSize != 4 || a.PostKey != "x:4" || a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 || len(a.Desk.Links) != 1 || a.Desk.Events != 3 {
		t.Fatalf("after the update: size %d post %s desk %+v", a.IncidentSize, a.PostKey, a.Desk)
	}
}

// TestTapPublishesTheStoredDesk: in the embedded mode the live feed's
// alert event for an incident's update or a retraction carries the desk
// the store holds (claimed by rita, her note; then closed by the
// platform), not a fresh one that would show the alert new again.
func TestTapPublishesTheStoredDesk(t *testing.T) {
	m, hub := NewMemAlerts(10), NewHub()
	sub := hub.Subscribe("care", 10)
	defer sub.Close()
	tap := Tap(m, hub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	item := func(id string, size int, retracted bool, at time.Time) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: "acme is down"},
			Alert: &post.Alert{ID: "inc", Queue: "care", Priority: "P2", Rule: "r", Incident: "c1", IncidentSize: size, Retracted: retracted, CreatedAt: at}}
	}
	tap(item("2", 2, false, deskT0))
	<-sub.C
	for _, e := range []DeskEvent{ev(ActClaim, "rita", 1), ev(ActNote, "rita", 2)} {
		if _, _, err := m.Act(context.Background(), "care", "inc", e, false); err != nil {
			t.Fatal(err)
		}
	}
	tap(item("4", 4, false, deskT0.Add(time.Minute)))
	if a := <-sub.C; a.IncidentSize != 4 || a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 {
		t.Fatalf("the update on the feed: size %d desk %+v", a.IncidentSize, a.Desk)
	}
	at := deskT0.Add(2 * time.Minute)
	tap(item("4", 0, true, at))
	a := <-sub.C
	wantClosedByPlatform(t, a, at)
	if a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 {
		t.Fatalf("the retraction on the feed: %+v", a.Desk)
	}
}
