package api

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/sink"
)

// SLA is an alert's first-response clock as the desk sees it. The
// deadline is the alert's due_at, which route set from the queue's SLA
// for the priority in calendar or business time (the org file's
// sla_clock); the first response is the first claim, assignment or
// resolve on the desk, or the acknowledgement, whichever came first.
type SLA struct {
	FirstResponseDue     time.Time `json:"first_response_due,omitzero"`
	FirstResponseSeconds int64     `json:"first_response_seconds,omitempty"` // from created_at to the first response
	ResolveSeconds       int64     `json:"resolve_seconds,omitempty"`        // from created_at to the resolve
	Breached             bool      `json:"breached,omitempty"`               // answered late, or unanswered past the deadline
	NearBreach           bool      `json:"near_breach,omitempty"`            // unanswered, past 80% of its window
	ResolveDue           time.Time `json:"resolve_due,omitzero"`             // the queue's resolve target (org file), if it has one
	ResolveBreached      bool      `json:"resolve_breached,omitempty"`       // resolved after it, or unresolved past it
	ResolveNearBreach    bool      `json:"resolve_near_breach,omitempty"`    // unresolved, past 80% of the time to it
}

// withResolve adds the resolve target due to the clock s of a at now.
func withResolve(s *SLA, a *Alert, due, now time.Time) *SLA {
	if due.IsZero() || a.Retracted {
		return s
	}
	if s == nil {
		s = &SLA{}
	}
	s.ResolveDue = due
	s.ResolveBreached, s.ResolveNearBreach = resolveClock(a.CreatedAt, a.Desk.ResolvedAt, due, now)
	return s
}

// resolveClock says whether an alert created at created and resolved at
// resolved (zero: not yet) missed its resolve target due as of now, or,
// unresolved, is past 80% of the time to it.
func resolveClock(created, resolved, due, now time.Time) (breached, near bool) {
	if !resolved.IsZero() {
		return resolved.After(due), false
	}
	if now.After(due) {
		return true, false
	}
	window := due.Sub(created)
	return false, window > 0 && now.Sub(created) >= window*4/5
}

// firstResponse is when the alert was first answered, or zero.
func firstResponse(a *Alert) time.Time {
	f := a.Desk.FirstResponseAt
	if !a.AcknowledgedAt.IsZero() && (f.IsZero() || a.AcknowledgedAt.Before(f)) {
		f = a.AcknowledgedAt
	}
	return f
}

// SLAOf is the clock of a at now; nil when the alert has no deadline and
// no answer to time.
func SLAOf(a *Alert, now time.Time) *SLA {
	s := SLA{FirstResponseDue: a.DueAt}
	f := firstResponse(a)
	if !f.IsZero() && !a.CreatedAt.IsZero() {
		s.FirstResponseSeconds = int64(max(f.Sub(a.CreatedAt), 0) / time.Second)
	}
	if !a.Desk.ResolvedAt.IsZero() && !a.CreatedAt.IsZero() {
		s.ResolveSeconds = int64(max(a.Desk.ResolvedAt.Sub(a.CreatedAt), 0) / time.Second)
	}
	if !a.DueAt.IsZero() {
		if f.IsZero() {
			s.Breached = now.After(a.DueAt)
			window := a.DueAt.Sub(a.CreatedAt)
			s.NearBreach = !s.Breached && window > 0 && now.Sub(a.CreatedAt) >= window*4/5
		} else {
			s.Breached = f.After(a.DueAt)
		}
	}
	if s == (SLA{}) {
		return nil
	}
	return &s
}

// deskCollector exports the desk's gauges and counters of the in-memory
// store at each scrape (see the descriptions below). A breach is counted
// once per alert, and only when its deadline passed after the store's
// countFrom (the process's start): an alert delivered again, after a
// restart too, is not counted twice; the counts outlive the alerts.
type deskCollector struct {
	m   *MemAlerts
	now func() time.Time
}

