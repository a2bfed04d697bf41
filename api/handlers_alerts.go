package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/insights"
)

// QueueView is one queue in GET /v1/queues.
type QueueView struct {
	Name string `json:"name"`
	QueueInfo
}

func (s *Server) listQueues(c *call) error {
	var out []QueueView
	for name, q := range s.queueMap() {
		if s.seesQueue(c.id, name) {
			out = append(out, QueueView{Name: name, QueueInfo: q})
		}
	}
	slices.SortFunc(out, func(a, b QueueView) int { return strings.Compare(a.Name, b.Name) })
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, page(out, offset, limit))
}

// queue reads the path's queue the caller may see: another team's queue is
// 404, like one that does not exist.
func (s *Server) queue(c *call) (string, error) {
	q, err := pathID(c, "queue", queueName)
	if err != nil {
		return "", err
	}
	if !s.seesQueue(c.id, q) {
		return "", errorf(http.StatusNotFound, CodeNotFound, "queue %q not found", q)
	}
	return q, nil
}

// alertPath reads the path's queue (as queue does) and alert id.
func (s *Server) alertPath(c *call) (queue, id string, err error) {
	if queue, err = s.queue(c); err != nil {
		return "", "", err
	}
	if id, err = pathID(c, "id", alertID); err != nil {
		return "", "", err
	}
	return queue, id, nil
}

func (s *Server) alerts() (AlertStore, error) {
	if s.d.Alerts == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no alert store is configured")
	}
	return s.d.Alerts, nil
}

func (s *Server) listAlerts(c *call) error {
	st, err := s.alerts()
	if err != nil {
		return err
	}
	q, err := s.queue(c)
	if err != nil {
		return err
	}
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	items, more, err := st.List(c.r.Context(), q, offset, limit)
	if err != nil {
		return err
	}
	// A page may come out short: the cursor still counts the queue's alerts.
	items = inMarkets(c.id, items)
	for i := range items {
		items[i] = s.scopeAlert(c.id, items[i])
	}
	p := Page[Alert]{Items: items}
	if p.Items == nil {
		p.Items = []Alert{}
	}
	if more {
		p.NextCursor = cursor(offset + limit)
	}
	return c.json(http.StatusOK, p)
}

// getAlert answers one alert of a queue the caller may see, with its desk
// (another team's queue, or an id not on the queue, is 404).
func (s *Server) getAlert(c *call) error {
	st, err := s.alerts()
	if err != nil {
		return err
	}
	g, ok := st.(AlertGetter)
	if !ok {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "the alert store cannot read one alert")
	}
	q, id, err := s.alertPath(c)
	if err != nil {
		return err
	}
	a, err := g.Get(c.r.Context(), q, id)
	if errors.Is(err, ErrAlertNotFound) || (err == nil && !c.id.Scope.seesMarket(a.Market)) {
		// Another market's alert on a shared queue is not there for a
		// market team, as in the list and the feed.
		return errorf(http.StatusNotFound, CodeNotFound, "alert %q not found on queue %q", id, q)
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, s.scopeAlert(c.id, a))
}

func (s *Server) ackAlert(c *call) error {
	st, err := s.alerts()
	if err != nil {
		return err
	}
	q, id, err := s.alertPath(c)
	if err != nil {
		return err
	}
	note, err := readNote(c)
	if err != nil {
		return err
	}
	if err := s.checkAlertMarket(c, st, q, id); err != nil {
		return err
	}
	a, err := st.Ack(c.r.Context(), q, id, c.id.Name, note)
	if errors.Is(err, ErrAlertNotFound) {
		return errorf(http.StatusNotFound, CodeNotFound, "alert %q not found on queue %q", id, q)
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, s.scopeAlert(c.id, a))
}

