package route

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// timersCapacity bounds the timed escalations a route process keeps in
// memory: an alert item is some kilobytes, so 100,000 are a few hundred MB
// at worst.
const timersCapacity = 100_000

// Timers is an in-memory OverdueAlerts: the alerts with a timed escalation
// that this route process raised, for where no ClickHouse sink stores them.
// Without the sink nothing records acknowledgements (the API's alert
// endpoints need it), so an alert is overdue when its escalate_at passes
// unless its post was deleted (retracted) meanwhile. The timers are lost on
// restart, and the oldest are dropped beyond the capacity. Safe for
// concurrent use: the route stage adds, the escalation job takes.
type Timers struct {
	mu      sync.Mutex
	cap     int
	order   *list.List // of *post.Item, oldest raised first
	byID    map[string]*list.Element
	dropped int
}

// NewTimers returns empty timers holding up to capacity alerts (0 is the
// default).
func NewTimers(capacity int) *Timers {
	if capacity <= 0 {
		capacity = timersCapacity
	}
	return &Timers{cap: capacity, order: list.New(), byID: map[string]*list.Element{}}
}

// add keeps it (an alert with a timed escalation); a newer version of the
// same alert (an incident update, a redelivery) replaces the older.
func (m *Timers) add(it *post.Item) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byID[it.Alert.ID]; ok {
		m.order.Remove(e)
	}
	m.byID[it.Alert.ID] = m.order.PushBack(it)
	for m.order.Len() > m.cap {
		old := m.order.Remove(m.order.Front()).(*post.Item)
		delete(m.byID, old.Alert.ID)
		m.dropped++
	}
}

// cancel forgets alert id: its post was deleted.
func (m *Timers) cancel(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byID[id]; ok {
		m.order.Remove(e)
		delete(m.byID, id)
	}
}

// Len is how many timers are kept; Dropped how many were dropped over the
// capacity.
func (m *Timers) Len() (kept, dropped int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len(), m.dropped
}

// Overdue returns up to limit alerts whose escalate_at is at or before now.
func (m *Timers) Overdue(_ context.Context, now time.Time, limit int) ([]*post.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*post.Item
	for e := m.order.Front(); e != nil && len(out) < limit; e = e.Next() {
		if it := e.Value.(*post.Item); !it.Alert.EscalateAt.After(now) {
			out = append(out, it)
		}
	}
	return out, nil
}

// MarkEscalated forgets the escalated alerts: each escalates once.
func (m *Timers) MarkEscalated(_ context.Context, escalated []*post.Item, _ time.Time) error {
	for _, it := range escalated {
		m.cancel(it.Alert.ID)
	}
	return nil
}
