package sink

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// AlertRow is a row of the alerts_latest view: an alert as the sink wrote
// it, with its latest acknowledgement (times are UTC; a zero time is
// "none", which ClickHouse stores as the epoch).
type AlertRow struct {
	ID, Queue, Team, Priority, Rule, PostKey string
	Watchlists                               []string
	Region, Incident                         string
	Market                                   string
	IncidentSize                             int
	Spike, Retracted                         bool
	HandedOffFrom                            string
	Unstaffed                                bool
	CreatedAt, DueAt                         time.Time
	Payload                                  string // the alert's item as JSON
	AcknowledgedAt                           time.Time
	AcknowledgedBy                           string
}

// AlertTables reads the stored alerts and writes the responders' events
// on them (alert_events), for the API.
type AlertTables struct {
	Conn    driver.Conn
	DB      string
	Now     func() time.Time // inserted_at; nil: time.Now
	Cluster bool             // the database is on a cluster (sink.cluster): subqueries are GLOBAL
}

const alertSelect = "SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, " +
	"handed_off_from, unstaffed, created_at, due_at, payload, acknowledged_at, acknowledged_by, market FROM "

func (t *AlertTables) query(ctx context.Context, where string, args ...any) ([]AlertRow, error) {
	return t.scan(ctx, alertSelect+t.DB+".alerts_latest "+where, args...)
}

// scan runs q, which selects alertSelect's columns, and reads its rows.
func (t *AlertTables) scan(ctx context.Context, q string, args ...any) ([]AlertRow, error) {
	rows, err := t.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertRow
	for rows.Next() {
		var a AlertRow
		var size uint32
		var spike, retracted, unstaffed uint8
		if err := rows.Scan(&a.ID, &a.Queue, &a.Team, &a.Priority, &a.Rule, &a.PostKey, &a.Watchlists, &a.Region, &a.Incident, &size,
			&spike, &retracted, &a.HandedOffFrom, &unstaffed, &a.CreatedAt, &a.DueAt, &a.Payload, &a.AcknowledgedAt, &a.AcknowledgedBy, &a.Market); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		a.IncidentSize, a.Spike, a.Retracted, a.Unstaffed = int(size), spike != 0, retracted != 0, unstaffed != 0
		a.CreatedAt, a.DueAt, a.AcknowledgedAt = a.CreatedAt.UTC(), zeroEpoch(a.DueAt), zeroEpoch(a.AcknowledgedAt)
		out = append(out, a)
	}
	return out, rows.Err()
}

