//go:build integration

package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// TestDeskIncidentsAndRetractionsOnClickHouse: on the real ClickHouse
// (127.0.0.1:9000, 18.16), an incident's alert updated by the sink to a
// larger incident_size keeps its id and its desk (claim, note); once the
// sink stores its retraction, a store that did not write it reads the
// alert as resolved, outcome retracted, by the platform, as of the
// retraction, refuses a claim and takes a note; DeskCounts leaves it out.
func TestDeskIncidentsAndRetractionsOnClickHouse(t *testing.T) {
	ctx := context.Background()
	conn, db := scratchDB(t, "i_deskretract")
	store := sink.New(conn, db).AlertStage()
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	put := func(postID string, a post.Alert) {
		t.Helper()
		a.Queue, a.Priority, a.Rule = "care", "P2", "r"
		items := post.Batch{Items: []*post.Item{{Post: &post.Post{Platform: "x", ID: postID, Text: "acme is down", CreatedAt: a.CreatedAt}, Alert: &a}}}
		if out, err := store(ctx, items); err != nil || len(out.Rejected) > 0 {
			t.Fatalf("storing %s: %v %+v", postID, err, out.Rejected)
		}
	}
	put("p2", post.Alert{ID: "inc-1", CreatedAt: t0, Incident: "c1", IncidentSize: 2})
	tab := &sink.AlertTables{Conn: conn, DB: db}
	w := &CHAlerts{Table: tab}
	at := time.Now().UTC().Truncate(time.Second)
	for _, e := range []DeskEvent{{ID: "c1", Action: ActClaim, Actor: "rita", At: at}, {ID: "n1", Action: ActNote, Actor: "rita", Text: "on it", At: at}} {
		if _, _, err := w.Act(ctx, "care", "inc-1", e, false); err != nil {
			t.Fatal(err)
		}
	}
	put("p4", post.Alert{ID: "inc-1", CreatedAt: t0.Add(time.Minute), Incident: "c1", IncidentSize: 4})
	r := &CHAlerts{Table: tab} // another API process
	page, _, err := r.List(ctx, "care", 0, 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("list after the update: %d alerts, %v", len(page), err)
	}
	if a := page[0]; a.ID != "inc-1" || a.IncidentSize != 4 || a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 {
		t.Fatalf("after the update: size %d desk %+v", a.IncidentSize, a.Desk)
	}
	counts, err := tab.DeskCounts(ctx, sink.DeskQuery{Since: t0.Add(-time.Hour), Now: at, MaxBreached: 10})
	if err != nil || counts.Open["care"]["claimed"] != 1 {
		t.Fatalf("counts before the retraction: %v %v", counts.Open, err)
	}

	retractAt := at.Add(time.Minute)
	put("p4", post.Alert{ID: "inc-1", CreatedAt: retractAt, Retracted: true})
	a, err := r.Get(ctx, "care", "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	wantClosedByPlatform(t, a, retractAt)
	if a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 {
		t.Fatalf("the responders' work is gone: %+v", a.Desk)
	}
	if page, _, err = r.List(ctx, "care", 0, 10); err != nil || len(page) != 1 {
		t.Fatal(page, err)
	}
	wantClosedByPlatform(t, page[0], retractAt)
	if _, _, err := r.Act(ctx, "care", "inc-1", DeskEvent{ID: "c2", Action: ActClaim, Actor: "sam", At: at}, true); !errors.Is(err, ErrDeskConflict) {
		t.Fatalf("claim of a retracted alert: %v", err)
	}
	if a, changed, err := r.Act(ctx, "care", "inc-1", DeskEvent{ID: "n2", Action: ActNote, Actor: "sam", Text: "post gone", At: at}, false); err != nil || !changed || len(a.Desk.Notes) != 2 {
		t.Fatalf("note on a retracted alert: %v %v %+v", changed, err, a.Desk)
	}
	counts, err = tab.DeskCounts(ctx, sink.DeskQuery{Since: t0.Add(-time.Hour), Now: at, MaxBreached: 10})
	if err != nil || counts.Open["care"]["claimed"] != 0 || counts.Open["care"]["new"] != 0 {
		t.Fatalf("counts after the retraction: %v %v", counts.Open, err)
	}
}
