//go:build integration

package api

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// TestDeskFeedAcrossReplicas: two API processes on one ClickHouse. A
// claim and a note made through the first reach the live feed of the
// second (its DeskFeed reads them from alert_events) as an `event: desk`
// with the alert's desk; another team's feed on the second gets only its
// own queue's change, never the first team's.
func TestDeskFeedAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	conn, db := scratchDB(t, "i_deskfeed")
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var items []*post.Item
	for _, a := range []struct{ id, queue string }{{"a1", "care-emea"}, {"b1", "care-apac"}} {
		items = append(items, &post.Item{Post: &post.Post{Platform: "x", ID: a.id, Text: "acme is down", CreatedAt: t0},
			Alert: &post.Alert{ID: a.id, Queue: a.queue, Priority: "P2", Rule: "r", CreatedAt: t0}})
	}
	if out, err := sink.New(conn, db).AlertStage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing the alerts: %v", err)
	}
	tab := &sink.AlertTables{Conn: conn, DB: db}
	onCH := func(_ *Config, d *Deps) { d.Alerts = &CHAlerts{Table: tab} }
	one, two := newEnv(t, onCH), newEnv(t, onCH)
	feedCtx, stop := context.WithCancel(ctx)
	defer stop()
	f := &DeskFeed{Events: tab, Alerts: &CHAlerts{Table: tab}, Hub: two.hub, Every: 100 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go f.Run(feedCtx)

	emea, stop1 := deskFeed(t, two, "responder-emea", "/v1/stream")
	defer stop1()
	apac, stop2 := deskFeed(t, two, "responder-apac", "/v1/stream")
	defer stop2()
	time.Sleep(300 * time.Millisecond) // a round with the feeds followed: the changes below are after it
	wantCode(t, one.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/claim", ""), 200)
	wantCode(t, one.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/notes", `{"text":"called them"}`), 200)
	wantCode(t, one.do("responder-apac", "POST", "/v1/queues/care-apac/alerts/b1/claim", ""), 200)

	got := collect(t, emea, "a1")
	if got[0] != (feedEvent{"desk", "care-emea", "a1", "claimed"}) {
		t.Errorf("the second replica's EMEA feed: %v, want a1's claim", got)
	}
	if got := collect(t, apac, "b1"); len(got) != 1 || got[0] != (feedEvent{"desk", "care-apac", "b1", "claimed"}) {
		t.Errorf("the second replica's APAC feed: %v, want only b1's claim", got)
	}
	// Nothing of EMEA's reaches APAC later either.
	select {
	case ev := <-apac:
		t.Errorf("APAC's feed got %v", ev)
	case <-time.After(time.Second):
	}
}
