package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// eventTable is alert_events as DeskFeed reads it, with alerts to get.
type eventTable struct {
	mu       sync.Mutex
	events   []sink.DeskEventRef
	reads    int
	failGet  map[string]bool
	failRead bool
}

func (e *eventTable) add(queue, id, ev string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, sink.DeskEventRef{AlertKey: sink.AlertKey{Queue: queue, ID: id}, EventID: ev, At: at})
}

func (e *eventTable) DeskEventsSince(_ context.Context, queues []string, since time.Time, limit int) ([]sink.DeskEventRef, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads++
	if e.failRead {
		return nil, errors.New("clickhouse down")
	}
	var out []sink.DeskEventRef
	for _, r := range e.events {
		if slices.Contains(queues, r.Queue) && !r.At.Before(since) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b sink.DeskEventRef) int { return a.At.Compare(b.At) })
	return out[:min(len(out), limit)], nil
}

func (e *eventTable) Get(_ context.Context, queue, id string) (Alert, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failGet[id] {
		return Alert{}, errors.New("clickhouse down")
	}
	n := 0
	for _, r := range e.events {
		if r.Queue == queue && r.ID == id {
			n++
		}
	}
	if n == 0 {
		return Alert{}, ErrAlertNotFound
	}
	return Alert{ID: id, Queue: queue, Desk: Desk{State: StateClaimed, Events: n}}, nil
}

// drain takes what a subscription has now.
func drain(s *Subscription) []string {
	var out []string
	for {
		select {
		case a := <-s.C:
			if !a.deskUpdate {
				out = append(out, "not a desk update: "+a.ID)
			}
			out = append(out, fmt.Sprintf("%s/%s:%d", a.Queue, a.ID, a.Desk.Events))
		default:
			return out
		}
	}
}

// TestDeskFeed: the desk changes another API process stored reach this
// process's live feeds of their queue, each change once (an event read
// again within the lag is not sent again), never a feed of another queue
// (another team's); nothing is read while nobody follows; an alert that
// could not be read is sent on the next round.
func TestDeskFeed(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	now := t0
	tab := &eventTable{failGet: map[string]bool{}}
	hub := NewHub()
	f := &DeskFeed{Events: tab, Alerts: tab, Hub: hub, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: func() time.Time { return now }}
	st := &deskFeedState{from: t0, sent: map[deskSent]time.Time{}}

	tab.add("care", "a1", "e1", t0.Add(-time.Hour)) // before the feed started
	f.round(context.Background(), st)
	if tab.reads != 0 {
		t.Errorf("%d reads with nobody following", tab.reads)
	}
	care := hub.Subscribe("care", 100)
	defer care.Close()
	legal := hub.Subscribe("legal", 100)
	defer legal.Close()

	now = now.Add(2 * time.Second)
	tab.add("care", "a1", "e2", now.Add(-time.Second))
	tab.add("care", "a2", "e3", now.Add(-time.Second))
	tab.add("legal", "b1", "e4", now.Add(-time.Second))
	tab.add("pr", "c1", "e5", now.Add(-time.Second)) // nobody follows pr
	f.round(context.Background(), st)
	if got := drain(care); !slices.Equal(got, []string{"care/a1:2", "care/a2:1"}) {
		t.Errorf("care's feed got %v", got)
	}
	if got := drain(legal); !slices.Equal(got, []string{"legal/b1:1"}) {
		t.Errorf("legal's feed got %v", got)
	}
	// The same events, read again within the lag, are not sent again; a
	// late insert (an event 20 s old) is.
	now = now.Add(2 * time.Second)
	tab.add("care", "a2", "late", now.Add(-20*time.Second))
	f.round(context.Background(), st)
	if got := drain(care); !slices.Equal(got, []string{"care/a2:2"}) {
		t.Errorf("care's feed got %v on the second round, want only the late event's alert", got)
	}
	// An alert that cannot be read now is sent on the next round.
	now = now.Add(2 * time.Second)
	tab.add("care", "a3", "e6", now.Add(-time.Second))
	tab.failGet["a3"] = true
	f.round(context.Background(), st)
	if got := drain(care); len(got) != 0 {
		t.Errorf("sent %v while the alert could not be read", got)
	}
	delete(tab.failGet, "a3")
	now = now.Add(2 * time.Second)
	f.round(context.Background(), st)
	if got := drain(care); !slices.Equal(got, []string{"care/a3:1"}) {
		t.Errorf("care's feed got %v after the read came back", got)
	}
	if got := drain(legal); len(got) != 0 {
		t.Errorf("legal's feed got %v", got)
	}
	// While ClickHouse does not answer nothing is sent; when it answers
	// again the changes made meanwhile are (the feed catches up).
	tab.failRead = true
	for range 30 { // a minute
		now = now.Add(2 * time.Second)
		tab.add("care", "a4", fmt.Sprint("down", now.Unix()), now.Add(-time.Second))
		f.round(context.Background(), st)
	}
	if got := drain(care); len(got) != 0 || !st.down {
		t.Errorf("sent %v while the events could not be read (down %v)", got, st.down)
	}
	tab.failRead = false
	now = now.Add(2 * time.Second)
	f.round(context.Background(), st)
	if got := drain(care); !slices.Equal(got, []string{"care/a4:30"}) || st.down {
		t.Errorf("care's feed got %v after the outage, want a4 with its 30 events (down %v)", got, st.down)
	}
	// The sent set is bounded by the window: old ids are forgotten.
	now = now.Add(time.Minute)
	f.round(context.Background(), st)
	if len(st.sent) != 0 {
		t.Errorf("%d event ids kept past the lag", len(st.sent))
	}
}