// zeroEpoch turns ClickHouse's 1970-01-01 "none" into the zero time.
func zeroEpoch(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// Latest lists up to limit alerts of queue, newest first, after skipping
// offset: what alerts_latest gives, ordered by created_at (newest first)
// and alert_id. LIMIT offset, n works on 18.16 and current releases.
//
// It orders the queue by its key columns first (FINAL over alert_id,
// created_at, post_key and the version: the latest version of each, as
// the view has it), reads the whole rows (payloads) of the page's alerts
// only, and the acknowledgements of the queue's events (the light key
// columns; cheaper than a second pass of the ordering to pick the page's),
// where the view would read every alert's payload and every
// acknowledgement of the database to give 50. The deletions are looked up
// by the queue's post_keys (their key), not made into a set whole: with
// millions of deleted posts that set was most of the cost. It still grows
// with the queue: on 18.16 about 20 ms of the server's CPU for 100,000
// alerts and their 100,000 events, 140 ms for 100,000 alerts with 1,000,000
// events and 2,000,000 deletions (BENCHMARKS.md).
func (t *AlertTables) Latest(ctx context.Context, queue string, offset, limit int) ([]AlertRow, error) {
	global := ""
	if t.Cluster {
		global = "GLOBAL "
	}
	page := fmt.Sprintf(`SELECT alert_id FROM %[1]s.alerts FINAL PREWHERE queue = ?
			WHERE post_key %[2]sNOT IN (
				SELECT post_key FROM %[1]s.deletions
				WHERE post_key %[2]sIN (SELECT post_key FROM %[1]s.alerts PREWHERE queue = ?))
			ORDER BY created_at DESC, alert_id LIMIT %[3]d`, t.DB, global, offset+limit)
	q := fmt.Sprintf(`SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted,
			handed_off_from, unstaffed, created_at, due_at, payload, acknowledged_at, acknowledged_by, market
		FROM (SELECT * FROM %[1]s.alerts FINAL PREWHERE queue = ? AND alert_id %[2]sIN (%[3]s)) AS a
		%[2]sANY LEFT JOIN (
			SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by
			FROM %[1]s.alert_events PREWHERE queue = ?
			WHERE event = 'acknowledged'
			GROUP BY alert_id
		) AS ack USING alert_id
		ORDER BY created_at DESC, alert_id LIMIT %[4]d, %[5]d`, t.DB, global, page, offset, limit)
	return t.scan(ctx, q, queue, queue, queue, queue)
}

// Find returns the alert id of queue, if it is stored, with its latest
// acknowledgement (as the alerts_latest view would give it): FindDesk
// without the desk.
func (t *AlertTables) Find(ctx context.Context, queue, id string) (AlertRow, bool, error) {
	a, _, found, err := t.FindDesk(ctx, queue, id)
	return a, found, err
}

// FindDesk returns the alert id of queue, if it is stored, with its latest
// acknowledgement and its desk events (as DeskEvents gives them), in one
// query: a desk action reads the alert once.
//
// It reads what the alerts_latest view would give for the one alert, with
// the queue and id inside the subqueries: 18.16 does not push a WHERE into
// a view, and the view merges every alert and every acknowledgement of the
// database. Every read is bounded by the alert's own index granules,
// however large the tables grow:
//   - the key is a PREWHERE, so of the alert's granule (8,192 alerts)
//     only the key columns are read whole, not every alert's payload
//     (18.16 moves no condition to PREWHERE under FINAL; the key columns
//     are the same in every version of a row, so filtering before FINAL
//     keeps the same row);
//   - the deletions are looked up by the alert's post_key (their key),
//     not read whole for a NOT IN;
//   - the events are the alert's (the table's key starts with queue and
//     alert_id), gathered into arrays in one row beside the alert.
func (t *AlertTables) FindDesk(ctx context.Context, queue, id string) (AlertRow, []DeskEventRow, bool, error) {
	global := ""
	if t.Cluster {
		global = "GLOBAL "
	}
	q := fmt.Sprintf(`SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted,
			handed_off_from, unstaffed, created_at, due_at, payload, market,
			ev_event, ev_actor, ev_at, ev_note, ev_event_id, ev_seq, ev_assignee, ev_outcome, ev_snoozed_until, ev_url
		FROM (
			SELECT * FROM %[1]s.alerts FINAL PREWHERE queue = ? AND alert_id = ?
			WHERE post_key %[2]sNOT IN (
				SELECT post_key FROM %[1]s.deletions
				WHERE post_key %[2]sIN (SELECT post_key FROM %[1]s.alerts PREWHERE queue = ? AND alert_id = ?))
		) AS a
		%[2]sANY LEFT JOIN (
			SELECT alert_id, groupArray(event) AS ev_event, groupArray(actor) AS ev_actor, groupArray(at) AS ev_at, groupArray(note) AS ev_note,
				groupArray(event_id) AS ev_event_id, groupArray(seq) AS ev_seq, groupArray(assignee) AS ev_assignee,
				groupArray(outcome) AS ev_outcome, groupArray(snoozed_until) AS ev_snoozed_until, groupArray(url) AS ev_url
			FROM %[1]s.alert_events PREWHERE queue = ? AND alert_id = ?
			WHERE event = 'acknowledged' OR event = '%[3]s' OR event LIKE 'desk.%%'
			GROUP BY alert_id
		) AS ev USING alert_id
		LIMIT 1`, t.DB, global, RetractedEvent)
	rows, err := t.Conn.Query(ctx, q, queue, id, queue, id, queue, id)
	if err != nil {
		return AlertRow{}, nil, false, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return AlertRow{}, nil, false, rows.Err()
	}
	var a AlertRow
	var size uint32
	var spike, retracted, unstaffed uint8
	var ev struct {
		event, actor, note, eventID, assignee, outcome, url []string
		at, until                                           []time.Time
		seq                                                 []uint64
	}
	if err := rows.Scan(&a.ID, &a.Queue, &a.Team, &a.Priority, &a.Rule, &a.PostKey, &a.Watchlists, &a.Region, &a.Incident, &size,
		&spike, &retracted, &a.HandedOffFrom, &unstaffed, &a.CreatedAt, &a.DueAt, &a.Payload, &a.Market,
		&ev.event, &ev.actor, &ev.at, &ev.note, &ev.eventID, &ev.seq, &ev.assignee, &ev.outcome, &ev.until, &ev.url); err != nil {
		return AlertRow{}, nil, false, fmt.Errorf("alerts: %w", err)
	}
	a.IncidentSize, a.Spike, a.Retracted, a.Unstaffed = int(size), spike != 0, retracted != 0, unstaffed != 0
	a.CreatedAt, a.DueAt = a.CreatedAt.UTC(), zeroEpoch(a.DueAt)
	var desk []DeskEventRow
	for i, event := range ev.event {
		if i >= len(ev.url) { // groupArrays of one group are as long as each other
			return AlertRow{}, nil, false, fmt.Errorf("alerts: %d events, %d urls", len(ev.event), len(ev.url))
		}
		if event == "acknowledged" {
			// The first acknowledgement, as the view's min(at), argMin(actor, at).
			if at := ev.at[i].UTC(); a.AcknowledgedAt.IsZero() || at.Before(a.AcknowledgedAt) || at.Equal(a.AcknowledgedAt) && ev.actor[i] < a.AcknowledgedBy {
				a.AcknowledgedAt, a.AcknowledgedBy = at, ev.actor[i]
			}
			continue
		}
		desk = append(desk, deskEventRow(id, queue, event, ev.actor[i], ev.at[i], ev.note[i], ev.eventID[i], ev.seq[i], ev.assignee[i], ev.outcome[i], ev.until[i], ev.url[i]))
	}
	sortDeskEvents(desk)
	return a, desk, true, rows.Err()
}

// AddEvent writes an event (such as "acknowledged") on an alert to
// alert_events, through a batch: 18.16 hangs on an INSERT with bound values.
func (t *AlertTables) AddEvent(ctx context.Context, id, queue, event, actor string, at time.Time, note string) error {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	b, err := t.Conn.PrepareBatch(ctx, "INSERT INTO "+t.DB+".alert_events ("+alertEventColumns+")")
	if err != nil {
		return fmt.Errorf("alert_events: %w", err)
	}
	if err := b.Append(id, queue, event, actor, at.UTC(), note, now().UTC()); err != nil {
		b.Abort()
		return fmt.Errorf("alert_events: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("alert_events: %w", err)
	}
	return nil
}

// DeskEventRow is a responder's action on an alert (claim, assign,
// snooze, resolve, a note, a link) in alert_events: Event is "desk." and
// the action (stored as "desk.<action>:<event_id>", see migration 8);
// times are UTC, a zero time "none".
type DeskEventRow struct {
	AlertID, Queue, Event, Actor string
	At                           time.Time
	Note                         string // a note's text, a link's title
	EventID                      string // the Idempotency-Key, or a random id
	Seq                          uint64 // orders the events of one second
	Assignee, Outcome            string
	SnoozedUntil                 time.Time
	URL                          string
}

// deskEventColumns is the insert column list of a desk event.
const deskEventColumns = "alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at"

// AddDeskEvent writes a desk event to alert_events. A retried insert of
// the same event (same event_id and time) collapses into one row.
func (t *AlertTables) AddDeskEvent(ctx context.Context, r DeskEventRow) error {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	b, err := t.Conn.PrepareBatch(ctx, "INSERT INTO "+t.DB+".alert_events ("+deskEventColumns+")")
	if err != nil {
		return fmt.Errorf("alert_events: %w", err)
	}
	until := r.SnoozedUntil.UTC()
	if r.SnoozedUntil.IsZero() {
		until = time.Unix(0, 0).UTC()
	}
	if err := b.Append(r.AlertID, r.Queue, r.Event+":"+r.EventID, r.Actor, r.At.UTC(), r.Note, r.EventID, r.Seq, r.Assignee, r.Outcome, until, r.URL, now().UTC()); err != nil {
		b.Abort()
		return fmt.Errorf("alert_events: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("alert_events: %w", err)
	}
	return nil
}

// RetractedEvent is the event the sink writes to alert_events when an
// alert is retracted (its post deleted, or edited out of every watchlist).
const RetractedEvent = "retracted"

// DeskEvents reads the desk events of the alerts ids of queue, each
// alert's in the order they happened, with their retracted events (Event
// RetractedEvent: the desk shows a retracted alert closed by the platform
// as of the latest). At most 1,000 ids a call. The ids are an IN set, which
// the table's key (queue, alert_id, …) serves: only their granules are
// read (has() would read every event of the queue on 18.16), and of those
// only the key columns whole (PREWHERE). It reads
// without FINAL (which merges every part of the table, and each desk
// event is a part until a merge): a retried insert of an event may come
// back twice, with the same event_id, which the fold applies once.
func (t *AlertTables) DeskEvents(ctx context.Context, queue string, ids []string) (map[string][]DeskEventRow, error) {
	out := map[string][]DeskEventRow{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > 1000 {
		return nil, fmt.Errorf("alert_events: %d alerts in one read, at most 1000", len(ids))
	}
	set := clickhouse.GroupSet{Value: make([]any, len(ids))}
	for i, id := range ids {
		set.Value[i] = id
	}
	rows, err := t.Conn.Query(ctx, "SELECT alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url FROM "+t.DB+
		".alert_events PREWHERE queue = ? AND alert_id IN ? WHERE event LIKE 'desk.%' OR event = 'retracted' ORDER BY alert_id, at, seq, event_id", queue, set)
	if err != nil {
		return nil, fmt.Errorf("alert_events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r DeskEventRow
		if err := rows.Scan(&r.AlertID, &r.Queue, &r.Event, &r.Actor, &r.At, &r.Note, &r.EventID, &r.Seq, &r.Assignee, &r.Outcome, &r.SnoozedUntil, &r.URL); err != nil {
			return nil, fmt.Errorf("alert_events: %w", err)
		}
		r = deskEventRow(r.AlertID, r.Queue, r.Event, r.Actor, r.At, r.Note, r.EventID, r.Seq, r.Assignee, r.Outcome, r.SnoozedUntil, r.URL)
		out[r.AlertID] = append(out[r.AlertID], r)
	}
	return out, rows.Err()
}

// deskEventRow is a stored desk event as the API reads it: the event's
// name without its ":<event_id>", times in UTC, no snooze a zero time.
func deskEventRow(id, queue, event, actor string, at time.Time, note, eventID string, seq uint64, assignee, outcome string, until time.Time, url string) DeskEventRow {
	event, _, _ = strings.Cut(event, ":")
	return DeskEventRow{AlertID: id, Queue: queue, Event: event, Actor: actor, At: at.UTC(), Note: note, EventID: eventID, Seq: seq,
		Assignee: assignee, Outcome: outcome, SnoozedUntil: zeroEpoch(until), URL: url}
}

// sortDeskEvents puts one alert's events in the order DeskEvents reads
// them: at, seq, event_id.
func sortDeskEvents(rows []DeskEventRow) {
	slices.SortStableFunc(rows, func(a, b DeskEventRow) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if a.Seq != b.Seq {
			if a.Seq < b.Seq {
				return -1
			}
			return 1
		}
		return strings.Compare(a.EventID, b.EventID)
	})
}

// AuditRow is a row of audit_log: one change made through the API or the CLI.
type AuditRow struct {
	At                   time.Time
	Actor, Role, Action  string
	ObjectType, ObjectID string
	Before, After        string // JSON, or empty
	RequestID            string
}

// auditColumns is the insert column list of {db}.audit_log.
const auditColumns = "at, actor, role, action, object_type, object_id, before, after, request_id, inserted_at"

// AuditTable writes the audit log's records to audit_log, whose
// ReplacingMergeTree key (object_type, object_id, at, request_id) folds
// together a record inserted twice.
type AuditTable struct {
	Conn driver.Conn
	DB   string
}

// Insert writes rows in one batch.
func (t *AuditTable) Insert(ctx context.Context, rows []AuditRow) error {
	b, err := t.Conn.PrepareBatch(ctx, "INSERT INTO "+t.DB+".audit_log ("+auditColumns+")")
	if err != nil {
		return fmt.Errorf("audit_log: preparing: %w", err)
	}
	now := time.Now().UTC()
	for _, r := range rows {
		if err := b.Append(r.At.UTC(), r.Actor, r.Role, r.Action, r.ObjectType, r.ObjectID, r.Before, r.After, r.RequestID, now); err != nil {
			b.Abort()
			return fmt.Errorf("audit_log: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("audit_log: inserting %d records: %w", len(rows), err)
	}
	return nil
}

// AlertKey names one alert.
type AlertKey struct{ Queue, ID string }

// DeskCounts counts the alerts created since since that are neither
// retracted nor deleted, per queue and desk state (new, claimed, resolved:
// the state the last claim, assign, unclaim, resolve or reopen left), and
// lists up to maxBreached of them that missed their first-response deadline
// by now: due before now and first answered (claimed, assigned, resolved or
// acknowledged) after it, or not at all. Two aggregating queries whatever
// the number of alerts: the cost is bounded by the window, not by the
// table's age (alerts is partitioned by month of created_at).
func (t *AlertTables) DeskCounts(ctx context.Context, since, now time.Time, maxBreached int) (map[string]map[string]uint64, []AlertKey, error) {
	global := ""
	if t.Cluster {
		global = "GLOBAL "
	}
	since, now = since.UTC().Truncate(time.Second), now.UTC().Truncate(time.Second)
	alerts := fmt.Sprintf(`(SELECT queue, alert_id, due_at FROM %[1]s.alerts FINAL
		WHERE created_at >= ? AND retracted = 0 AND post_key %[2]sNOT IN (SELECT post_key FROM %[1]s.deletions)) AS a`, t.DB, global)
	q := fmt.Sprintf(`SELECT queue, multiIf(last IN ('desk.claim', 'desk.assign'), 'claimed', last = 'desk.resolve', 'resolved', 'new') AS state, count() AS n
		FROM (
			SELECT queue, last FROM %[2]s
			%[3]sANY LEFT JOIN (
				SELECT alert_id, argMax(splitByChar(':', event)[1], seq) AS last
				FROM %[1]s.alert_events
				WHERE at >= ? AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.unclaim', 'desk.resolve', 'desk.reopen')
				GROUP BY alert_id
			) AS ev USING alert_id
		)
		GROUP BY queue, state`, t.DB, alerts, global)
	rows, err := t.Conn.Query(ctx, q, since, since)
	if err != nil {
		return nil, nil, fmt.Errorf("counting alerts by desk state: %w", err)
	}
	open := map[string]map[string]uint64{}
	for rows.Next() {
		var queue, state string
		var n uint64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("counting alerts by desk state: %w", err)
		}
		if open[queue] == nil {
			open[queue] = map[string]uint64{}
		}
		open[queue][state] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("counting alerts by desk state: %w", err)
	}
	q = fmt.Sprintf(`SELECT queue, alert_id FROM %[2]s
		%[3]sANY LEFT JOIN (
			SELECT alert_id, min(at) AS first
			FROM %[1]s.alert_events
			WHERE at >= ? AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.resolve', 'acknowledged')
			GROUP BY alert_id
		) AS ev USING alert_id
		WHERE due_at > toDateTime(0) AND due_at < ? AND (first = toDateTime(0) OR first > due_at)
		ORDER BY queue, alert_id
		LIMIT %[4]d`, t.DB, alerts, global, maxBreached)
	rows, err = t.Conn.Query(ctx, q, since, since, now)
	if err != nil {
		return nil, nil, fmt.Errorf("listing breached alerts: %w", err)
	}
	defer rows.Close()
	var breached []AlertKey
	for rows.Next() {
		var k AlertKey
		if err := rows.Scan(&k.Queue, &k.ID); err != nil {
			return nil, nil, fmt.Errorf("listing breached alerts: %w", err)
		}
		breached = append(breached, k)
	}
	return open, breached, rows.Err()
}