var (
	openDesc            = prometheus.NewDesc("earshot_alerts_open", "Alerts that are not resolved, by queue and desk state (new, claimed): those held in the in-memory store, or, on ClickHouse, those created in the last 7 days.", []string{"queue", "state"}, nil)
	breachedDesc        = prometheus.NewDesc("earshot_alerts_sla_breached_total", "Alerts that missed their first-response deadline, by queue, each counted once, when the deadline passed while this process ran.", []string{"queue"}, nil)
	nearBreachDesc      = prometheus.NewDesc("earshot_alerts_sla_near_breach", "Alerts unanswered past 80% of the time to their first-response deadline, not yet due, by queue.", []string{"queue"}, nil)
	resolveBreachedDesc = prometheus.NewDesc("earshot_alerts_resolve_breached_total", "Alerts that missed their resolve target (org file queues[].resolve), by queue, each counted once, when the target passed while this process ran.", []string{"queue"}, nil)
	resolveNearDesc     = prometheus.NewDesc("earshot_alerts_resolve_near_breach", "Alerts unresolved past 80% of the time to their resolve target, not yet due, by queue.", []string{"queue"}, nil)
)

func describeDesk(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{openDesc, breachedDesc, nearBreachDesc, resolveBreachedDesc, resolveNearDesc} {
		ch <- d
	}
}

// deskStats are the desk's metrics, by queue.
type deskStats struct {
	open                      map[string][2]uint64 // new, claimed
	near, resolveNear         map[string]uint64
	breached, resolveBreached map[string]uint64
}

func (st deskStats) collect(ch chan<- prometheus.Metric) {
	for q, n := range st.open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n[0]), q, StateNew)
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n[1]), q, StateClaimed)
	}
	for _, m := range []struct {
		d *prometheus.Desc
		t prometheus.ValueType
		n map[string]uint64
	}{{nearBreachDesc, prometheus.GaugeValue, st.near}, {resolveNearDesc, prometheus.GaugeValue, st.resolveNear},
		{breachedDesc, prometheus.CounterValue, st.breached}, {resolveBreachedDesc, prometheus.CounterValue, st.resolveBreached}} {
		for q, n := range m.n {
			ch <- prometheus.MustNewConstMetric(m.d, m.t, float64(n), q)
		}
	}
}

func (c deskCollector) Describe(ch chan<- *prometheus.Desc) { describeDesk(ch) }

func (c deskCollector) Collect(ch chan<- prometheus.Metric) { c.m.stats(c.now()).collect(ch) }

// countClocks sets what the breach counters count: the breaches whose
// deadline passed at or after from, and the resolve targets resolveDue.
func (m *MemAlerts) countClocks(from time.Time, resolveDue func(queue, priority string, created time.Time) time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.countFrom, m.resolveDue = from, resolveDue
}

// stats counts the open alerts of each queue (new, claimed) and those
// near a breach, marks the alerts newly breached and returns the breach
// counts.
func (m *MemAlerts) stats(now time.Time) deskStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := deskStats{open: map[string][2]uint64{}, near: map[string]uint64{}, resolveNear: map[string]uint64{}}
	if m.breached == nil {
		m.breached, m.resolveBreached = map[string]uint64{}, map[string]uint64{}
	}
	for name, q := range m.queues {
		var n [2]uint64
		var near, resolveNear uint64
		for _, a := range q.byID {
			if a.Retracted { // closed by the platform (Alert.viewed): no clock runs
				continue
			}
			switch a.Desk.State {
			case StateNew, "":
				n[0]++
			case StateClaimed:
				n[1]++
			}
			s, resolveS := m.countBreach(a, now)
			if s != nil && s.NearBreach {
				near++
			}
			if resolveS.ResolveNearBreach {
				resolveNear++
			}
		}
		st.open[name], st.near[name], st.resolveNear[name] = n, near, resolveNear
		m.breached[name] += 0 // a counter of every queue, from 0
		m.resolveBreached[name] += 0
	}
	st.breached, st.resolveBreached = maps.Clone(m.breached), maps.Clone(m.resolveBreached)
	return st
}

// countBreach counts a once per clock, if it is breached at now and its
// deadline passed at or after m.countFrom, and returns its clocks (the
// first response's, or nil; the resolve target's, zero without one). m.mu
// is held.
func (m *MemAlerts) countBreach(a *Alert, now time.Time) (*SLA, SLA) {
	if a.Retracted {
		return nil, SLA{}
	}
	if m.breached == nil {
		m.breached, m.resolveBreached = map[string]uint64{}, map[string]uint64{}
	}
	s := SLAOf(a, now)
	if s != nil && s.Breached && !a.breachCounted {
		a.breachCounted = true
		if !a.DueAt.Before(m.countFrom) {
			m.breached[a.Queue]++
		}
	}
	if m.resolveDue == nil || a.CreatedAt.IsZero() {
		return s, SLA{}
	}
	due := m.resolveDue(a.Queue, a.Priority, a.CreatedAt)
	if due.IsZero() {
		return s, SLA{}
	}
	var r SLA
	r.ResolveBreached, r.ResolveNearBreach = resolveClock(a.CreatedAt, a.Desk.ResolvedAt, due, now)
	if r.ResolveBreached && !a.resolveCounted {
		a.resolveCounted = true
		if !due.Before(m.countFrom) {
			m.resolveBreached[a.Queue]++
		}
	}
	return s, r
}

