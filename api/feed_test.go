package api

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// fakeTail hands out its records for the topics asked for, then returns err.
type fakeTail struct {
	records map[string][]stream.Delivery
	asked   []string
	err     error
}

func (f *fakeTail) Tail(ctx context.Context, topics []string, fn func(string, stream.Delivery)) error {
	f.asked = append([]string(nil), topics...)
	for _, t := range topics {
		for _, d := range f.records[t] {
			fn(t, d)
		}
	}
	return f.err
}

func TestLiveFeedPublishesAlertsOfItsTopics(t *testing.T) {
	alert := func(id, queue string) stream.Delivery {
		return stream.Delivery{Item: &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: "acme", CreatedAt: time.Now()},
			Alert: &post.Alert{ID: "al-" + id, Queue: queue, Priority: "P2", Rule: "r", CreatedAt: time.Now()}}}
	}
	src := &fakeTail{records: map[string][]stream.Delivery{
		"e.alerts.care": {
			{Err: errors.New("not an item"), Raw: []byte("junk")},
			{Item: &post.Item{Post: &post.Post{Platform: "x", ID: "1", Text: "no alert"}}},
			alert("2", "care"),
		},
		"e.alerts.pr": {alert("3", "pr")},
	}, err: errors.New("broker gone")}
	hub := NewHub()
	care, pr := hub.Subscribe("care", 8), hub.Subscribe("pr", 8)
	f := &LiveFeed{Source: src, Topics: map[string]string{"care": "e.alerts.care", "pr": "e.alerts.pr"}, Hub: hub, Log: slog.New(slog.DiscardHandler)}
	if err := f.Run(context.Background()); err == nil || err.Error() != "broker gone" {
		t.Fatalf("Run: %v, want the source's error", err)
	}
	slices.Sort(src.asked)
	if !slices.Equal(src.asked, []string{"e.alerts.care", "e.alerts.pr"}) {
		t.Fatalf("tailed %v", src.asked)
	}
	if a := <-care.C; a.ID != "al-2" || a.Queue != "care" {
		t.Fatalf("care got %+v", a)
	}
	if a := <-pr.C; a.ID != "al-3" {
		t.Fatalf("pr got %+v", a)
	}
	select {
	case a := <-care.C:
		t.Fatalf("care got a second alert: %+v", a)
	default:
	}
}
