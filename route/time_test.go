package route

import (
	"context"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestRedeliveryAfterShiftChange checks that a post redelivered after the
// shift changed raises the same alert on the same queue with the same
// deadline: the alert is raised as of the post's ingest time, not of its
// processing time, unless it arrives more than maxRaiseLag late.
func TestRedeliveryAfterShiftChange(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	pol := writeFile(t, "routing.yaml", "queues: [care, night]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P2, escalate: {to: night, after: 1h}}\n")
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	ingested := at("2026-11-23T14:50:00Z") // Mon 16:50 Athens: care's team is on duty until 17:00
	route := func(now time.Time) *post.Alert {
		t.Helper()
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.IngestedAt = ingested
		out, err := p.Stage(func() time.Time { return now })(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("stage at %v: %v, %d items", now, err, len(out.Items))
		}
		return out.Items[0].Alert
	}
	first := route(at("2026-11-23T14:50:01Z"))
	if first.Queue != "care" || !first.CreatedAt.Equal(ingested) || !first.DueAt.Equal(at("2026-11-24T08:50:00Z")) {
		t.Fatalf("first delivery = %+v", first)
	}
	for _, now := range []string{"2026-11-23T15:01:00Z", "2026-11-23T15:50:00Z"} { // after 17:00 Athens, within the hour
		again := route(at(now))
		if again.ID != first.ID || again.Queue != first.Queue || again.Team != first.Team || !again.DueAt.Equal(first.DueAt) ||
			!again.EscalateAt.Equal(first.EscalateAt) || !again.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("redelivered at %s = %+v, want as first %+v", now, again, first)
		}
	}
	// More than maxRaiseLag late (a backlog, a replay): the team on duty now.
	late := route(at("2026-11-23T16:00:00Z"))
	if late.ID != first.ID || late.Queue != "care-na" || !late.CreatedAt.Equal(at("2026-11-23T16:00:00Z")) {
		t.Errorf("late delivery = %+v, want raised now on care-na", late)
	}
	// An ingest time ahead of the route stage's clock is not trusted.
	if got := raisedAt(&post.Item{Post: &post.Post{IngestedAt: at("2026-11-23T15:00:00Z")}}, at("2026-11-23T14:00:00Z")); !got.Equal(at("2026-11-23T14:00:00Z")) {
		t.Errorf("raisedAt with a future ingest time = %v, want now", got)
	}
}
