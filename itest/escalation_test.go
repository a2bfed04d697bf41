//go:build integration

package itest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/sink"
)

// TestEscalationFromClickHouse raises alerts that escalate after an hour,
// stores them through the sink on the real server, acknowledges one, and
// runs the escalation job: the other is escalated once, with the copy's
// id derived from it, and an escalated event is recorded.
func TestEscalationFromClickHouse(t *testing.T) {
	_, db := names(t)
	ctx := context.Background()
	conn := migratedDB(t, db)
	path := filepath.Join(t.TempDir(), "routing.yaml")
	os.WriteFile(path, []byte(`queues: [care, pr]
rules:
  - name: care
    when: {sentiment: [negative]}
    queue: care
    priority: P2
    escalate: {to: pr, after: 1h}
`), 0o644)
	policy, err := route.LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	var in []*post.Item
	for _, id := range []string{"e1", "e2"} {
		in = append(in, &post.Item{
			Post:       &post.Post{Platform: "x", ID: id, Text: "acme is down", CreatedAt: t0},
			Matches:    []post.Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}},
			Enrichment: &post.Enrichment{SentimentLabel: "negative", Region: "EMEA"},
		})
	}
	alerts, err := policy.Stage(func() time.Time { return t0 })(ctx, post.Batch{Items: in})
	if err != nil || len(alerts.Items) != 2 {
		t.Fatalf("route: %v, %d alerts", err, len(alerts.Items))
	}
	s := sink.New(conn, db)
	if out, err := s.AlertStage()(ctx, alerts); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing alerts: %v %+v", err, out.Rejected)
	}
	acked := alerts.Items[0].Alert
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".alert_events (alert_id, queue, event, actor, at, note, inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	b.Append(acked.ID, acked.Queue, "acknowledged", "nikos", t0.Add(10*time.Minute), "", time.Now())
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}

	store := sink.NewEscalations(conn, db)
	var produced []*post.Item
	produce := func(_ context.Context, items []*post.Item) error { produced = append(produced, items...); return nil }
	if n, err := policy.EscalateOverdue(ctx, store, produce, t0.Add(59*time.Minute)); err != nil || n != 0 {
		t.Fatalf("before the deadline: escalated %d, %v", n, err)
	}
	n, err := policy.EscalateOverdue(ctx, store, produce, time.Now().UTC())
	if err != nil || n != 1 {
		t.Fatalf("escalated %d, %v; want the unacknowledged alert only", n, err)
	}
	open := alerts.Items[1].Alert
	if a := produced[0].Alert; a.Queue != "pr" || a.Of != open.ID || a.ID != route.AlertID(open.ID, "escalation:pr") || a.Reason != "escalation" || produced[0].Post.ID != "e2" {
		t.Errorf("escalation = %+v of post %s", a, produced[0].Post.ID)
	}
	if n, err := policy.EscalateOverdue(ctx, store, produce, time.Now().UTC()); err != nil || n != 0 {
		t.Errorf("a second round escalated %d more (%v)", n, err)
	}
	if got := count(t, conn, "SELECT count() FROM "+db+".alert_events WHERE event = 'escalated' AND alert_id = '"+open.ID+"'"); got != 1 {
		t.Errorf("escalated events = %d, want 1", got)
	}
}
