package api

import (
	"context"
	"fmt"
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
