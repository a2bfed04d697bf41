package route

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// memOverdue is an in-memory OverdueAlerts for the unit test; the
// ClickHouse one is tested against the real server in package sink.
type memOverdue struct {
	alerts    []*post.Item
	acked     map[string]bool
	escalated map[string]bool
}

func (m *memOverdue) Overdue(_ context.Context, now time.Time, limit int) ([]*post.Item, error) {
	var out []*post.Item
	for _, it := range m.alerts {
		a := it.Alert
		if a.EscalateTo != "" && !a.EscalateAt.After(now) && !m.acked[a.ID] && !m.escalated[a.ID] && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (m *memOverdue) MarkEscalated(_ context.Context, items []*post.Item, _ time.Time) error {
	for _, it := range items {
		m.escalated[it.Alert.ID] = true
	}
	return nil
}

func TestEscalateOverdue(t *testing.T) {
	p, err := load(t, actionsPolicy)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	stage := p.Stage(func() time.Time { return t0 })
	store := &memOverdue{acked: map[string]bool{}, escalated: map[string]bool{}}
	for _, id := range []string{"1", "2", "3"} {
		out, _ := stage(context.Background(), post.Batch{Items: []*post.Item{richItem(id, func(it *post.Item) { it.Enrichment.Influence = 71.4 })}})
		store.alerts = append(store.alerts, out.Items...)
	}
	store.acked[store.alerts[1].Alert.ID] = true // answered in time

	var produced []*post.Item
	fail := errors.New("broker down")
	produce := func(_ context.Context, items []*post.Item) error {
		if fail != nil {
			return fail
		}
		produced = append(produced, items...)
		return nil
	}
	if n, _ := p.EscalateOverdue(context.Background(), store, produce, t0.Add(59*time.Minute)); n != 0 {
		t.Fatalf("escalated %d before the deadline", n)
	}
	// The broker is down: nothing is marked, so the next round tries again.
	if _, err := p.EscalateOverdue(context.Background(), store, produce, t0.Add(time.Hour)); !errors.Is(err, fail) || len(store.escalated) != 0 {
		t.Fatalf("err %v, marked %v", err, store.escalated)
	}
	fail = nil
	n, err := p.EscalateOverdue(context.Background(), store, produce, t0.Add(time.Hour))
	if err != nil || n != 2 || len(produced) != 2 {
		t.Fatalf("escalated %d (%v), produced %d; want the two unacknowledged alerts", n, err, len(produced))
	}
	for i, e := range produced {
		orig := store.alerts[[]int{0, 2}[i]].Alert
		a := e.Alert
		if a.Queue != "pr" || a.Reason != "escalation" || a.Of != orig.ID || a.ID != AlertID(orig.ID, "escalation:pr") || !a.CreatedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("escalation %d = %+v", i, a)
		}
		if e.Post != store.alerts[[]int{0, 2}[i]].Post {
			t.Errorf("escalation %d does not carry its post", i)
		}
	}
	if n, _ := p.EscalateOverdue(context.Background(), store, produce, t0.Add(2*time.Hour)); n != 0 {
		t.Errorf("escalated %d again", n)
	}
}