// scopeAlert sets an alert's SLA clock as of now and leaves out of it,
// for a scoped caller, the matches of watchlists they may not see: a post
// that several teams' watchlists caught is routed to one queue, and its
// readers are not told the other teams' watchlists, brands and keywords.
// An item that does not decode is left out whole.
func (s *Server) scopeAlert(id Identity, a Alert) Alert {
	now := s.now()
	a.SLA = SLAOf(&a, now)
	if s.d.ResolveDue != nil && !a.CreatedAt.IsZero() {
		a.SLA = withResolve(a.SLA, &a, s.d.ResolveDue(a.Queue, a.Priority, a.CreatedAt), now)
	}
	if id.Scope.Unscoped() {
		return a
	}
	sees := func(wl string) bool { return s.seesWatchlist(id, wl) }
	a.Watchlists = slices.DeleteFunc(slices.Clone(a.Watchlists), func(wl string) bool { return !sees(wl) })
	if len(a.Item) == 0 {
		return a
	}
	var item map[string]json.RawMessage
	if err := json.Unmarshal(a.Item, &item); err != nil {
		a.Item = nil
		return a
	}
	if raw, ok := item["matches"]; ok {
		var matches []json.RawMessage
		if err := json.Unmarshal(raw, &matches); err != nil {
			a.Item = nil
			return a
		}
		matches = slices.DeleteFunc(matches, func(m json.RawMessage) bool {
			var w struct {
				Watchlist string `json:"watchlist"`
			}
			return json.Unmarshal(m, &w) != nil || !sees(w.Watchlist)
		})
		if item["matches"], _ = json.Marshal(matches); len(matches) == 0 {
			delete(item, "matches")
		}
	}
	a.Item, _ = json.Marshal(item)
	return a
}

// streamAlerts is the live feed of a queue as server-sent events: an
// `alert` event per alert (id: the alert id, data: the Alert as JSON), a
// `desk` event per change of an alert's desk made through this process, a
// comment every 15 s to keep proxies from closing the connection, and a
// `lost` event before the server drops a client that fell behind.
func (s *Server) streamAlerts(c *call) error {
	q, err := s.queue(c)
	if err != nil {
		return err
	}
	return s.feed(c, []string{q})
}

// maxFeedQueues bounds the queues one feed of several follows.
const maxFeedQueues = 64

// streamQueues is the live feed of several queues in one stream (GET
// /v1/stream?queue=a&queue=b): the queues named, each one the caller may
// see (another team's is 404, as on its own feed), or without a queue
// every queue the caller may see now. Its events are those of a queue's
// feed; the data's queue says which queue an event is of. A browser holds
// one connection for it, not one per queue.
func (s *Server) streamQueues(c *call) error {
	named := c.r.URL.Query()["queue"]
	if len(named) > maxFeedQueues {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%d queues: at most %d in one feed", len(named), maxFeedQueues)
	}
	var queues []string
	for _, q := range named {
		if !queueName.MatchString(q) {
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "bad queue in the query", Details: map[string]string{"queue": truncate(q, 80), "want": queueName.String()}}
		}
		if !s.seesQueue(c.id, q) {
			return errorf(http.StatusNotFound, CodeNotFound, "queue %q not found", q)
		}
		if !slices.Contains(queues, q) {
			queues = append(queues, q)
		}
	}
	if len(named) == 0 {
		for q := range s.queueMap() {
			if s.seesQueue(c.id, q) {
				queues = append(queues, q)
			}
		}
		slices.Sort(queues)
		if len(queues) > maxFeedQueues {
			queues = queues[:maxFeedQueues]
		}
	}
	if len(queues) == 0 {
		return errorf(http.StatusNotFound, CodeNotFound, "no queue you may read")
	}
	return s.feed(c, queues)
}

