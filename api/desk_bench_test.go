package api

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkDeskAct: a claim and a note on one alert of a queue of 100,000
// open alerts in the in-memory store, against Ack (the baseline action of
// the same store) in the same run.
func BenchmarkDeskAct(b *testing.B) {
	const n = 100_000
	m := NewMemAlertsBytes(n, 1<<40)
	for i := range n {
		m.Add(Alert{ID: fmt.Sprintf("a%d", i), Queue: "care", Priority: "P2", CreatedAt: deskT0, DueAt: deskT0.Add(time.Hour)})
	}
	ctx := context.Background()
	b.Run("ack", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := m.Ack(ctx, "care", fmt.Sprintf("a%d", i%n), "rita", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claim+note", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			id := fmt.Sprintf("a%d", i%n)
			if _, _, err := m.Act(ctx, "care", id, DeskEvent{ID: fmt.Sprintf("c%d", i), Action: ActClaim, Actor: "rita", At: deskT0}, false); err != nil {
				b.Fatal(err)
			}
			if _, _, err := m.Act(ctx, "care", id, DeskEvent{ID: fmt.Sprintf("n%d", i), Action: ActNote, Actor: "rita", At: deskT0, Text: "on it"}, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.List(ctx, "care", 0, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
}
