package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/internal/textcut"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// Alert is an alert as the API shows it: the routing decision, its
// acknowledgement, and the item exactly as it was on the queue topic.
type Alert struct {
	ID             string          `json:"id"`
	Queue          string          `json:"queue"`
	Team           string          `json:"team,omitempty"`
	Priority       string          `json:"priority"`
	Rule           string          `json:"rule"`
	PostKey        string          `json:"post_key"`
	Watchlists     []string        `json:"watchlists,omitempty"`
	Region         string          `json:"region,omitempty"`
	Market         string          `json:"market,omitempty"` // the post's market (org.yaml markets)
	Incident       string          `json:"incident,omitempty"`
	IncidentSize   int             `json:"incident_size,omitempty"`
	Spike          bool            `json:"spike,omitempty"`
	Retracted      bool            `json:"retracted,omitempty"`
	Deleted        bool            `json:"deleted,omitempty"` // its post was deleted at its source: the post is not served (withoutPost)
	HandedOffFrom  string          `json:"handed_off_from,omitempty"`
	Unstaffed      bool            `json:"unstaffed,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	DueAt          time.Time       `json:"due_at,omitzero"`
	AcknowledgedAt time.Time       `json:"acknowledged_at,omitzero"`
	AcknowledgedBy string          `json:"acknowledged_by,omitempty"`
	TextTruncated  bool            `json:"text_truncated,omitempty"` // Item's text is its first AlertTextBytes
	TextBytes      int             `json:"text_bytes,omitempty"`     // the full text's length, when truncated
	Desk           Desk            `json:"desk"`                     // the responders' workflow on it
	SLA            *SLA            `json:"sla,omitempty"`            // its first-response clock, as of the answer
	breachCounted  bool            // in earshot_alerts_sla_breached_total (MemAlerts)
	resolveCounted bool            // in earshot_alerts_resolve_breached_total (MemAlerts)
	retractedAt    time.Time       // when the platform retracted it (MemAlerts; CHAlerts reads it from alert_events)
	deskUpdate     bool            // on a live feed: a change of its desk, not a new alert
	deletedKey     string          // the key of the post deleted at its source (MemAlerts: a redelivery of it stays without it)
	source         string          // the source that delivered its post: only that source's delete drops it (MemAlerts.Deleted)
	Item           json.RawMessage `json:"item,omitempty"`
}

// AlertTextBytes bounds the post text (and its redacted copy) an alert
// carries in the API's memory (the in-memory store and the live feeds): a
// responder reads the excerpt, and the full text stays in ClickHouse and the
// search index. Real posts are far shorter (a long-form X post is 25,000
// characters at most); a post of a megabyte would otherwise take a
// megabyte per alert, and several per copy.
const AlertTextBytes = 8 << 10

// size is what an alert costs the in-memory store, roughly: its item and
// its fields.
func (a *Alert) size() int {
	n := 256 + len(a.Item) + len(a.deletedKey) + len(a.source) + len(a.ID) + len(a.Queue) + len(a.Team) + len(a.Rule) + len(a.PostKey) + len(a.Incident) + len(a.HandedOffFrom) + len(a.AcknowledgedBy)
	for _, w := range a.Watchlists {
		n += 16 + len(w)
	}
	return n + a.Desk.size()
}

// AlertFromItem is the API's view of an alert item off a queue.
func AlertFromItem(it *post.Item) (Alert, error) {
	if it == nil || it.Alert == nil || it.Post == nil {
		return Alert{}, errors.New("not an alert item")
	}
	a := it.Alert
	full := len(it.Post.Text)
	truncated := full > AlertTextBytes || it.Enrichment != nil && len(it.Enrichment.RedactedText) > AlertTextBytes
	if truncated {
		// A copy with the texts cut: the item is shared with other stages.
		p := *it.Post
		p.Text = textcut.Bytes(p.Text, AlertTextBytes)
		cut := *it
		cut.Post = &p
		if it.Enrichment != nil {
			e := *it.Enrichment
			e.RedactedText = textcut.Bytes(e.RedactedText, AlertTextBytes)
			cut.Enrichment = &e
		}
		it = &cut
	}
	raw, err := post.Encode(nil, it)
	if err != nil {
		return Alert{}, err
	}
	out := Alert{ID: a.ID, Queue: a.Queue, Team: a.Team, Priority: a.Priority, Rule: a.Rule, PostKey: it.Key(),
		Incident: a.Incident, IncidentSize: a.IncidentSize, Spike: a.Spike != nil, Retracted: a.Retracted,
		HandedOffFrom: a.HandedOffFrom, Unstaffed: a.Unstaffed, CreatedAt: a.CreatedAt.UTC(), DueAt: a.DueAt, Desk: NewDesk(), Item: raw,
		source: it.Post.Source}
	if truncated {
		out.TextTruncated, out.TextBytes = true, full
	}
	for _, m := range it.Matches {
		if !slices.Contains(out.Watchlists, m.Watchlist) {
			out.Watchlists = append(out.Watchlists, m.Watchlist)
		}
	}
	if it.Enrichment != nil {
		out.Region, out.Market = it.Enrichment.Region, it.Enrichment.Market
	}
	if it.Post.Kind == post.KindDelete {
		// The retraction of a deleted post: platform terms forbid showing
		// what was deleted, and the delete item may still name its author.
		out.deletedKey = it.Key()
		out = out.withoutPost()
	}
	if a.Retracted {
		// On a live feed a retraction says the platform closed the alert.
		out.retractedAt = out.CreatedAt
		out = out.viewed()
	}
	return out, nil
}

// withoutPost is a with nothing of its post left: no item (text, author,
// links, enrichment), no post key (it names the post, and on some
// platforms its author), marked Deleted. What is the organisation's own
// stays: the id, queue, routing, watchlists, region and market (the
// market scopes who may see it), times and the desk with the
// responders' notes and links. ClickHouse mode leaves such an alert out
// altogether (alerts_latest leaves deleted posts out).
func (a Alert) withoutPost() Alert {
	a.Item, a.PostKey, a.TextTruncated, a.TextBytes, a.Deleted = nil, "", false, 0, true
	return a
}

// viewed is a as the API answers it: a retracted alert's desk closed by
// the platform (see Desk.closedByPlatform).
func (a Alert) viewed() Alert {
	if a.Retracted {
		a.Desk = a.Desk.closedByPlatform(a.retractedAt)
	}
	return a
}

// ErrAlertNotFound is an alert id not on the queue.
var ErrAlertNotFound = errors.New("alert not found")

// AlertStore lists a queue's alerts and records acknowledgements.
type AlertStore interface {
	// List returns a page of a queue's alerts, newest first, and whether more follow.
	List(ctx context.Context, queue string, offset, limit int) ([]Alert, bool, error)
	// Ack records that actor acknowledged the alert, and returns it.
	Ack(ctx context.Context, queue, id, actor, note string) (Alert, error)
}

// MemAlerts keeps the most recent alerts of each queue in memory, for the
// embedded mode without ClickHouse. Acknowledgements live as long as the
// process. It is fed by the pipeline's alert tap (Add).
type MemAlerts struct {
	perQueue int
	maxBytes int // per queue
	now      func() time.Time

	mu       sync.Mutex
	queues   map[string]*memQueue
	breached map[string]uint64 // alerts that missed their deadline, per queue, counted once
	// resolveBreached: those that missed their resolve target.
	resolveBreached map[string]uint64
	// countFrom: only breaches whose deadline passed after it are counted
	// (the process's start; zero: all); resolveDue: the resolve targets
	// (nil: none). Set by the metrics' collector.
	countFrom  time.Time
	resolveDue func(queue, priority string, created time.Time) time.Time
	// deleted: the keys of the posts most recently deleted at their
	// source (Deleted), with the source that deleted each, at most
	// deletedKeys: an alert of one that arrives after its delete (the
	// alert tap and the delete tap read different topics) is kept
	// without its post.
	deleted recentSet[deletion]
}

// deletedKeys bounds the recently deleted post keys MemAlerts remembers
// (a few MB with long keys): far more than the deletes that arrive while
// an alert of the same post is on its way from route to the alert tap.
const deletedKeys = 1 << 14

// deletion is a post key deleted by a source.
type deletion struct{ key, source string }

type memQueue struct {
	order  []string // ids, oldest first
	byID   map[string]*Alert
	byPost map[string][]string // post key → ids of the alerts showing that post
	bytes  int                 // the alerts' sizes
}

func (q *memQueue) index(key, id string) {
	if key != "" && !slices.Contains(q.byPost[key], id) {
		q.byPost[key] = append(q.byPost[key], id)
	}
}

func (q *memQueue) unindex(key, id string) {
	ids := slices.DeleteFunc(q.byPost[key], func(s string) bool { return s == id })
	if len(ids) == 0 {
		delete(q.byPost, key)
		return
	}
	q.byPost[key] = ids
}

// dropPost blanks a, held in q, of its post (withoutPost).
func (q *memQueue) dropPost(a *Alert) {
	before, key := a.size(), a.PostKey
	q.unindex(key, a.ID)
	*a = a.withoutPost()
	if a.deletedKey == "" {
		a.deletedKey = key
	}
	q.bytes += a.size() - before
}

// AlertBytesPerQueue is the byte budget of each queue in the in-memory
// store: with AlertTextBytes per alert it holds the default 1,000 alerts
// several times over, and bounds the store whatever alerts_per_queue says.
const AlertBytesPerQueue = 64 << 20

// NewMemAlerts keeps at most perQueue alerts, and AlertBytesPerQueue
// bytes, per queue.
func NewMemAlerts(perQueue int) *MemAlerts { return NewMemAlertsBytes(perQueue, AlertBytesPerQueue) }

// NewMemAlertsBytes keeps at most perQueue alerts and maxBytes bytes of
// them per queue; the oldest go first.
func NewMemAlertsBytes(perQueue, maxBytes int) *MemAlerts {
	return &MemAlerts{perQueue: perQueue, maxBytes: maxBytes, now: time.Now, queues: map[string]*memQueue{}, deleted: newRecentSet[deletion](deletedKeys)}
}

// Deleted records that the post key was deleted by source, the source
// that delivered it: every alert held that shows it (an incident's alert
// whose latest post it is, too) keeps no more of it (withoutPost); one
// that is no incident is also closed by the platform, as route's
// retraction would (route cannot when it did not raise the alert itself,
// after a restart). An alert of the post that arrives later is kept
// without it. An alert whose post another source delivered stays as it
// is: one ingest tenant does not hide another's posts (as route and the
// search index refuse such a delete). It returns the alerts it changed,
// as the API answers them, for the live feeds.
func (m *MemAlerts) Deleted(key, source string) []Alert {
	if key == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleted.add(deletion{key, post.SourceKey(source)})
	var out []Alert
	at := m.now().UTC()
	for _, q := range m.queues {
		for _, id := range slices.Clone(q.byPost[key]) {
			a := q.byID[id]
			if !post.SameSource(a.source, source) {
				continue
			}
			q.dropPost(a)
			if a.Incident == "" && !a.Retracted {
				a.Retracted, a.retractedAt = true, at
			}
			out = append(out, a.viewed())
		}
	}
	return out
}

// Add records an alert off a queue. A retraction marks the alert it
// retracts (or is kept itself when that alert is no longer held); a
// redelivered alert replaces the one with its id, keeping its
// acknowledgement.
func (m *MemAlerts) Add(a Alert) {
	if a.Desk.State == "" || a.Retracted {
		a.Desk = NewDesk() // the store keeps the responders' desk; viewed closes it
	}
	if a.Retracted {
		a.retractedAt = a.CreatedAt
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !a.Retracted && a.PostKey != "" && m.deleted.has(deletion{a.PostKey, post.SourceKey(a.source)}) {
		// Its post was deleted before the alert got here.
		a.deletedKey = a.PostKey
		a = a.withoutPost()
		if a.Incident == "" {
			a.Retracted, a.retractedAt = true, m.now().UTC()
		}
	}
	q := m.queues[a.Queue]
	if q == nil {
		q = &memQueue{byID: map[string]*Alert{}, byPost: map[string][]string{}}
		m.queues[a.Queue] = q
	}
	if old := q.byID[a.ID]; old != nil {
		if a.Retracted {
			if !old.Retracted {
				old.Retracted, old.retractedAt = true, a.retractedAt
			}
			if a.Deleted && !old.Deleted {
				q.dropPost(old)
			}
			return
		}
		if old.Deleted && old.deletedKey != "" && a.PostKey == old.deletedKey {
			return // the deleted post's alert redelivered (a replay): it stays without it
		}
		a.AcknowledgedAt, a.AcknowledgedBy, a.Desk, a.breachCounted, a.resolveCounted = old.AcknowledgedAt, old.AcknowledgedBy, old.Desk, old.breachCounted, old.resolveCounted
		q.bytes += a.size() - old.size()
		q.unindex(old.PostKey, old.ID)
		*old = a
		q.index(a.PostKey, a.ID)
		m.evict(q, 0)
		return
	}
	m.evict(q, a.size())
	q.order = append(q.order, a.ID)
	q.byID[a.ID] = &a
	q.index(a.PostKey, a.ID)
	q.bytes += a.size()
}

// evict drops q's oldest alerts until one more (of size more) fits, in
// count and in bytes; the newest alert always stays.
func (m *MemAlerts) evict(q *memQueue, more int) {
	n := 0
	count := len(q.order)
	if more > 0 {
		count++
	}
	for n < len(q.order) && (count > m.perQueue || q.bytes+more > m.maxBytes) {
		if more == 0 && n == len(q.order)-1 {
			break // the newest, just replaced, stays
		}
		old := q.byID[q.order[n]]
		q.bytes -= old.size()
		q.unindex(old.PostKey, old.ID)
		delete(q.byID, q.order[n])
		count--
		n++
	}
	if n > 0 {
		q.order = slices.Delete(q.order, 0, n)
	}
}

// List implements AlertStore.
func (m *MemAlerts) List(_ context.Context, queue string, offset, limit int) ([]Alert, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[queue]
	if q == nil {
		return nil, false, nil
	}
	var out []Alert
	for i := len(q.order) - 1 - offset; i >= 0; i-- {
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, q.byID[q.order[i]].viewed())
	}
	return out, false, nil
}

// Ack implements AlertStore.
func (m *MemAlerts) Ack(_ context.Context, queue, id, actor, _ string) (Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[queue]
	if q == nil || q.byID[id] == nil {
		return Alert{}, ErrAlertNotFound
	}
	a := q.byID[id]
	if a.AcknowledgedAt.IsZero() {
		a.AcknowledgedAt, a.AcknowledgedBy = m.now().UTC().Truncate(time.Second), actor
	}
	return a.viewed(), nil
}

// AlertGetter is an AlertStore that reads one alert by its id (GET
// /v1/queues/{queue}/alerts/{id}): the desk page opens an alert a
// notification links to, however old.
type AlertGetter interface {
	Get(ctx context.Context, queue, id string) (Alert, error)
}

// Get implements AlertGetter.
func (m *MemAlerts) Get(_ context.Context, queue, id string) (Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[queue]
	if q == nil || q.byID[id] == nil {
		return Alert{}, ErrAlertNotFound
	}
	return q.byID[id].viewed(), nil
}

// DeskStore is an AlertStore that also keeps the desk: the responders'
// actions on alerts.
type DeskStore interface {
	AlertStore
	// Act applies e to the alert id of queue (see Desk.Apply) and records
	// it, returning the alert and whether it changed.
	Act(ctx context.Context, queue, id string, e DeskEvent, mayReassign bool) (Alert, bool, error)
}

// Act implements DeskStore.
func (m *MemAlerts) Act(_ context.Context, queue, id string, e DeskEvent, mayReassign bool) (Alert, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[queue]
	if q == nil || q.byID[id] == nil {
		return Alert{}, false, ErrAlertNotFound
	}
	a := q.byID[id]
	if a.Desk.State == "" {
		a.Desk = NewDesk()
	}
	if err := refuseRetracted(a, e); err != nil {
		return a.viewed(), false, err
	}
	d, changed, err := a.Desk.Apply(e, mayReassign)
	if err != nil {
		return a.viewed(), false, err
	}
	if changed {
		before := a.size()
		a.Desk = d
		q.bytes += a.size() - before
		m.countBreach(a, m.now())
		// Notes and links grow an alert after it was added (up to 2 MB
		// each): the queue keeps its byte budget by evicting its oldest
		// alerts, as an Add does, rather than waiting for the next Add.
		view := a.viewed()
		m.evict(q, 0)
		return view, true, nil
	}
	return a.viewed(), changed, nil
}

// AlertTable is where the distributed API finds the stored alerts and
// records the responders' events on them; *sink.AlertTables is one (sink
// owns every ClickHouse table).
type AlertTable interface {
	Latest(ctx context.Context, queue string, offset, limit int) ([]sink.AlertRow, error)
	// FindDesk reads an alert (as sink.AlertTables.Find) with its desk
	// events (as DeskEvents gives them), in one query.
	FindDesk(ctx context.Context, queue, id string) (sink.AlertRow, []sink.DeskEventRow, bool, error)
	AddEvent(ctx context.Context, id, queue, event, actor string, at time.Time, note string) error
	AddDeskEvent(ctx context.Context, r sink.DeskEventRow) error
	DeskEvents(ctx context.Context, queue string, ids []string) (map[string][]sink.DeskEventRow, error)
}

// CHAlerts is the AlertStore of the distributed mode: the alerts the sink
// stored in ClickHouse (alerts_latest), acknowledged in alert_events.
type CHAlerts struct {
	Table AlertTable
	Now   func() time.Time

	mu sync.Mutex // serialises Act: read, apply, write
}

func alertOfRow(r sink.AlertRow) Alert {
	a := Alert{ID: r.ID, Queue: r.Queue, Team: r.Team, Priority: r.Priority, Rule: r.Rule, PostKey: r.PostKey, Watchlists: r.Watchlists,
		Region: r.Region, Market: r.Market, Incident: r.Incident, IncidentSize: r.IncidentSize, Spike: r.Spike, Retracted: r.Retracted,
		HandedOffFrom: r.HandedOffFrom, Unstaffed: r.Unstaffed, CreatedAt: r.CreatedAt, DueAt: r.DueAt,
		AcknowledgedAt: r.AcknowledgedAt, AcknowledgedBy: r.AcknowledgedBy, Desk: NewDesk()}
	if json.Valid([]byte(r.Payload)) {
		a.Item = json.RawMessage(r.Payload)
	}
	return a
}

// List implements AlertStore.
func (c *CHAlerts) List(ctx context.Context, queue string, offset, limit int) ([]Alert, bool, error) {
	rows, err := c.Table.Latest(ctx, queue, offset, limit+1)
	if err != nil {
		return nil, false, err
	}
	out := make([]Alert, 0, len(rows))
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, alertOfRow(r))
		ids = append(ids, r.ID)
	}
	more := len(out) > limit
	if more {
		out, ids = out[:limit], ids[:limit]
	}
	events, err := c.Table.DeskEvents(ctx, queue, ids)
	if err != nil {
		return nil, false, err
	}
	for i := range out {
		out[i].fold(events[out[i].ID])
		out[i] = out[i].viewed()
	}
	return out, more, nil
}

// foldRows is the desk of an alert's stored events, and the time of its
// latest retraction (the sink's "retracted" events: a post retracted,
// raised again and retracted again has several).
func foldRows(rows []sink.DeskEventRow) (Desk, time.Time) {
	evs := make([]DeskEvent, 0, len(rows))
	var retracted time.Time
	for _, r := range rows {
		if r.Event == sink.RetractedEvent {
			if r.At.After(retracted) {
				retracted = r.At
			}
			continue
		}
		evs = append(evs, DeskEvent{ID: r.EventID, Action: strings.TrimPrefix(r.Event, "desk."), Actor: r.Actor, At: r.At,
			Assignee: r.Assignee, Outcome: r.Outcome, Until: r.SnoozedUntil, Text: r.Note, URL: r.URL})
	}
	return FoldDesk(evs), retracted
}

// fold sets a's desk (and retraction time) from its stored events.
func (a *Alert) fold(rows []sink.DeskEventRow) { a.Desk, a.retractedAt = foldRows(rows) }

// Act implements DeskStore: the alert's events are read and folded, e is
// applied, and written as a "desk.<action>" event to alert_events.
//
// ClickHouse has no lock and no conditional write, and the API's replicas
// share no lock either: two actions on two replicas within a read and a
// write both decide on the same state and are both stored. So an action
// that changes the state or holder (claim, assign, unclaim, snooze,
// resolve, reopen) reads the alert's events again after its write and
// answers only if the fold applied it; when a concurrent action came first
// in the order (at, seq, event id), the fold skips this one (every reader
// skips it: it stays stored, inert) and the answer is ErrDeskConflict.
// This narrows the race; it does not close it. A write still in flight
// when the re-read runs is not seen: when the two inserts overlap and the
// slower one lands after the faster replica's re-read, and sorts first,
// both are answered (and the fold gives the alert to the slower one).
// Reads and writes alone cannot decide between two writers without
// waiting; only a lock or a conditional write (which ClickHouse 18.16
// lacks) closes it. One process serialises its own actions.
func (c *CHAlerts) Act(ctx context.Context, queue, id string, e DeskEvent, mayReassign bool) (Alert, bool, error) {
	if e.ID == "" {
		// The read after the write knows the event by its id.
		var b [12]byte
		rand.Read(b[:])
		e.ID = hex.EncodeToString(b[:])
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.find(ctx, queue, id)
	if err != nil {
		return Alert{}, false, err
	}
	if err := refuseRetracted(&a, e); err != nil {
		return a.viewed(), false, err
	}
	if e.Action == ActClaim && a.Desk.State == StateClaimed && a.Desk.Assignee != e.Actor && !a.Desk.Seen(e.ID) {
		// A takeover (only alerts.reassign may, Apply checks): stored as
		// an assignment to oneself, since a claim never takes over in the
		// fold.
		e.Action, e.Assignee = ActAssign, e.Actor
	}
	d, changed, err := a.Desk.Apply(e, mayReassign)
	if err != nil || !changed {
		return a.viewed(), false, err
	}
	row := sink.DeskEventRow{AlertID: id, Queue: queue, Event: "desk." + e.Action, Actor: e.Actor, At: e.At, Note: e.Text, EventID: e.ID,
		Seq: uint64(e.At.UnixNano()) + uint64(d.Events), Assignee: e.Assignee, Outcome: e.Outcome, SnoozedUntil: e.Until, URL: e.URL}
	if e.Action == ActClaim {
		row.Assignee = e.Actor
	}
	if err := c.Table.AddDeskEvent(ctx, row); err != nil {
		return Alert{}, false, err
	}
	if !slices.Contains(stateActions, e.Action) {
		a.Desk = d
		return a.viewed(), true, nil
	}
	// Read after write: did a concurrent action on another replica come first?
	events, err := c.Table.DeskEvents(ctx, queue, []string{id})
	if err != nil {
		return Alert{}, false, err
	}
	a.fold(events[id])
	if !a.Desk.Seen(e.ID) {
		return a.viewed(), false, fmt.Errorf("%w: %s (another action on it came first, through another API process)", ErrDeskConflict, a.Desk.describe())
	}
	return a.viewed(), true, nil
}

// Get implements AlertGetter: the stored alert and the fold of its events.
func (c *CHAlerts) Get(ctx context.Context, queue, id string) (Alert, error) {
	a, err := c.find(ctx, queue, id)
	if err != nil {
		return Alert{}, err
	}
	return a.viewed(), nil
}

// find reads the stored alert and its desk events, in one query, and
// folds them.
func (c *CHAlerts) find(ctx context.Context, queue, id string) (Alert, error) {
	r, events, found, err := c.Table.FindDesk(ctx, queue, id)
	if err != nil {
		return Alert{}, err
	}
	if !found || marketHidden(ctx, r.Market) {
		return Alert{}, ErrAlertNotFound
	}
	a := alertOfRow(r)
	a.fold(events)
	return a, nil
}

// Ack implements AlertStore: an `acknowledged` event in alert_events.
// It answers the alert with its desk, as every other answer on the alert
// (and the in-memory store's Ack) does: the one read gives both.
func (c *CHAlerts) Ack(ctx context.Context, queue, id, actor, note string) (Alert, error) {
	a, err := c.find(ctx, queue, id)
	if err != nil {
		return Alert{}, err
	}
	if !a.AcknowledgedAt.IsZero() {
		return a.viewed(), nil
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	at := now().UTC().Truncate(time.Second)
	if err := c.Table.AddEvent(ctx, id, queue, "acknowledged", actor, at, note); err != nil {
		return Alert{}, err
	}
	a.AcknowledgedAt, a.AcknowledgedBy = at, actor
	return a.viewed(), nil
}

// Hub fans alerts out to the live feeds (server-sent events) of their
// queue. Each subscriber has a bounded buffer; one that falls behind is
// told so and dropped (it reconnects), so a slow client never holds up the
// pipeline or the other clients.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{}
}

// Subscription is one live feed, of one queue or several.
type Subscription struct {
	C    chan Alert    // alerts of the queues
	Lost chan struct{} // closed when the subscriber fell behind and was dropped
	hub  *Hub
	qs   []string
	once sync.Once
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[string]map[*Subscription]struct{}{}} }

// Subscribe starts a feed of queue with a buffer of size alerts.
func (h *Hub) Subscribe(queue string, size int) *Subscription {
	return h.SubscribeQueues([]string{queue}, size)
}

// SubscribeQueues starts one feed of several queues with a buffer of size
// alerts (an alert's Queue says which it is of).
func (h *Hub) SubscribeQueues(queues []string, size int) *Subscription {
	s := &Subscription{C: make(chan Alert, size), Lost: make(chan struct{}), hub: h, qs: slices.Clone(queues)}
	h.mu.Lock()
	for _, q := range s.qs {
		if h.subs[q] == nil {
			h.subs[q] = map[*Subscription]struct{}{}
		}
		h.subs[q][s] = struct{}{}
	}
	h.mu.Unlock()
	return s
}

// Close ends the feed.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	s.hub.drop(s)
	s.hub.mu.Unlock()
}

// drop removes s from every queue it follows; h.mu is held.
func (h *Hub) drop(s *Subscription) {
	for _, q := range s.qs {
		delete(h.subs[q], s)
		if len(h.subs[q]) == 0 {
			delete(h.subs, q)
		}
	}
}

// Publish sends a to the feeds of its queue without blocking.
func (h *Hub) Publish(a Alert) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[a.Queue] {
		select {
		case s.C <- a:
		default:
			h.drop(s)
			s.once.Do(func() { close(s.Lost) })
		}
	}
}

// Queues lists the queues some live feed follows, sorted.
func (h *Hub) Queues() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.subs))
}

// Subscribers counts the live feeds (a feed of several queues once).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[*Subscription]struct{}{}
	for _, m := range h.subs {
		for s := range m {
			seen[s] = struct{}{}
		}
	}
	return len(seen)
}
