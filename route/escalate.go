package route

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// OverdueAlerts is where the escalation job finds alerts past their
// escalate_at that nobody has acknowledged, and records what it escalated.
// The sink's ClickHouse tables are one (alerts, alert_events).
type OverdueAlerts interface {
	// Overdue returns up to limit alerts (as the items on their queue) with
	// escalate_at at or before now, not acknowledged, not retracted, and not
	// escalated yet.
	Overdue(ctx context.Context, now time.Time, limit int) ([]*post.Item, error)
	// MarkEscalated records that the alerts were escalated at t.
	MarkEscalated(ctx context.Context, escalated []*post.Item, t time.Time) error
}

// Escalation returns the copy of it's alert raised on its escalation queue,
// or nil when the alert has no escalation. The copy's id derives from the
// alert's, so escalating twice (a retry, two route processes) names the
// same alert; and it is raised as of the alert's escalate_at (or of t when
// the job runs more than maxRaiseLag late), so a retry after a shift change
// lands on the same queue with the same deadline.
func (p *Policy) Escalation(it *post.Item, t time.Time) *post.Item {
	a := it.Alert
	if a == nil || a.EscalateTo == "" || a.Retracted {
		return nil
	}
	c := p.raise(a.EscalateTo, a.Priority, a.Rule, asOf(a.EscalateAt, t))
	c.ID, c.Of, c.Reason = AlertID(a.ID, "escalation:"+a.EscalateTo), a.ID, "escalation"
	c.Incident, c.IncidentSize = a.Incident, a.IncidentSize
	return withAlert(it, c)
}

// EscalateOverdue raises the escalations of every overdue alert in store:
// it produces them first and then marks them, so a failure between the
// two repeats an escalation (same id) rather than losing one.
func (p *Policy) EscalateOverdue(ctx context.Context, store OverdueAlerts, produce func(context.Context, []*post.Item) error, now time.Time) (int, error) {
	const limit = 1000
	total := 0
	for {
		due, err := store.Overdue(ctx, now, limit)
		if err != nil {
			return total, fmt.Errorf("finding overdue alerts: %w", err)
		}
		var out []*post.Item
		for _, it := range due {
			if e := p.Escalation(it, now); e != nil {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			if err := produce(ctx, out); err != nil {
				return total, fmt.Errorf("producing %d escalations: %w", len(out), err)
			}
		}
		if len(due) > 0 {
			if err := store.MarkEscalated(ctx, due, now); err != nil {
				return total, fmt.Errorf("recording %d escalations: %w", len(due), err)
			}
		}
		total += len(out)
		if len(due) < limit {
			return total, nil
		}
	}
}

// RunEscalations checks for overdue alerts every interval until ctx ends,
// under the policy current returns at each round. A failed round is logged
// and retried at the next tick: the alerts stay overdue, so nothing is lost.
func RunEscalations(ctx context.Context, current func() *Policy, store OverdueAlerts, produce func(context.Context, []*post.Item) error, every time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := current().EscalateOverdue(ctx, store, produce, now().UTC())
			if err != nil && ctx.Err() == nil {
				log.Warn("escalating overdue alerts; retrying at the next round", "err", err)
			}
			if n > 0 {
				log.Info("escalated overdue alerts", "count", n)
			}
		}
	}
}
