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
# HELP earshot_alerts_sla_breached_total Alerts that missed their first-response deadline, by queue, each counted once, when the deadline passed while this process ran.
# TYPE earshot_alerts_sla_breached_total counter
earshot_alerts_sla_breached_total{queue="care"} 1
earshot_alerts_sla_breached_total{queue="pr"} 0
`
	for range 2 { // a second scrape counts nothing twice
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "earshot_alerts_open", "earshot_alerts_sla_breached_total"); err != nil {
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
	calls     int
	open      map[string]map[string]uint64
	breached  []sink.AlertKey
	near      map[string]uint64
	resolving []sink.ResolveClock
	err       error
	last      sink.DeskQuery
}

func (c *counterTable) DeskCounts(_ context.Context, q sink.DeskQuery) (sink.DeskCounts, error) {
	c.calls++
	c.last = q
	if q.Now.Sub(q.Since) != slaWindow || q.MaxBreached != slaMaxBreached {
		return sink.DeskCounts{}, fmt.Errorf("window %v, max %d", q.Now.Sub(q.Since), q.MaxBreached)
	}
	return sink.DeskCounts{Open: c.open, Breached: c.breached, NearBreach: c.near, Resolving: c.resolving}, c.err
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

// value reads the metric name with labels from reg (-1: absent).
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
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

// The resolve clock of an alert: breached when resolved after the target
// or unresolved past it, near when unresolved past 80% of the time to it.
func TestResolveClock(t *testing.T) {
	t0 := deskT0
	due := t0.Add(time.Hour)
	for name, c := range map[string]struct {
		resolved, now  time.Time
		breached, near bool
	}{
		"early":               {time.Time{}, t0.Add(47 * time.Minute), false, false},
		"near":                {time.Time{}, t0.Add(48 * time.Minute), false, true},
		"at the target":       {time.Time{}, due, false, true},
		"past":                {time.Time{}, due.Add(time.Second), true, false},
		"resolved in time":    {t0.Add(59 * time.Minute), due.Add(time.Hour), false, false},
		"resolved late":       {due.Add(time.Second), due.Add(time.Hour), true, false},
		"resolved late, then": {due.Add(time.Second), t0, true, false},
	} {
		if b, n := resolveClock(t0, c.resolved, due, c.now); b != c.breached || n != c.near {
			t.Errorf("%s: breached %v near %v", name, b, n)
		}
	}
	if s := withResolve(nil, &Alert{CreatedAt: t0}, due, t0.Add(50*time.Minute)); s == nil || !s.ResolveNearBreach || s.ResolveBreached {
		t.Errorf("withResolve near: %+v", s)
	}
}

// TestDeskResolveMetrics (in-memory store): the resolve breaches are
// counted once per alert — at a scrape or at the late resolve itself,
// whichever comes first, and not again when the alert is delivered again;
// the near-breach gauges count the alerts near each deadline; a store
// started later (a restarted process, its alerts delivered again) does
// not count the breaches whose deadline passed before its start.
func TestDeskResolveMetrics(t *testing.T) {
	start := deskT0
	now := start
	resolveDue := func(queue, _ string, created time.Time) time.Time {
		if queue != "care" {
			return time.Time{}
		}
		return created.Add(time.Hour)
	}
	newStore := func(from time.Time) (*MemAlerts, *prometheus.Registry) {
		m := NewMemAlertsBytes(10, 1<<20)
		m.now = func() time.Time { return now }
		m.countClocks(from, resolveDue)
		reg := prometheus.NewRegistry()
		reg.MustRegister(deskCollector{m: m, now: func() time.Time { return now }})
		return m, reg
	}
	alerts := []Alert{
		{ID: "before", Queue: "care", Priority: "P2", CreatedAt: start.Add(-3 * time.Hour)},                           // its target passed before the start
		{ID: "late", Queue: "care", Priority: "P2", CreatedAt: start.Add(-30 * time.Minute)},                          // unresolved, target at start+30m
		{ID: "near", Queue: "care", Priority: "P2", CreatedAt: start, DueAt: start.Add(50 * time.Minute)},             // both clocks near at start+49m
		{ID: "slow", Queue: "care", Priority: "P2", CreatedAt: start.Add(-50 * time.Minute)},                          // resolved late, below
		{ID: "other", Queue: "pr", Priority: "P2", CreatedAt: start.Add(-3 * time.Hour), DueAt: start.Add(time.Hour)}, // no resolve target
	}
	m, reg := newStore(start)
	for _, a := range alerts {
		m.Add(a)
	}
	ctx := context.Background()
	now = start.Add(49 * time.Minute)
	if _, _, err := m.Act(ctx, "care", "slow", DeskEvent{ID: "1", Action: ActResolve, Actor: "rita", At: now, Outcome: "replied"}, false); err != nil {
		t.Fatal(err)
	}
	check := func(reg prometheus.Gatherer, breached, near, frNear float64) {
		t.Helper()
		if v := metricValue(t, reg, "earshot_alerts_resolve_breached_total", "care"); v != breached {
			t.Errorf("resolve breached %v, want %v", v, breached)
		}
		if v := metricValue(t, reg, "earshot_alerts_resolve_near_breach", "care"); v != near {
			t.Errorf("resolve near %v, want %v", v, near)
		}
		if v := metricValue(t, reg, "earshot_alerts_sla_near_breach", "care"); v != frNear {
			t.Errorf("first-response near %v, want %v", v, frNear)
		}
		if v := metricValue(t, reg, "earshot_alerts_resolve_breached_total", "pr"); v > 0 {
			t.Errorf("pr (no target) resolve breached %v", v)
		}
	}
	check(reg, 2, 1, 1) // late, slow; near; near
	check(reg, 2, 1, 1) // a second scrape counts nothing twice
	for _, a := range alerts {
		m.Add(a) // delivered again
	}
	now = now.Add(time.Minute)
	check(reg, 2, 1, 1)
	// Ten newer alerts evict all these: the count stays.
	for i := range 10 {
		m.Add(Alert{ID: fmt.Sprint("n", i), Queue: "care", CreatedAt: now})
	}
	check(reg, 2, 0, 0)
	// A restarted process (started at start+35m), the same alerts delivered
	// again: "late" and "before" passed their target before it started
	// (counted by the process before); "slow" is resolved again, late.
	m2, reg2 := newStore(start.Add(35 * time.Minute))
	for _, a := range alerts {
		m2.Add(a)
	}
	if _, _, err := m2.Act(ctx, "care", "slow", DeskEvent{ID: "1", Action: ActResolve, Actor: "rita", At: now, Outcome: "replied"}, false); err != nil {
		t.Fatal(err)
	}
	check(reg2, 0, 1, 1) // slow's target (start+10m) passed before the start too
}

// On ClickHouse, the resolve clocks the table lists are judged by the
// API's targets: each breach counted once, across refreshes, and only
// when its target passed after the process's start; the near-breach
// gauges are the last refresh's.
func TestDeskResolveMetricsOnClickHouse(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clk := start.Add(20 * time.Minute)
	tab := &counterTable{
		open: map[string]map[string]uint64{"care": {StateNew: 3}},
		near: map[string]uint64{"care": 2},
		resolving: []sink.ResolveClock{
			{AlertKey: sink.AlertKey{Queue: "care", ID: "late"}, Priority: "P2", CreatedAt: start.Add(-50 * time.Minute), ResolvedAt: start.Add(15 * time.Minute)},
			{AlertKey: sink.AlertKey{Queue: "care", ID: "open"}, Priority: "P2", CreatedAt: start.Add(-30 * time.Minute)},
			{AlertKey: sink.AlertKey{Queue: "care", ID: "before"}, Priority: "P2", CreatedAt: start.Add(-3 * time.Hour)}, // target passed before the start
			{AlertKey: sink.AlertKey{Queue: "care", ID: "fine"}, Priority: "P2", CreatedAt: start.Add(-50 * time.Minute), ResolvedAt: start},
			{AlertKey: sink.AlertKey{Queue: "gone", ID: "x"}, Priority: "P2", CreatedAt: start.Add(-3 * time.Hour)}, // no target (any more)
		},
	}
	targets := map[string]map[string]time.Duration{"care": {"P2": time.Hour}}
	newCollector := func(from time.Time) *prometheus.Registry {
		c := newCHDeskCollector(tab, nil)
		c.now, c.start, c.targets = func() time.Time { return clk }, from, targets
		c.resolveDue = func(queue, priority string, created time.Time) time.Time {
			if d := targets[queue][priority]; d > 0 {
				return created.Add(d)
			}
			return time.Time{}
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		return reg
	}
	reg := newCollector(start)
	if v := metricValue(t, reg, "earshot_alerts_resolve_breached_total", "care"); v != 1 {
		t.Errorf("resolve breached %v, want 1 (late)", v)
	}
	if v := metricValue(t, reg, "earshot_alerts_resolve_near_breach", "care"); v != 1 {
		t.Errorf("resolve near %v, want 1 (open)", v)
	}
	if v := metricValue(t, reg, "earshot_alerts_sla_near_breach", "care"); v != 2 {
		t.Errorf("first-response near %v, want 2", v)
	}
	if tab.last.BreachedFrom != start || tab.last.ResolveTargets["care"]["P2"] != time.Hour {
		t.Errorf("query %+v", tab.last)
	}
	// Later: open passes its target; late is listed again (not counted twice).
	clk = clk.Add(15 * time.Minute)
	if v := metricValue(t, reg, "earshot_alerts_resolve_breached_total", "care"); v != 2 {
		t.Errorf("resolve breached %v, want 2 (late, open)", v)
	}
	if v := metricValue(t, reg, "earshot_alerts_resolve_near_breach", "care"); v != 0 {
		t.Errorf("resolve near %v, want 0", v)
	}
	// A process started after both targets passed counts neither.
	reg2 := newCollector(clk)
	if v := metricValue(t, reg2, "earshot_alerts_resolve_breached_total", "care"); v > 0 {
		t.Errorf("restarted: resolve breached %v, want none", v)
	}
}
