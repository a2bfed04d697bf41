package sink

import (
	"context"
	"fmt"
	"strconv"

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
// and alert_id.
//
// alerts is sorted by (queue, alert_id), so finding the newest of a queue
// there reads every alert of the queue (≈ 100 ms of the 18.16 server's CPU
// at 100,000 alerts, FINAL over their keys). alert_times (migration 10) is
// sorted by (queue, created_at, alert_id): Latest reads the created_at of
// the queue's rows there (4 bytes each, the one read that grows with the
// queue) to find the time c of its n-th newest row, n a little over
// offset+limit, and then only what is at or after c, a range of both keys:
// the rows of alert_times from c (every version of every alert has one, so
// every alert whose latest version is at or after c is among them), the
// page picked from the key columns of their latest versions in alerts_desk
// (alerts' copy, migration 11; FINAL, by key) less the deleted posts (looked up by the candidates'
// post_keys), the page's rows whole with their first acknowledgements,
// less those at a time earlier than c (a row of alert_times left behind by
// an update that moved the alert). When fewer than offset+limit are left (the rows
// counted included earlier versions or deleted posts) and the queue has
// older rows, it reads again with 4 times n: each read returns exactly the
// alerts at or after its c, so the newest offset+limit are exact once it
// holds as many (or the queue has no more). LIMIT n works on 18.16 and
// current releases.
func (t *AlertTables) Latest(ctx context.Context, queue string, offset, limit int) ([]AlertRow, error) {
	want := offset + limit
	if want <= 0 || offset < 0 {
		return nil, nil
	}
	for n := want + want/4 + 16; ; n *= 4 {
		cutoff, rows, err := t.cutoff(ctx, queue, n)
		if err != nil {
			return nil, err
		}
		if rows == 0 {
			return nil, nil
		}
		out, err := t.newest(ctx, queue, cutoff, want)
		if err != nil {
			return nil, err
		}
		if len(out) >= want || rows < uint64(n) {
			return out[min(offset, len(out)):], nil
		}
	}
}

// cutoff returns the created_at of the n-th newest row of queue in
// alert_times (the oldest when it has fewer) and how many rows it read (n,
// or fewer: then every row of the queue is at or after the time).
func (t *AlertTables) cutoff(ctx context.Context, queue string, n int) (time.Time, uint64, error) {
	var c time.Time
	var rows uint64
	err := t.Conn.QueryRow(ctx, fmt.Sprintf(`SELECT min(created_at), count() FROM (
			SELECT created_at FROM %s.alert_times PREWHERE queue = ? ORDER BY created_at DESC LIMIT %d)`, t.DB, n), queue).Scan(&c, &rows)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("alerts: the newest %d of queue %q: %w", n, queue, err)
	}
	return c.UTC(), rows, nil
}