// DeskCounter is an alert table that counts the desk's alerts itself
// (sink.AlertTables, on ClickHouse).
type DeskCounter interface {
	DeskCounts(ctx context.Context, q sink.DeskQuery) (sink.DeskCounts, error)
}

// The distributed mode's desk metrics: one query every slaEvery at most,
// whatever the scrapes, over the alerts created in the last slaWindow.
const (
	slaWindow      = 7 * 24 * time.Hour
	slaEvery       = 30 * time.Second
	slaTimeout     = 10 * time.Second
	slaMaxBreached = 100_000   // breached alerts (and resolve clocks) read per refresh
	slaCounted     = 1_000_000 // breached alerts remembered as counted, per clock
)

// chDeskCollector exports the desk's metrics from ClickHouse: the gauges
// are the last refresh's counts; the counters count each breached alert
// once in the process's life (the last slaCounted of them remembered),
// and only those whose deadline passed after start, so that a restarted
// process does not count again what it counted before.
type chDeskCollector struct {
	t          DeskCounter
	now        func() time.Time
	log        *slog.Logger
	start      time.Time                                                 // zero: count every breach in the window
	resolveDue func(queue, priority string, created time.Time) time.Time // nil: no resolve targets
	targets    map[string]map[string]time.Duration

	mu             sync.Mutex
	at             time.Time // of the last refresh, tried or not
	st             deskStats
	counted        recentSet[sink.AlertKey] // first-response breaches
	resolveCounted recentSet[sink.AlertKey]
}

func newCHDeskCollector(t DeskCounter, log *slog.Logger) *chDeskCollector {
	return &chDeskCollector{t: t, now: time.Now, log: log,
		st:      deskStats{breached: map[string]uint64{}, resolveBreached: map[string]uint64{}},
		counted: newRecentSet[sink.AlertKey](slaCounted), resolveCounted: newRecentSet[sink.AlertKey](slaCounted)}
}

func (c *chDeskCollector) Describe(ch chan<- *prometheus.Desc) { describeDesk(ch) }

func (c *chDeskCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.at.IsZero() || now.Sub(c.at) >= slaEvery {
		c.at = now
		c.refresh(now)
	}
	c.st.collect(ch)
}

// refresh reads the counts; on an error the last ones stay. c.mu is held.
func (c *chDeskCollector) refresh(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), slaTimeout)
	defer cancel()
	q := sink.DeskQuery{Since: now.Add(-slaWindow), Now: now, BreachedFrom: c.start, MaxBreached: slaMaxBreached}
	if c.resolveDue != nil {
		q.ResolveTargets = c.targets
	}
	r, err := c.t.DeskCounts(ctx, q)
	if err != nil {
		c.log.Warn("desk metrics not refreshed", "err", err)
		return
	}
	c.st.open = make(map[string][2]uint64, len(r.Open))
	c.st.near, c.st.resolveNear = map[string]uint64{}, map[string]uint64{}
	for queue, states := range r.Open { // every queue's series, from 0
		c.st.open[queue] = [2]uint64{states[StateNew], states[StateClaimed]}
		c.st.near[queue], c.st.resolveNear[queue] = 0, 0
		c.st.breached[queue] += 0
		c.st.resolveBreached[queue] += 0
	}
	for queue, n := range r.NearBreach {
		c.st.near[queue] = n
	}
	for _, k := range r.Breached {
		if c.counted.add(k) {
			c.st.breached[k.Queue]++
		}
	}
	for _, rc := range r.Resolving {
		if c.resolveDue == nil {
			break
		}
		due := c.resolveDue(rc.Queue, rc.Priority, rc.CreatedAt)
		if due.IsZero() {
			continue
		}
		breached, near := resolveClock(rc.CreatedAt, rc.ResolvedAt, due, now)
		if near {
			c.st.resolveNear[rc.Queue]++
		}
		if breached && !due.Before(c.start) && c.resolveCounted.add(rc.AlertKey) {
			c.st.resolveBreached[rc.Queue]++
		}
	}
}
