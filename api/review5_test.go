package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMemAlertsDeskNotesKeepTheByteBudget: the in-memory store holds at most
// its byte budget per queue (api.alerts_per_queue's "at most 64 MiB per
// queue as well"). Notes grow an alert after it was added: 500 notes of
// 4 KiB are 2 MB on one alert, so a responder noting every alert of a
// quiet queue (no new alert to evict for) took 2 MB × alerts_per_queue.
// A desk change that takes the queue over its budget evicts the oldest
// alerts, as an Add does.
func TestMemAlertsDeskNotesKeepTheByteBudget(t *testing.T) {
	const budget = 256 << 10
	m := NewMemAlertsBytes(1000, budget)
	ctx := context.Background()
	for i := range 20 {
		a, err := AlertFromItem(bigAlertItem(i, "acme refund"))
		if err != nil {
			t.Fatal(err)
		}
		m.Add(a)
	}
	at := time.Now().UTC().Truncate(time.Second)
	note := strings.Repeat("n", maxNoteText)
	for i := range 20 {
		id := bigAlertItem(i, "").Alert.ID
		for j := range 10 {
			e := DeskEvent{ID: fmt.Sprintf("k%d-%d", i, j), Action: ActNote, Actor: "rita", At: at, Text: note}
			if _, _, err := m.Act(ctx, "care", id, e, false); err != nil && err != ErrAlertNotFound {
				t.Fatal(err)
			}
		}
	}
	got, _, _ := m.List(ctx, "care", 0, 1000)
	held := 0
	for _, a := range got {
		held += a.size()
	}
	if held > budget {
		t.Errorf("the queue holds %d bytes in %d alerts after notes, over its budget of %d", held, len(got), budget)
	}
	if len(got) == 0 {
		t.Fatal("every alert evicted")
	}
}

// TestDeskFeedSameKeyOnTwoAlerts: an event's id is the request's
// Idempotency-Key, which names one request on one alert: two alerts (of one
// team or of two) may each have an event of the same key. Each change is
// sent live; the second is not taken for the first read again.
func TestDeskFeedSameKeyOnTwoAlerts(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	now := t0
	tab := &eventTable{failGet: map[string]bool{}}
	hub := NewHub()
	f := &DeskFeed{Events: tab, Alerts: tab, Hub: hub, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: func() time.Time { return now }}
	st := &deskFeedState{from: t0, sent: map[deskSent]time.Time{}}
	care := hub.Subscribe("care", 100)
	defer care.Close()
	legal := hub.Subscribe("legal", 100)
	defer legal.Close()

	now = now.Add(2 * time.Second)
	tab.add("care", "a1", "resolve-batch", now.Add(-time.Second))
	f.round(context.Background(), st)
	if got := drain(care); !slices.Equal(got, []string{"care/a1:1"}) {
		t.Fatalf("care's feed got %v", got)
	}
	now = now.Add(2 * time.Second)
	tab.add("care", "a2", "resolve-batch", now.Add(-time.Second))
	tab.add("legal", "b1", "resolve-batch", now.Add(-time.Second))
	f.round(context.Background(), st)
	if got := drain(care); !slices.Equal(got, []string{"care/a2:1"}) {
		t.Errorf("care's feed got %v, want a2's change (its key was used on a1 before)", got)
	}
	if got := drain(legal); !slices.Equal(got, []string{"legal/b1:1"}) {
		t.Errorf("legal's feed got %v, want b1's change (its key was used on care's a1 before)", got)
	}
}
