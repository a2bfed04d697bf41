package route

import (
	"context"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Without the ClickHouse sink, the route stage keeps its timed escalations
// in memory and the escalation job fires them: an alert still open at its
// escalate_at is escalated once; one whose post was deleted is not.
func TestTimedEscalationInMemory(t *testing.T) {
	p, err := load(t, actionsPolicy)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	timers := NewTimers(0)
	stage := stage(func() *Policy { return p }, func() time.Time { return t0 }, stageOptions{timers: timers})
	run := func(its ...*post.Item) []*post.Item {
		out, err := stage(context.Background(), post.Batch{Items: its})
		if err != nil {
			t.Fatal(err)
		}
		return out.Items
	}
	influential := func(it *post.Item) { it.Enrichment.Influence = 71.4 }
	raised := run(richItem("1", influential), richItem("2", influential), richItem("3", func(*post.Item) {}))
	if len(raised) != 3 || raised[0].Alert.EscalateTo != "pr" {
		t.Fatalf("raised %d alerts", len(raised))
	}
	if n, _ := timers.Len(); n != 2 {
		t.Fatalf("%d timers kept, want the 2 alerts with escalate.after", n)
	}
	run(&post.Item{Post: &post.Post{Platform: "x", ID: "2", Kind: post.KindDelete}})

	var produced []*post.Item
	produce := func(_ context.Context, items []*post.Item) error { produced = append(produced, items...); return nil }
	if n, err := p.EscalateOverdue(context.Background(), timers, produce, t0.Add(59*time.Minute)); n != 0 || err != nil {
		t.Fatalf("escalated %d (%v) before the deadline", n, err)
	}
	n, err := p.EscalateOverdue(context.Background(), timers, produce, t0.Add(time.Hour))
	if err != nil || n != 1 || len(produced) != 1 {
		t.Fatalf("escalated %d (%v), want the one alert whose post was not deleted", n, err)
	}
	if a := produced[0].Alert; a.Queue != "pr" || a.Reason != "escalation" || a.Of != raised[0].Alert.ID {
		t.Errorf("escalation = %+v", a)
	}
	if n, _ := p.EscalateOverdue(context.Background(), timers, produce, t0.Add(2*time.Hour)); n != 0 {
		t.Errorf("escalated %d again", n)
	}

	small := NewTimers(2)
	for _, id := range []string{"a", "b", "c"} {
		small.add(&post.Item{Post: &post.Post{ID: id}, Alert: &post.Alert{ID: id, EscalateTo: "pr", EscalateAt: t0}})
	}
	if kept, dropped := small.Len(); kept != 2 || dropped != 1 {
		t.Errorf("over capacity: kept %d, dropped %d; want 2 and 1", kept, dropped)
	}
}