// feed serves the live feed of queues the caller may see.
func (s *Server) feed(c *call, queues []string) error {
	release, err := s.slot(c, "feed", "live feeds open", maxStreamsPerIdentity, 0)
	if err != nil {
		return err
	}
	defer release()
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		c.w.Header().Set("Retry-After", "5")
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "too many live feeds open (%d)", maxStreams)
	}
	rc := http.NewResponseController(c.w)
	// The request is read: no read deadline may end the feed (net/http
	// lifts it too once the body is read; this does not depend on that).
	rc.SetReadDeadline(time.Time{})
	sub := s.d.Hub.SubscribeQueues(queues, 256)
	defer sub.Close()
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	write := func(f string, args ...any) error {
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(c.w, f, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
	if write(": feed of queue %s\nretry: 2000\n\n", strings.Join(queues, ", ")) != nil {
		return nil
	}
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	// The credentials were checked when the feed opened; a feed lasts for
	// hours, so they are checked again while it runs and the feed ends when
	// the token is revoked or expires.
	recheck := time.NewTicker(s.authRecheck)
	defer recheck.Stop()
	var expiry <-chan time.Time
	if !c.id.ExpiresAt.IsZero() {
		t := time.NewTimer(time.Until(c.id.ExpiresAt))
		defer t.Stop()
		expiry = t.C
	}
	refuse := func(reason string) {
		write("event: unauthorized\ndata: {\"reason\":%q}\n\n", reason)
	}
	for {
		select {
		case <-c.r.Context().Done():
			return nil
		case <-expiry:
			refuse("expired")
			return nil
		case <-recheck.C:
			if reason := s.refused(c.r); reason != "" {
				refuse(reason)
				return nil
			}
			if slices.ContainsFunc(queues, func(q string) bool { return !s.seesQueue(c.id, q) }) {
				// A routing change gave a queue to a team outside the scope.
				refuse("out_of_scope")
				return nil
			}
		case <-sub.Lost:
			write("event: lost\ndata: {\"reason\":\"the client fell behind; reconnect and list the queue to catch up\"}\n\n")
			return nil
		case <-beat.C:
			if write(": keep-alive\n\n") != nil {
				return nil
			}
		case a := <-sub.C:
			if !c.id.Scope.seesMarket(a.Market) {
				continue
			}
			data, err := json.Marshal(s.scopeAlert(c.id, a))
			if err != nil {
				continue
			}
			event := "alert"
			if a.deskUpdate {
				event = "desk"
			}
			if write("id: %s\nevent: %s\ndata: %s\n\n", a.ID, event, data) != nil {
				return nil
			}
		}
	}
}

// slot counts a request of a kind (a live feed, a query) of the caller.
// When they have max in flight already it waits up to wait for one to end,
// then answers 429. release ends it.
func (s *Server) slot(c *call, kind, what string, max int, wait time.Duration) (release func(), err error) {
	key := kind + ":" + c.id.ID
	var timeout *time.Timer // started on the first wait; at 0 it fires at once
	for {
		s.slotsMu.Lock()
		if s.slots[key] < max {
			s.slots[key]++
			s.slotsMu.Unlock()
			break
		}
		freed := s.slotFreed
		s.slotsMu.Unlock()
		if timeout == nil {
			timeout = time.NewTimer(wait)
			defer timeout.Stop()
		}
		select {
		case <-freed: // a slot was released: look again
			continue
		case <-c.r.Context().Done():
			return nil, c.r.Context().Err()
		case <-timeout.C:
		}
		c.w.Header().Set("Retry-After", "5")
		return nil, errorf(http.StatusTooManyRequests, CodeRateLimited, "you have %d %s already, the most one caller may", max, what)
	}
	return func() {
		s.slotsMu.Lock()
		defer s.slotsMu.Unlock()
		if s.slots[key]--; s.slots[key] <= 0 {
			delete(s.slots, key)
		}
		close(s.slotFreed) // wake the waiters, of every caller; each looks again
		s.slotFreed = make(chan struct{})
	}, nil
}

// refused checks a request's credentials again and says why they are
// refused now (revoked, expired, unknown), or "" while they are good. When
// they cannot be checked (a broken token file) the feed goes on: a request
// would get 503, not 401.
func (s *Server) refused(r *http.Request) string {
	_, e := s.authenticate(r)
	if e == nil || e.Status != http.StatusUnauthorized {
		return ""
	}
	if d, ok := e.Details.(map[string]string); ok && d["reason"] != "" {
		return d["reason"]
	}
	return "unauthorized"
}

// --- insights ---

func (s *Server) insights() (Insights, error) {
	if s.d.Insights == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeNotConfigured, "insights need ClickHouse, which is not configured")
	}
	return s.d.Insights, nil
}

func (s *Server) listInsights(c *call) error {
	ins, err := s.insights()
	if err != nil {
		return err
	}
	qs := ins.List()
	if qs == nil {
		qs = []insights.Query{}
	}
	return c.json(http.StatusOK, map[string]any{"items": qs})
}

// InsightRequest is the body of POST /v1/insights/{name}.
type InsightRequest struct {
	Params map[string]string `json:"params"`
}