// newest returns up to limit alerts of queue created at or after cutoff,
// newest first (created_at, then alert_id), with their acknowledgements
// (fewer when some of the limit newest are earlier than cutoff): the
// candidates are the rows of alert_times from cutoff (a range of its key),
// whose latest versions are read by key from alerts_desk (alerts in
// granules of 256 rows, migration 11: a row's payload costs its granule's
// prefix, not alerts' 8,192) — their key columns to pick the page, then
// the page's whole rows.
func (t *AlertTables) newest(ctx context.Context, queue string, cutoff time.Time, limit int) ([]AlertRow, error) {
	global := ""
	if t.Cluster {
		global = "GLOBAL "
	}
	// The candidates: a range of alert_times' key.
	cands := fmt.Sprintf(`SELECT alert_id FROM %s.alert_times PREWHERE queue = ? AND created_at >= ?`, t.DB)
	// The page's ids, ordered by the key columns of the candidates' latest
	// versions only: the payloads are read for the page alone, even when
	// many candidates share the cutoff's second (a burst stored in one
	// second is all candidates).
	page := fmt.Sprintf(`SELECT alert_id FROM %[1]s.alerts_desk FINAL PREWHERE queue = ? AND alert_id %[2]sIN (%[3]s)
			WHERE post_key %[2]sNOT IN (
				SELECT post_key FROM %[1]s.deletions
				WHERE post_key %[2]sIN (SELECT post_key FROM %[1]s.alerts_desk PREWHERE queue = ? AND alert_id %[2]sIN (%[3]s)))
			ORDER BY created_at DESC, alert_id LIMIT %[4]d`, t.DB, global, cands, limit)
	q := fmt.Sprintf(`SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted,
			handed_off_from, unstaffed, created_at, due_at, payload, acknowledged_at, acknowledged_by, market
		FROM (SELECT * FROM %[1]s.alerts_desk FINAL PREWHERE queue = ? AND alert_id %[2]sIN (%[3]s)) AS a
		%[2]sANY LEFT JOIN (
			SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by
			FROM %[1]s.alert_events PREWHERE queue = ? AND alert_id %[2]sIN (%[3]s)
			WHERE event = 'acknowledged'
			GROUP BY alert_id
		) AS ack USING alert_id
		ORDER BY created_at DESC, alert_id LIMIT %[4]d`, t.DB, global, page, limit)
	c := cutoff.UTC()
	pageArgs := []any{queue, queue, c, queue, queue, c}
	args := append(append(append([]any{queue}, pageArgs...), queue), pageArgs...)
	rows, err := t.scan(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	// Those whose latest version is earlier than cutoff (moved back in
	// time) are not all the alerts of their time: left out. Not in SQL: a
	// condition on created_at, the partition key, skips the parts whose
	// times are all earlier — FINAL then never sees the latest version
	// stored in one of them, and answers an earlier one.
	end := len(rows)
	for end > 0 && rows[end-1].CreatedAt.Before(c) {
		end--
	}
	return rows[:end], nil
}

// byKeySettings ends a read of a few rows by key (FindDesk, DeskEvents).
// Such a read finds its rows in one index granule of each table, and the
// server reads the granule's other columns from its first row on: the
// rows before the wanted one are decompressed to be skipped (there is no
// seek inside a granule), and with the default max_block_size (65,536) it
// often reads on to the granule's end. In blocks of 1,024 rows it stops at
// the end of the wanted row's block in alert_events' granules (8,192
// rows): 9 % of the bytes FindDesk decompressed in
// BenchmarkDeskLatencyClickHouse when it read alerts (4.9 → 4.5 MB), 30 %
// and a third of its CPU on 100,000 alerts of 1 KiB (bench/deskreads/
// granule-prefix.sh). The prefix up to the row stays; for the alert's row
// a smaller granule cuts it: FindDesk reads alerts_desk, whose granules
// are 256 rows (migration 11; BENCHMARKS.md, "Desk actions on ClickHouse:
// the granule's prefix"). The rows and the answer are the same.
const byKeySettings = " SETTINGS max_block_size = 1024"

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
// database. The alert is read from alerts_desk, the copy of alerts in
// granules of 256 rows (migration 11): the payloads of the rows before it
// in its granule are decompressed too, and in alerts' granules of 8,192
// that prefix was most of the read. Every read is bounded by the alert's
// own index granules, however large the tables grow:
//   - the key is a PREWHERE, so of the alert's granule (256 alerts)
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
			SELECT * FROM %[1]s.alerts_desk FINAL PREWHERE queue = ? AND alert_id = ?
			WHERE post_key %[2]sNOT IN (
				SELECT post_key FROM %[1]s.deletions
				WHERE post_key %[2]sIN (SELECT post_key FROM %[1]s.alerts_desk PREWHERE queue = ? AND alert_id = ?))
		) AS a
		%[2]sANY LEFT JOIN (
			SELECT alert_id, groupArray(event) AS ev_event, groupArray(actor) AS ev_actor, groupArray(at) AS ev_at, groupArray(note) AS ev_note,
				groupArray(event_id) AS ev_event_id, groupArray(seq) AS ev_seq, groupArray(assignee) AS ev_assignee,
				groupArray(outcome) AS ev_outcome, groupArray(snoozed_until) AS ev_snoozed_until, groupArray(url) AS ev_url
			FROM %[1]s.alert_events PREWHERE queue = ? AND alert_id = ?
			WHERE event = 'acknowledged' OR event = '%[3]s' OR event LIKE 'desk.%%'
			GROUP BY alert_id
		) AS ev USING alert_id
		LIMIT 1`+byKeySettings, t.DB, global, RetractedEvent)
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
		".alert_events PREWHERE queue = ? AND alert_id IN ? WHERE event LIKE 'desk.%' OR event = 'retracted' ORDER BY alert_id, at, seq, event_id"+byKeySettings, queue, set)
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

// DeskEventRef names a desk event: its alert, its id, when it happened.
type DeskEventRef struct {
	AlertKey
	EventID string
	At      time.Time
}

// DeskEventsSince lists up to limit desk events of the queues that
// happened at or after since, oldest first: what the other API processes
// did, for this one's live feeds. The queues' rows are found by the
// primary key (queue first), the parts by their minmax of at.
func (t *AlertTables) DeskEventsSince(ctx context.Context, queues []string, since time.Time, limit int) ([]DeskEventRef, error) {
	if len(queues) == 0 || limit <= 0 {
		return nil, nil
	}
	rows, err := t.Conn.Query(ctx, fmt.Sprintf(`SELECT queue, alert_id, event_id, at FROM %s.alert_events
		WHERE queue IN (SELECT arrayJoin(?)) AND at >= ? AND event LIKE 'desk.%%'
		ORDER BY at, queue, alert_id, event_id
		LIMIT %d`, t.DB, limit), queues, since.UTC().Truncate(time.Second))
	if err != nil {
		return nil, fmt.Errorf("alert_events: desk events since %s: %w", since.Format(time.RFC3339), err)
	}
	var out []DeskEventRef
	err = scanAll(rows, func() error {
		var r DeskEventRef
		if err := rows.Scan(&r.Queue, &r.ID, &r.EventID, &r.At); err != nil {
			return err
		}
		r.At = r.At.UTC()
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alert_events: desk events since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
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

// DeskQuery is what DeskCounts reads.
type DeskQuery struct {
	Since, Now time.Time // the alerts created since Since, as of Now
	// BreachedFrom leaves out of Breached the alerts whose deadline passed
	// before it: a counter of breaches started at BreachedFrom (the API's
	// start) counts each breach once across restarts.
	BreachedFrom time.Time
	MaxBreached  int // Breached and Resolving hold at most this many
	// ResolveTargets are the resolve targets (queue → priority → the
	// target in calendar time, the least a business-time target takes):
	// Resolving lists the alerts of these whose resolve clock may be near
	// or past it.
	ResolveTargets map[string]map[string]time.Duration
}

// DeskCounts is what DeskCounts read.
type DeskCounts struct {
	Open       map[string]map[string]uint64 // queue → desk state → alerts
	Breached   []AlertKey                   // missed their first-response deadline
	NearBreach map[string]uint64            // queue → unanswered alerts past 80% of their first-response window, not yet due
	Resolving  []ResolveClock               // may be near or past their resolve target
}

// ResolveClock is an alert's resolve clock: the API, which knows the
// queues' clocks (business or calendar time), decides its deadline.
type ResolveClock struct {
	AlertKey
	Priority   string
	CreatedAt  time.Time
	ResolvedAt time.Time // zero while unresolved
}

// DeskCounts counts the alerts created since q.Since that are neither
// retracted nor deleted, per queue and desk state (new, claimed, resolved:
// the state the last claim, assign, unclaim, resolve or reopen left), counts
// the unanswered ones near their first-response deadline, lists up to
// q.MaxBreached of them that missed it by q.Now (due before it and first
// answered — claimed, assigned, resolved or acknowledged — after it, or not
// at all), and up to q.MaxBreached whose resolve clock is past 80% of the
// queue's target (unresolved) or past the target (resolved). Four
// aggregating queries whatever the number of alerts: the cost is bounded by
// the window, not by the table's age (alerts is partitioned by month of
// created_at).
func (t *AlertTables) DeskCounts(ctx context.Context, q DeskQuery) (DeskCounts, error) {
	global := ""
	if t.Cluster {
		global = "GLOBAL "
	}
	since, now := q.Since.UTC().Truncate(time.Second), q.Now.UTC().Truncate(time.Second)
	from := q.BreachedFrom.UTC().Truncate(time.Second)
	if from.Before(time.Unix(0, 0)) {
		from = time.Unix(0, 0).UTC()
	}
	var out DeskCounts
	alerts := fmt.Sprintf(`(SELECT queue, alert_id, priority, created_at, due_at FROM %[1]s.alerts FINAL
		WHERE created_at >= ? AND retracted = 0 AND post_key %[2]sNOT IN (SELECT post_key FROM %[1]s.deletions)) AS a`, t.DB, global)
	// The last event that set the state, and when, per alert.
	last := fmt.Sprintf(`%[2]sANY LEFT JOIN (
				SELECT alert_id, argMax(splitByChar(':', event)[1], seq) AS last, argMax(at, seq) AS last_at
				FROM %[1]s.alert_events
				WHERE at >= ? AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.unclaim', 'desk.resolve', 'desk.reopen')
				GROUP BY alert_id
			) AS ev USING alert_id`, t.DB, global)
	// The first response, per alert.
	first := fmt.Sprintf(`%[2]sANY LEFT JOIN (
			SELECT alert_id, min(at) AS first
			FROM %[1]s.alert_events
			WHERE at >= ? AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.resolve', 'acknowledged')
			GROUP BY alert_id
		) AS ev USING alert_id`, t.DB, global)
	rows, err := t.Conn.Query(ctx, fmt.Sprintf(`SELECT queue, multiIf(last IN ('desk.claim', 'desk.assign'), 'claimed', last = 'desk.resolve', 'resolved', 'new') AS state, count() AS n
		FROM (SELECT queue, last FROM %s %s)
		GROUP BY queue, state`, alerts, last), since, since)
	if err != nil {
		return out, fmt.Errorf("counting alerts by desk state: %w", err)
	}
	out.Open = map[string]map[string]uint64{}
	err = scanAll(rows, func() error {
		var queue, state string
		var n uint64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			return err
		}
		if out.Open[queue] == nil {
			out.Open[queue] = map[string]uint64{}
		}
		out.Open[queue][state] = n
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("counting alerts by desk state: %w", err)
	}
	rows, err = t.Conn.Query(ctx, fmt.Sprintf(`SELECT queue, alert_id FROM %s
		%s
		WHERE due_at > toDateTime(0) AND due_at >= ? AND due_at < ? AND (first = toDateTime(0) OR first > due_at)
		ORDER BY queue, alert_id
		LIMIT %d`, alerts, first, q.MaxBreached), since, since, from, now)
	if err != nil {
		return out, fmt.Errorf("listing breached alerts: %w", err)
	}
	err = scanAll(rows, func() error {
		var k AlertKey
		if err := rows.Scan(&k.Queue, &k.ID); err != nil {
			return err
		}
		out.Breached = append(out.Breached, k)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("listing breached alerts: %w", err)
	}
	// Near breach as SLA.NearBreach says: unanswered, not yet due, past 80%
	// of the window from created_at to due_at.
	rows, err = t.Conn.Query(ctx, fmt.Sprintf(`SELECT queue, count() FROM %s
		%s
		WHERE due_at > created_at AND due_at >= ? AND created_at <= ? AND first = toDateTime(0)
			AND (toUInt32(?) - toUInt32(created_at)) * 5 >= (toUInt32(due_at) - toUInt32(created_at)) * 4
		GROUP BY queue`, alerts, first), since, since, now, now, now)
	if err != nil {
		return out, fmt.Errorf("counting alerts near breach: %w", err)
	}
	out.NearBreach = map[string]uint64{}
	err = scanAll(rows, func() error {
		var queue string
		var n uint64
		if err := rows.Scan(&queue, &n); err != nil {
			return err
		}
		out.NearBreach[queue] = n
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("counting alerts near breach: %w", err)
	}
	if out.Resolving, err = t.resolving(ctx, q, alerts, last, since, now); err != nil {
		return out, fmt.Errorf("listing alerts near their resolve target: %w", err)
	}
	return out, nil
}

// resolving lists the alerts whose resolve clock may be past 80% of
// their target (unresolved) or past it (resolved): the target in
// calendar time is the least a business-time one takes, so no alert near
// or past its deadline is left out (a business-time one may come in early:
// the API decides).
func (t *AlertTables) resolving(ctx context.Context, q DeskQuery, alerts, last string, since, now time.Time) ([]ResolveClock, error) {
	var keys, secs []string // secs: numbers, formatted here (sqlrecord binds no []uint32)
	for queue, ps := range q.ResolveTargets {
		for p, d := range ps {
			if d > 0 {
				keys = append(keys, queue+"\n"+p)
				secs = append(secs, strconv.FormatInt(int64(min(d, 1<<31*time.Second)/time.Second), 10))
			}
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := t.Conn.Query(ctx, fmt.Sprintf(`SELECT queue, alert_id, priority, created_at, if(last = 'desk.resolve', last_at, toDateTime(0)) AS resolved
		FROM (SELECT queue, alert_id, priority, created_at, last, last_at, transform(concat(queue, '\n', priority), ?, [%s], toUInt32(0)) AS target FROM %s %s)
		WHERE target > 0 AND if(resolved > toDateTime(0),
			toUInt32(resolved) - toUInt32(created_at) >= target,
			toUInt32(?) >= toUInt32(created_at) AND (toUInt32(?) - toUInt32(created_at)) * 5 >= target * 4)
		ORDER BY queue, alert_id
		LIMIT %d`, strings.Join(secs, ", "), alerts, last, q.MaxBreached), keys, since, since, now, now)
	if err != nil {
		return nil, err
	}
	var out []ResolveClock
	err = scanAll(rows, func() error {
		var c ResolveClock
		if err := rows.Scan(&c.Queue, &c.ID, &c.Priority, &c.CreatedAt, &c.ResolvedAt); err != nil {
			return err
		}
		c.CreatedAt, c.ResolvedAt = c.CreatedAt.UTC(), zeroEpoch(c.ResolvedAt)
		out = append(out, c)
		return nil
	})
	return out, err
}

// scanAll calls scan for each row and closes rows.
func scanAll(rows driver.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}
