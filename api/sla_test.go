package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSLAOf(t *testing.T) {
	t0 := deskT0
	due := t0.Add(10 * time.Minute)
	for name, c := range map[string]struct {
		a                Alert
		now              time.Time
		breached, near   bool
		first, resolveIn int64
	}{
		"unanswered, early":    {Alert{CreatedAt: t0, DueAt: due}, t0.Add(time.Minute), false, false, 0, 0},
		"unanswered, near":     {Alert{CreatedAt: t0, DueAt: due}, t0.Add(8 * time.Minute), false, true, 0, 0},
		"unanswered, breached": {Alert{CreatedAt: t0, DueAt: due}, due.Add(time.Second), true, false, 0, 0},
		"claimed in time":      {Alert{CreatedAt: t0, DueAt: due, Desk: Desk{State: StateClaimed, FirstResponseAt: t0.Add(5 * time.Minute)}}, due.Add(time.Hour), false, false, 300, 0},
		"claimed late":         {Alert{CreatedAt: t0, DueAt: due, Desk: Desk{State: StateClaimed, FirstResponseAt: due.Add(time.Minute)}}, due.Add(time.Hour), true, false, 660, 0},
		"acked in time, claimed late": {Alert{CreatedAt: t0, DueAt: due, AcknowledgedAt: t0.Add(time.Minute),
			Desk: Desk{State: StateResolved, FirstResponseAt: due.Add(time.Minute), ResolvedAt: due.Add(time.Hour)}}, due.Add(2 * time.Hour), false, false, 60, 4200},
	} {
		s := SLAOf(&c.a, c.now)
		if s == nil || s.Breached != c.breached || s.NearBreach != c.near || s.FirstResponseSeconds != c.first || s.ResolveSeconds != c.resolveIn {
			t.Errorf("%s: %+v", name, s)
		}
	}
	if s := SLAOf(&Alert{CreatedAt: t0}, t0.Add(time.Hour)); s != nil {
		t.Errorf("no deadline, no answer: %+v", s)
	}
}

// TestDeskMetrics: earshot_alerts_open counts the unresolved alerts by
// queue and state; earshot_alerts_sla_breached_total counts an alert
// once, whether it is answered late or seen unanswered past its deadline,
// and the count outlives the alert.
func TestDeskMetrics(t *testing.T) {
	now := deskT0
	m := NewMemAlertsBytes(2, 1<<20)
	m.now = func() time.Time { return now }
	m.Add(Alert{ID: "late", Queue: "care", CreatedAt: now, DueAt: now.Add(time.Minute)})
	m.Add(Alert{ID: "fine", Queue: "care", CreatedAt: now, DueAt: now.Add(time.Hour)})
	m.Add(Alert{ID: "p", Queue: "pr", CreatedAt: now})
	ctx := context.Background()
	now = now.Add(2 * time.Minute)
	if _, _, err := m.Act(ctx, "care", "late", DeskEvent{ID: "1", Action: ActClaim, Actor: "rita", At: now}, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Act(ctx, "care", "fine", DeskEvent{ID: "2", Action: ActClaim, Actor: "rita", At: now}, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Act(ctx, "care", "fine", DeskEvent{ID: "3", Action: ActResolve, Actor: "rita", At: now, Outcome: "spam"}, false); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(deskCollector{m: m, now: func() time.Time { return now }})
	want := `
# HELP earshot_alerts_open Alerts held in the in-memory store that are not resolved, by queue and desk state (new, claimed).
# TYPE earshot_alerts_open gauge
earshot_alerts_open{queue="care",state="claimed"} 1
earshot_alerts_open{queue="care",state="new"} 0
earshot_alerts_open{queue="pr",state="claimed"} 0
earshot_alerts_open{queue="pr",state="new"} 1
# HELP earshot_alerts_sla_breached_total Alerts that missed their first-response deadline, by queue (in-memory store).
# TYPE earshot_alerts_sla_breached_total counter
earshot_alerts_sla_breached_total{queue="care"} 1
`
	for range 2 { // a second scrape counts nothing twice
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
			t.Fatal(err)
		}
	}
	// Two newer alerts evict both care alerts; one of them breaches unanswered.
	m.Add(Alert{ID: "n1", Queue: "care", CreatedAt: now, DueAt: now.Add(time.Minute)})
	m.Add(Alert{ID: "n2", Queue: "care", CreatedAt: now})
	now = now.Add(5 * time.Minute)
	if got := testutil.ToFloat64(breachedOnly{reg}); got != 2 {
		t.Fatalf("breached after eviction and an unanswered breach: %v, want 2", got)
	}
}

// breachedOnly collects the care queue's breach counter from reg.
type breachedOnly struct{ reg *prometheus.Registry }

func (b breachedOnly) Describe(ch chan<- *prometheus.Desc) { ch <- breachedDesc }
func (b breachedOnly) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := b.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "earshot_alerts_sla_breached_total" {
			for _, mm := range mf.GetMetric() {
				if mm.GetLabel()[0].GetValue() == "care" {
					ch <- prometheus.MustNewConstMetric(breachedDesc, prometheus.CounterValue, mm.GetCounter().GetValue(), "care")
				}
			}
		}
	}
}