func (s *Server) runInsight(c *call) error {
	ins, err := s.insights()
	if err != nil {
		return err
	}
	name, err := pathID(c, "name", insightName)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ins.List(), func(q insights.Query) bool { return q.Name == name })
	if i < 0 {
		return errorf(http.StatusNotFound, CodeNotFound, "no insight query %q", name)
	}
	query := ins.List()[i]
	var req InsightRequest
	if e := decodeJSON(c.r, &req, true); e != nil {
		return e
	}
	if len(req.Params) > 32 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "at most 32 params")
	}
	if err := s.scopeInsight(c, query, req.Params); err != nil {
		return err
	}
	var t *insights.Table
	err = s.heavy(c, 0, func(ctx context.Context) (err error) {
		t, err = ins.Run(ctx, name, req.Params)
		return err
	})
	if err != nil {
		if errors.Is(err, insights.ErrUnknownQuery) {
			return errorf(http.StatusNotFound, CodeNotFound, "no insight query %q", name)
		}
		if errors.Is(err, insights.ErrInvalidParams) {
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "bad parameters", Details: strings.Split(err.Error(), "\n")}
		}
		return err
	}
	return c.json(http.StatusOK, t)
}

// scopeInsight lets a scoped caller run only queries narrowed to what they
// may see: one with a watchlist param set to a watchlist of their teams or
// brands, and a region param set to one of their regions.
func (s *Server) scopeInsight(c *call, q insights.Query, params map[string]string) error {
	sc := c.id.Scope
	if sc.Unscoped() {
		return nil
	}
	has := func(p string) bool {
		return slices.ContainsFunc(q.Params, func(x insights.Param) bool { return x.Name == p })
	}
	if len(sc.Teams)+len(sc.Brands) > 0 {
		if !has("watchlist") {
			return errorf(http.StatusForbidden, CodeOutOfScope, "query %s spans every watchlist; your token is scoped to %v", q.Name, sc)
		}
		wl := params["watchlist"]
		scope, any := s.searchScope(Identity{Scope: Scope{Teams: sc.Teams, Brands: sc.Brands}})
		if wl == "" || !any || !slices.Contains(scope.Watchlists, wl) {
			return errorf(http.StatusNotFound, CodeNotFound, "watchlist %q not found", truncate(wl, 80))
		}
	}
	if len(sc.Regions) > 0 {
		if !has("region") {
			return errorf(http.StatusForbidden, CodeOutOfScope, "query %s spans every region; your token is scoped to %v", q.Name, sc.Regions)
		}
		// As for markets below: a query left at every region is the
		// caller's to narrow, not a 404 about a region called "".
		if params["region"] == "" {
			return errorf(http.StatusForbidden, CodeOutOfScope, "query %s without a region spans every region; your token is scoped to %v: give one of them as the region parameter", q.Name, sc.Regions)
		}
		if !slices.Contains(sc.Regions, params["region"]) {
			return errorf(http.StatusNotFound, CodeNotFound, "region %q not found", truncate(params["region"], 40))
		}
	}
	if len(sc.Markets) > 0 {
		// A query left at every market (no market parameter, or it left
		// empty) is the caller's to narrow: say how, rather than 404 a
		// market called "".
		if !has("market") {
			return errorf(http.StatusForbidden, CodeOutOfScope, "query %s spans every market; your token is scoped to %v", q.Name, sc.Markets)
		}
		if params["market"] == "" {
			return errorf(http.StatusForbidden, CodeOutOfScope, "query %s without a market spans every market; your token is scoped to %v: give one of them as the market parameter", q.Name, sc.Markets)
		}
		if !sc.seesMarket(params["market"]) {
			return errorf(http.StatusNotFound, CodeNotFound, "market %q not found", truncate(params["market"], 40))
		}
	}
	return nil
}

// --- audit ---

func (s *Server) readAudit(c *call) error {
	if s.d.Audit == nil {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no audit log")
	}
	if !c.id.Scope.Unscoped() {
		// Its records are every team's watchlists, the routing and the tokens.
		return errorf(http.StatusForbidden, CodeOutOfScope, "the audit log is the whole organisation's: a caller scoped to %s may not read it", c.id.Scope)
	}
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	typ, obj, actor := q.Get("object_type"), q.Get("object_id"), q.Get("actor")
	recs, more, err := ReadAuditFile(s.d.Audit.Path(), func(r AuditRecord) bool {
		return (typ == "" || r.ObjectType == typ) && (obj == "" || r.ObjectID == obj) && (actor == "" || r.Actor == actor)
	}, offset, limit)
	if err != nil {
		return err
	}
	p := Page[AuditRecord]{Items: recs}
	if p.Items == nil {
		p.Items = []AuditRecord{}
	}
	if more {
		p.NextCursor = cursor(offset + limit)
	}
	return c.json(http.StatusOK, p)
}
