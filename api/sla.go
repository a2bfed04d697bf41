package api

import (
	"context"
	"log/slog"
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
	if r := a.Desk.ResolvedAt; r.IsZero() {
		s.ResolveBreached = now.After(due)
	} else {
		s.ResolveBreached = r.After(due)
	}
	return s
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
// store at each scrape: earshot_alerts_open{queue,state} (new, claimed)
// and earshot_alerts_sla_breached_total{queue} (each alert counted once,
// when it is first seen breached; the counts outlive the alerts).
type deskCollector struct {
	m   *MemAlerts
	now func() time.Time
}

var (
	openDesc     = prometheus.NewDesc("earshot_alerts_open", "Alerts that are not resolved, by queue and desk state (new, claimed): those held in the in-memory store, or, on ClickHouse, those created in the last 7 days.", []string{"queue", "state"}, nil)
	breachedDesc = prometheus.NewDesc("earshot_alerts_sla_breached_total", "Alerts that missed their first-response deadline, by queue, each counted once by this process.", []string{"queue"}, nil)
)

func (c deskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- openDesc; ch <- breachedDesc }

func (c deskCollector) Collect(ch chan<- prometheus.Metric) {
	open, breached := c.m.stats(c.now())
	for q, n := range open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n[0]), q, StateNew)
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n[1]), q, StateClaimed)
	}
	for q, n := range breached {
		ch <- prometheus.MustNewConstMetric(breachedDesc, prometheus.CounterValue, float64(n), q)
	}
}

// stats counts the open alerts of each queue (new, claimed), marks the
// alerts newly breached and returns the breach counts.
func (m *MemAlerts) stats(now time.Time) (map[string][2]int, map[string]uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	open := map[string][2]int{}
	for name, q := range m.queues {
		var n [2]int
		for _, a := range q.byID {
			switch {
			case a.Retracted: // closed by the platform (Alert.viewed)
			case a.Desk.State == StateNew, a.Desk.State == "":
				n[0]++
			case a.Desk.State == StateClaimed:
				n[1]++
			}
			m.countBreach(a, now)
		}
		open[name] = n
	}
	breached := make(map[string]uint64, len(m.breached))
	for q, n := range m.breached {
		breached[q] = n
	}
	return open, breached
}

// countBreach counts a once, if it is breached at now. m.mu is held.
func (m *MemAlerts) countBreach(a *Alert, now time.Time) {
	if a.breachCounted || a.Retracted {
		return
	}
	if s := SLAOf(a, now); s != nil && s.Breached {
		a.breachCounted = true
		if m.breached == nil {
			m.breached = map[string]uint64{}
		}
		m.breached[a.Queue]++
	}
}

// DeskCounter is an alert table that counts the desk's alerts itself
// (sink.AlertTables, on ClickHouse): the open alerts per queue and state,
// and the breached ones, of the alerts created since since.
type DeskCounter interface {
	DeskCounts(ctx context.Context, since, now time.Time, maxBreached int) (map[string]map[string]uint64, []sink.AlertKey, error)
}

// The distributed mode's desk metrics: one query every slaEvery at most,
// whatever the scrapes, over the alerts created in the last slaWindow.
const (
	slaWindow      = 7 * 24 * time.Hour
	slaEvery       = 30 * time.Second
	slaTimeout     = 10 * time.Second
	slaMaxBreached = 100_000   // breached alerts read per refresh
	slaCounted     = 1_000_000 // breached alerts remembered as counted
)

// chDeskCollector exports earshot_alerts_open{queue,state} and
// earshot_alerts_sla_breached_total{queue} from ClickHouse: the gauges
// are the last refresh's counts; the counter counts each breached alert
// once in the process's life (the last slaCounted of them remembered).
type chDeskCollector struct {
	t   DeskCounter
	now func() time.Time
	log *slog.Logger

	mu       sync.Mutex
	at       time.Time // of the last refresh, tried or not
	open     map[string]map[string]uint64
	breached map[string]uint64
	counted  map[sink.AlertKey]bool
	ring     []sink.AlertKey // counted, oldest first once full
	next     int
}

func newCHDeskCollector(t DeskCounter, log *slog.Logger) *chDeskCollector {
	return &chDeskCollector{t: t, now: time.Now, log: log, breached: map[string]uint64{}, counted: map[sink.AlertKey]bool{}}
}

func (c *chDeskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- openDesc; ch <- breachedDesc }

func (c *chDeskCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.at.IsZero() || now.Sub(c.at) >= slaEvery {
		c.at = now
		c.refresh(now)
	}
	for q, states := range c.open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(states[StateNew]), q, StateNew)
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(states[StateClaimed]), q, StateClaimed)
	}
	for q, n := range c.breached {
		ch <- prometheus.MustNewConstMetric(breachedDesc, prometheus.CounterValue, float64(n), q)
	}
}

// refresh reads the counts; on an error the last ones stay. c.mu is held.
func (c *chDeskCollector) refresh(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), slaTimeout)
	defer cancel()
	open, breached, err := c.t.DeskCounts(ctx, now.Add(-slaWindow), now, slaMaxBreached)
	if err != nil {
		c.log.Warn("desk metrics not refreshed", "err", err)
		return
	}
	c.open = open
	for _, k := range breached {
		if c.counted[k] {
			continue
		}
		if len(c.ring) < slaCounted {
			c.ring = append(c.ring, k)
		} else {
			delete(c.counted, c.ring[c.next])
			c.ring[c.next] = k
			c.next = (c.next + 1) % slaCounted
		}
		c.counted[k] = true
		c.breached[k.Queue]++
	}
}