// TestDeskFeedBounded: a storm of changes is sent over several rounds,
// deskFeedAlerts alerts a round, none lost; more events in one second
// than a round reads do not hold the feed there forever.
func TestDeskFeedBounded(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	now := t0
	tab := &eventTable{failGet: map[string]bool{}}
	hub := NewHub()
	f := &DeskFeed{Events: tab, Alerts: tab, Hub: hub, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: func() time.Time { return now }}
	st := &deskFeedState{from: t0, sent: map[deskSent]time.Time{}}
	care := hub.Subscribe("care", 10_000)
	defer care.Close()
	n := deskFeedAlerts*2 + 50
	for i := range n {
		tab.add("care", fmt.Sprint("a", i), fmt.Sprint("e", i), t0.Add(time.Duration(i)*10*time.Millisecond).Truncate(time.Second))
	}
	seen := map[string]bool{}
	for round := 0; round < 5; round++ {
		now = now.Add(2 * time.Second)
		f.round(context.Background(), st)
		got := drain(care)
		if len(got) > deskFeedAlerts {
			t.Fatalf("round %d sent %d alerts, at most %d", round, len(got), deskFeedAlerts)
		}
		for _, g := range got {
			seen[g] = true
		}
	}
	if len(seen) != n {
		t.Errorf("%d alerts sent of %d", len(seen), n)
	}
	// More events in one second than a round reads, all of one alert.
	tab2 := &eventTable{failGet: map[string]bool{}}
	f.Events, f.Alerts = tab2, tab2
	at := now.Add(time.Second).Truncate(time.Second)
	for i := range deskFeedEvents + 10 {
		tab2.add("care", "busy", fmt.Sprint("b", i), at)
	}
	st = &deskFeedState{from: at, sent: map[deskSent]time.Time{}}
	for range 3 {
		f.round(context.Background(), st)
	}
	if !st.from.After(at) {
		t.Errorf("the feed is held at %v", st.from)
	}
	if got := drain(care); len(got) != 1 {
		t.Errorf("the busy alert sent %d times, want once", len(got))
	}
}
