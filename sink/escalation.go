package sink

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
)

// Escalations finds, in the stored alerts, those past their escalate_at
// that nobody acknowledged, and records their escalation: the store the
// route package's escalation job works on (route.OverdueAlerts).
type Escalations struct {
	conn driver.Conn
	db   string
}

// NewEscalations reads and writes the alerts of database db.
func NewEscalations(conn driver.Conn, db string) *Escalations {
	return &Escalations{conn: conn, db: db}
}

// maxEscalationAge bounds the scan: an alert older than this is not
// escalated any more (route validation keeps escalate.after below it).
const maxEscalationAge = 31 * 24 * time.Hour

// Overdue returns up to limit alerts, oldest first, whose escalate_at has
// passed at now, that are neither acknowledged, resolved, retracted, nor
// escalated already; a claim, assignment or resolve on the desk is an
// answer as an acknowledgement is. escalate_at is read from the stored payload
// (visitParamExtractString: 18.16 has no JSONExtract); it is written in UTC
// RFC 3339, so its first 19 characters compare as text.
func (e *Escalations) Overdue(ctx context.Context, now time.Time, limit int) ([]*post.Item, error) {
	q := fmt.Sprintf(`SELECT payload FROM %[1]s.alerts_latest
		WHERE acknowledged_at = toDateTime(0) AND retracted = 0
			AND created_at >= toDateTime(%[2]d)
			AND position(payload, '"escalate_to"') > 0
			AND substring(visitParamExtractString(payload, 'escalate_at'), 1, 19) <= '%[3]s'
			AND alert_id NOT IN (SELECT alert_id FROM %[1]s.alert_events WHERE event IN ('escalated', 'resolved') OR match(event, '^desk[.](claim|assign|resolve):'))
		ORDER BY created_at, alert_id
		LIMIT %[4]d`, e.db, now.Add(-maxEscalationAge).Unix(), now.UTC().Format("2006-01-02T15:04:05"), limit)
	rows, err := e.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading overdue alerts: %w", err)
	}
	defer rows.Close()
	var out []*post.Item
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			return nil, fmt.Errorf("reading overdue alerts: %w", err)
		}
		it, err := post.Decode([]byte(payload))
		if err != nil || it.Alert == nil || it.Alert.EscalateAt.After(now) {
			continue // not an alert this build can escalate; the query keeps it out next time only if marked
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// MarkEscalated records an escalated event for each alert.
func (e *Escalations) MarkEscalated(ctx context.Context, items []*post.Item, at time.Time) error {
	b, err := e.conn.PrepareBatch(ctx, "INSERT INTO "+e.db+".alert_events ("+alertEventColumns+")")
	if err != nil {
		return fmt.Errorf("preparing escalated events: %w", err)
	}
	defer b.Abort()
	now := time.Now().UTC()
	for _, it := range items {
		a := it.Alert
		if err := b.Append(a.ID, a.Queue, "escalated", "earshot", at.UTC(), "escalated to "+a.EscalateTo, now); err != nil {
			return fmt.Errorf("appending escalated event %s: %w", a.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d escalated events: %w", len(items), err)
	}
	return nil
}
