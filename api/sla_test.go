package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/sink"
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
# HELP earshot_alerts_open Alerts that are not resolved, by queue and desk state (new, claimed): those held in the in-memory store, or, on ClickHouse, those created in the last 7 days.
# TYPE earshot_alerts_open gauge
earshot_alerts_open{queue="care",state="claimed"} 1
earshot_alerts_open{queue="care",state="new"} 0
earshot_alerts_open{queue="pr",state="claimed"} 0
earshot_alerts_open{queue="pr",state="new"} 1
# HELP earshot_alerts_sla_breached_total Alerts that missed their first-response deadline, by queue, each counted once by this process.
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

// counterTable is an alert table that counts the desk's alerts, as
// ClickHouse does, with answers set by the test.
type counterTable struct {
	fakeTable
	calls    int
	open     map[string]map[string]uint64
	breached []sink.AlertKey
	err      error
}

func (c *counterTable) DeskCounts(_ context.Context, since, now time.Time, max int) (map[string]map[string]uint64, []sink.AlertKey, error) {
	c.calls++
	if now.Sub(since) != slaWindow || max != slaMaxBreached {
		return nil, nil, fmt.Errorf("window %v, max %d", now.Sub(since), max)
	}
	return c.open, c.breached, c.err
}

// In distributed mode (CHAlerts on a table that counts) the API exports
// the desk's gauges and breach counter: at most one query per 30 s
// however often it is scraped, each breached alert counted once, and the
// last counts kept when ClickHouse fails.
func TestDeskMetricsOnClickHouse(t *testing.T) {
	tab := &counterTable{
		open:     map[string]map[string]uint64{"care": {StateNew: 3, StateClaimed: 2, StateResolved: 7}, "pr": {StateNew: 1}},
		breached: []sink.AlertKey{{Queue: "care", ID: "a1"}, {Queue: "care", ID: "a2"}, {Queue: "pr", ID: "b1"}},
	}
	reg := prometheus.NewRegistry()
	tokens, err := OpenTokens(filepath.Join(t.TempDir(), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(DefaultConfig(), Deps{Tokens: tokens, Alerts: &CHAlerts{Table: tab}, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	var c *chDeskCollector
	// The collector registered, found through a second registration.
	if err := reg.Register(newCHDeskCollector(tab, nil)); err == nil {
		t.Fatal("no desk collector registered for CHAlerts")
	} else if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
		c = are.ExistingCollector.(*chDeskCollector)
	}
	clk := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clk }
	value := func(name string, labels ...string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
		next:
			for _, m := range mf.GetMetric() {
				for i, l := range m.GetLabel() {
					if l.GetValue() != labels[i] {
						continue next
					}
				}
				if m.Gauge != nil {
					return m.Gauge.GetValue()
				}
				return m.Counter.GetValue()
			}
		}
		return -1
	}
	if v := value("earshot_alerts_open", "care", StateNew); v != 3 {
		t.Errorf("open care new %v", v)
	}
	if v := value("earshot_alerts_open", "care", StateClaimed); v != 2 {
		t.Errorf("open care claimed %v", v)
	}
	if v := value("earshot_alerts_sla_breached_total", "care"); v != 2 {
		t.Errorf("breached care %v", v)
	}
	calls := tab.calls
	for range 10 {
		value("earshot_alerts_open", "care", StateNew)
	}
	if tab.calls != calls {
		t.Errorf("%d queries for 10 scrapes within 30 s", tab.calls-calls)
	}
	clk = clk.Add(slaEvery)
	tab.breached = append(tab.breached, sink.AlertKey{Queue: "care", ID: "a3"})
	tab.open["care"][StateNew] = 4
	if v := value("earshot_alerts_sla_breached_total", "care"); v != 3 || tab.calls != calls+1 {
		t.Errorf("breached care %v after a new breach (each counted once), %d queries", v, tab.calls-calls)
	}
	clk = clk.Add(slaEvery)
	tab.err = errors.New("clickhouse down")
	if v := value("earshot_alerts_open", "care", StateNew); v != 4 {
		t.Errorf("open care new %v when ClickHouse fails, want the last count", v)
	}
}

// With the org file's resolve targets, each alert's sla says when it is
// due resolved and whether it missed that: an unresolved one past it, or
// one resolved after it; a queue without a target says nothing.
func TestResolveTargetInTheAlertsSLA(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.ResolveDue = func(queue, priority string, created time.Time) time.Time {
			if queue != "care-emea" {
				return time.Time{}
			}
			return created.Add(time.Hour)
		}
	})
	e.alerts.Add(Alert{ID: "fresh", Queue: "care-emea", Priority: "P2", CreatedAt: time.Now().Add(-time.Minute)})
	if r := e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a2/resolve", `{"outcome":"replied"}`); r.code != 200 {
		t.Fatalf("resolve: %d %s", r.code, r.body)
	}
	r := e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts", "")
	var page struct{ Items []Alert }
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	got := map[string]*SLA{}
	for _, a := range page.Items {
		got[a.ID] = a.SLA
	}
	if s := got["a1"]; s == nil || !s.ResolveDue.Equal(time.Unix(1000, 0).Add(time.Hour)) || !s.ResolveBreached {
		t.Errorf("a1 (open, long past its target): %+v", s)
	}
	if s := got["a2"]; s == nil || !s.ResolveBreached { // resolved now, decades late
		t.Errorf("a2 (resolved late): %+v", s)
	}
	if s := got["fresh"]; s == nil || s.ResolveBreached || s.ResolveDue.IsZero() {
		t.Errorf("fresh: %+v", s)
	}
	r = e.do("responder-apac", "GET", "/v1/queues/care-apac/alerts", "")
	if strings.Contains(string(r.body), "resolve_due") {
		t.Errorf("a queue without a target: %s", r.body)
	}
}
