package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/internal/textcut"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/watchlist"
)

// Ids in paths are checked before use: a watchlist id as match's
// (lowercase, digits, _ and -), a queue as route's, an alert id as the
// router makes them. Anything else — "..", "/", "%2F" — is 400.
var (
	watchlistID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	queueName   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	alertID     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:_-]{0,127}$`)
	insightName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`)
)

func pathID(c *call, name string, re *regexp.Regexp) (string, error) {
	v := c.r.PathValue(name)
	if !re.MatchString(v) {
		return "", &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "bad " + name + " in the path", Details: map[string]string{name: truncate(v, 80), "want": re.String()}}
	}
	return v, nil
}

// truncate cuts what an error echoes of a request to n characters, "…"
// included, at a grapheme cluster boundary (textcut.Chars).
func truncate(s string, n int) string { return textcut.Chars(s, n) }

func rawJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil
	}
	return b
}

// Page is a page of a listing; next_cursor, when present, fetches the next.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

const (
	defaultLimit = 50
	maxLimit     = 500
	maxOffset    = 1_000_000
)

// pageLimit reads ?limit= (1 to maxLimit, default defaultLimit).
func pageLimit(c *call) (int, error) {
	v := c.r.URL.Query().Get("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "limit %q: want 1 to %d", truncate(v, 20), maxLimit)
	}
	return n, nil
}

// paging reads ?limit= and ?cursor= (an opaque offset).
func paging(c *call) (offset, limit int, err error) {
	q := c.r.URL.Query()
	if limit, err = pageLimit(c); err != nil {
		return 0, 0, err
	}
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o:") || n < 0 || n > maxOffset {
			return 0, 0, errorf(http.StatusBadRequest, CodeBadRequest, "cursor %q is not one this API gave out", truncate(v, 40))
		}
		offset = n
	}
	return offset, limit, nil
}

func cursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func page[T any](items []T, offset, limit int) Page[T] {
	if items == nil {
		items = []T{}
	}
	if offset >= len(items) {
		return Page[T]{Items: []T{}}
	}
	p := Page[T]{Items: items[offset:min(len(items), offset+limit)]}
	if offset+limit < len(items) {
		p.NextCursor = cursor(offset + limit)
	}
	return p
}

// --- scopes ---

// sees reports whether the caller may see a watchlist: its team and brand in
// the scope, and a region in common (a global list, of no region, is seen by
// every region).
func (id Identity) sees(spec watchlist.Spec) bool {
	s := id.Scope
	if !in(s.Teams, spec.Team) || !in(s.Brands, spec.Brand) {
		return false
	}
	if len(s.Regions) == 0 || len(spec.Regions) == 0 {
		return true
	}
	for _, r := range spec.Regions {
		if slices.Contains(s.Regions, r) {
			return true
		}
	}
	return false
}

// seesRecord reports whether the caller may see a stored watchlist: its
// working revision or its live one.
func (id Identity) seesRecord(rec watchlist.Record) bool {
	return id.sees(rec.Spec) || rec.Live != nil && id.sees(*rec.Live)
}

// owns reports whether the caller may change a watchlist: seen, and every
// region of it in the scope (a region-scoped caller may not change a
// global list).
func (id Identity) owns(spec watchlist.Spec) bool {
	if !id.sees(spec) {
		return false
	}
	if len(id.Scope.Regions) == 0 {
		return true
	}
	if len(spec.Regions) == 0 {
		return false
	}
	for _, r := range spec.Regions {
		if !slices.Contains(id.Scope.Regions, r) {
			return false
		}
	}
	return true
}

// seesQueue reports whether the caller may see a queue: its team and the
// team's region in the scope. A queue holds the alerts of every brand, so
// a caller narrowed to brands sees none.
func (s *Server) seesQueue(id Identity, queue string) bool {
	queues := s.queueMap()
	if queues == nil || len(id.Scope.Brands) > 0 {
		return id.Scope.Unscoped()
	}
	q, ok := queues[queue]
	// A market team sees the queues of its market's teams and those of
	// teams of no market (a regional queue holds every market's alerts,
	// of which it sees its own); not another market's.
	return ok && in(id.Scope.Teams, q.Team) && in(id.Scope.Regions, q.Region) && (q.Market == "" || id.Scope.seesMarket(q.Market))
}

// queueMap returns the queues in force: read again through d.QueuesFrom
// once the last reading is queuesMaxAge old. A reading that fails keeps the
// last one (logged): the files are written atomically, so a failure is a
// broken file, which the route stage refuses too.
func (s *Server) queueMap() map[string]QueueInfo {
	s.queuesMu.Lock()
	defer s.queuesMu.Unlock()
	if s.d.QueuesFrom != nil && time.Since(s.queuesAt) >= s.queuesMaxAge {
		s.queuesAt = time.Now()
		q, err := s.d.QueuesFrom()
		if err != nil {
			s.d.Log.Error("reading the queues of the routing organisation; keeping the last reading", "err", err)
		} else {
			s.queues = q
		}
	}
	return s.queues
}

// --- watchlists ---

func (s *Server) watchlists() (WatchlistStore, error) {
	if s.d.Watchlists == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no watchlist store is configured")
	}
	return s.d.Watchlists, nil
}

// storeError maps the store's errors to answers.
func storeError(err error, id string) error {
	var inv *watchlist.InvalidError
	switch {
	case errors.Is(err, watchlist.ErrNotFound):
		return errorf(http.StatusNotFound, CodeNotFound, "watchlist %q not found", id)
	case errors.Is(err, watchlist.ErrConflict):
		return errorf(http.StatusConflict, CodeConflict, "watchlist %q changed since it was read: get it again and re-apply your edit", id)
	case errors.Is(err, watchlist.ErrSelfApproval):
		return errorf(http.StatusForbidden, CodeSelfApproval, "%v", err)
	case errors.Is(err, watchlist.ErrState):
		return errorf(http.StatusConflict, CodeState, "%v", err)
	case errors.As(err, &inv):
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Message: "the watchlist does not validate", Details: strings.Split(inv.Err.Error(), "\n")}
	}
	return err
}

// visible loads a watchlist the caller may see; any other is 404, so ids
// of other teams do not leak.
func (s *Server) visible(c *call) (watchlist.Record, error) {
	st, err := s.watchlists()
	if err != nil {
		return watchlist.Record{}, err
	}
	id, err := pathID(c, "id", watchlistID)
	if err != nil {
		return watchlist.Record{}, err
	}
	rec, err := st.Get(id)
	if err != nil {
		return rec, storeError(err, id)
	}
	if !c.id.seesRecord(rec) {
		return rec, errorf(http.StatusNotFound, CodeNotFound, "watchlist %q not found", id)
	}
	return rec, nil
}

// owned loads a watchlist the caller may change: 404 if unseen, 403 if seen
// but not theirs to change.
func (s *Server) owned(c *call) (watchlist.Record, error) {
	rec, err := s.visible(c)
	if err != nil {
		return rec, err
	}
	if !c.id.owns(rec.Spec) {
		return rec, errorf(http.StatusForbidden, CodeOutOfScope, "watchlist %q is outside your scope to change", rec.ID)
	}
	return rec, nil
}

func (s *Server) listWatchlists(c *call) error {
	st, err := s.watchlists()
	if err != nil {
		return err
	}
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	switch st := watchlist.Status(q.Get("status")); st {
	case "", watchlist.Draft, watchlist.Pending, watchlist.Approved, watchlist.Live, watchlist.Paused, watchlist.Rejected:
	default:
		return errorf(http.StatusBadRequest, CodeBadRequest, "status %q: want draft, pending, live, paused or rejected", truncate(string(st), 20))
	}
	f := watchlist.Filter{Teams: c.id.Scope.Teams, Brands: c.id.Scope.Brands, Regions: c.id.Scope.Regions, Status: watchlist.Status(q.Get("status"))}
	var out []watchlist.Record
	for _, rec := range st.List(f) {
		if c.id.sees(rec.Spec) && (q.Get("team") == "" || rec.Team == q.Get("team")) {
			out = append(out, rec)
		}
	}
	return c.json(http.StatusOK, page(out, offset, limit))
}

func (s *Server) getWatchlist(c *call) error {
	rec, err := s.visible(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, rec)
}

func (s *Server) watchlistHistory(c *call) error {
	rec, err := s.visible(c)
	if err != nil {
		return err
	}
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	h, err := s.d.Watchlists.History(rec.ID)
	if err != nil {
		return storeError(err, rec.ID)
	}
	return c.json(http.StatusOK, page(h, offset, limit))
}

// inScope refuses a spec the caller may not write: 403, naming why.
func inScope(c *call, spec watchlist.Spec) error {
	if !watchlistID.MatchString(spec.ID) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Message: "the watchlist does not validate", Details: []string{"id " + strconv.Quote(truncate(spec.ID, 80)) + ": want " + watchlistID.String()}}
	}
	if !c.id.owns(spec) {
		return &Error{Status: http.StatusForbidden, Code: CodeOutOfScope, Message: "the watchlist's team, brand or regions are outside your scope", Details: c.id.Scope}
	}
	return nil
}

func (s *Server) validateWatchlist(c *call) error {
	st, err := s.watchlists()
	if err != nil {
		return err
	}
	var spec watchlist.Spec
	if e := decodeJSON(c.r, &spec, false); e != nil {
		return e
	}
	if err := st.Validate(spec); err != nil {
		return storeError(err, spec.ID)
	}
	return c.json(http.StatusOK, map[string]bool{"valid": true})
}

func (s *Server) createWatchlist(c *call) error {
	st, err := s.watchlists()
	if err != nil {
		return err
	}
	var spec watchlist.Spec
	if e := decodeJSON(c.r, &spec, false); e != nil {
		return e
	}
	if err := inScope(c, spec); err != nil {
		return err
	}
	if old, err := st.Get(spec.ID); err == nil {
		if !c.id.sees(old.Spec) {
			// Another team's id: say no more than that the id is taken.
			return errorf(http.StatusConflict, CodeConflict, "watchlist id %q is taken", spec.ID)
		}
		return errorf(http.StatusConflict, CodeConflict, "watchlist %q exists: PUT /v1/watchlists/%s with its if_version to edit it", spec.ID, spec.ID)
	} else if !errors.Is(err, watchlist.ErrNotFound) {
		return err
	}
	if theirs, err := deletedByOthers(c, st, spec.ID); err != nil {
		return err
	} else if theirs {
		// A deleted list's id names its history and the posts it caught
		// (search, insights by watchlist): it stays its team's.
		return errorf(http.StatusConflict, CodeConflict, "watchlist id %q is taken", spec.ID)
	}
	rec, err := st.Apply(c.r.Context(), c.id.Name, spec, 0)
	if err != nil {
		return storeError(err, spec.ID)
	}
	if err := c.audit("watchlist.create", "watchlist", rec.ID, nil, rec); err != nil {
		return err
	}
	c.w.Header().Set("Location", "/v1/watchlists/"+rec.ID)
	return c.json(http.StatusCreated, rec)
}

// deletedByOthers reports whether a deleted watchlist's id was ever a
// list the caller may not see: re-creating it would hand them its history
// and the posts it matched.
func deletedByOthers(c *call, st WatchlistStore, id string) (bool, error) {
	h, err := st.History(id)
	if errors.Is(err, watchlist.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, ch := range h {
		for _, r := range []*watchlist.Record{ch.Before, ch.After} {
			if r != nil && !c.id.seesRecord(*r) {
				return true, nil
			}
		}
	}
	return false, nil
}

// EditRequest is the body of PUT /v1/watchlists/{id}.
type EditRequest struct {
	IfVersion int            `json:"if_version"` // the version read; a stale one is 409
	Spec      watchlist.Spec `json:"spec"`
}

func (s *Server) putWatchlist(c *call) error {
	before, err := s.owned(c)
	if err != nil {
		return err
	}
	var req EditRequest
	if e := decodeJSON(c.r, &req, false); e != nil {
		return e
	}
	if req.Spec.ID == "" {
		req.Spec.ID = before.ID
	}
	if req.Spec.ID != before.ID {
		return errorf(http.StatusBadRequest, CodeBadRequest, "spec.id %q is not the path's %q", truncate(req.Spec.ID, 80), before.ID)
	}
	if req.IfVersion < 1 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "if_version: the version you read is required (it is %d now)", before.Version)
	}
	if err := inScope(c, req.Spec); err != nil {
		return err
	}
	rec, err := s.d.Watchlists.Apply(c.r.Context(), c.id.Name, req.Spec, req.IfVersion)
	if err != nil {
		return storeError(err, before.ID)
	}
	if err := c.audit("watchlist.edit", "watchlist", rec.ID, before, rec); err != nil {
		return err
	}
	return c.json(http.StatusOK, rec)
}

// NoteRequest is the optional body of the transitions and acknowledgements.
type NoteRequest struct {
	Note string `json:"note"`
}

// ReviewRequest is the body of a watchlist's approve (required) and reject
// (optional): the version the reviewer read, so that nobody approves a
// revision edited after they reviewed it.
type ReviewRequest struct {
	IfVersion *int   `json:"if_version"`
	Note      string `json:"note"`
}

const maxNote = 2000

func readNote(c *call) (string, error) {
	var n NoteRequest
	if e := decodeJSON(c.r, &n, true); e != nil {
		return "", e
	}
	if len(n.Note) > maxNote {
		return "", errorf(http.StatusBadRequest, CodeBadRequest, "note: %d bytes, at most %d", len(n.Note), maxNote)
	}
	return n.Note, nil
}

func (s *Server) deleteWatchlist(c *call) error {
	before, err := s.owned(c)
	if err != nil {
		return err
	}
	if before.InLive() && !c.id.Role.Can(ReviewWatchlists) {
		// Deleting a live list stops it matching, as a pause does: that
		// takes a coach, or one gatherer could drop a team's watch unreviewed.
		return errorf(http.StatusForbidden, CodeForbidden, "watchlist %q is live: a coach pauses it first (deleting it would stop it matching without review)", before.ID)
	}
	note := c.r.URL.Query().Get("note")
	if len(note) > maxNote {
		return errorf(http.StatusBadRequest, CodeBadRequest, "note: %d bytes, at most %d", len(note), maxNote)
	}
	if err := s.d.Watchlists.Delete(c.r.Context(), c.id.Name, before.ID, note); err != nil {
		return storeError(err, before.ID)
	}
	if err := c.audit("watchlist.delete", "watchlist", before.ID, before, nil); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// transition is submit (a gatherer's, of their own team's list) or
// approve, reject, pause, resume (a coach's, of the teams they coach).
func (s *Server) transition(name string) handler {
	return func(c *call) error {
		load := s.visible
		if name == "submit" {
			load = s.owned
		}
		before, err := load(c)
		if err != nil {
			return err
		}
		if name != "submit" && !c.id.owns(before.Spec) {
			return errorf(http.StatusForbidden, CodeOutOfScope, "watchlist %q is not of a team you coach", before.ID)
		}
		var note string
		version := -1 // any: the transitions that change no rule
		if name == "approve" || name == "reject" {
			var req ReviewRequest
			if e := decodeJSON(c.r, &req, true); e != nil {
				return e
			}
			if len(req.Note) > maxNote {
				return errorf(http.StatusBadRequest, CodeBadRequest, "note: %d bytes, at most %d", len(req.Note), maxNote)
			}
			switch {
			case req.IfVersion != nil && *req.IfVersion < 1:
				return errorf(http.StatusBadRequest, CodeBadRequest, "if_version %d: want the version you reviewed (1 or more)", *req.IfVersion)
			case req.IfVersion != nil:
				version = *req.IfVersion
			case name == "approve":
				return errorf(http.StatusBadRequest, CodeBadRequest, "if_version: an approval names the version reviewed (the version field of GET /v1/watchlists/%s)", before.ID)
			}
			if version >= 0 && before.Version != version {
				return errorf(http.StatusConflict, CodeConflict, "watchlist %s is at version %d, not the %d reviewed: review it again", before.ID, before.Version, version)
			}
			note = req.Note
		} else if note, err = readNote(c); err != nil {
			return err
		}
		st, ctx := s.d.Watchlists, c.r.Context()
		var rec watchlist.Record
		switch name {
		case "submit":
			rec, err = st.Submit(ctx, c.id.Name, before.ID, note)
		case "approve":
			// the store checks the version again, under its lock: an edit
			// between the read above and here is a conflict too
			rec, err = st.ApproveVersion(ctx, c.id.Name, before.ID, version, note)
		case "reject":
			rec, err = st.Reject(ctx, c.id.Name, before.ID, note)
		case "pause":
			rec, err = st.Pause(ctx, c.id.Name, before.ID, note)
		case "resume":
			rec, err = st.Resume(ctx, c.id.Name, before.ID, note)
		}
		if err != nil {
			return storeError(err, before.ID)
		}
		if err := c.audit("watchlist."+name, "watchlist", rec.ID, before, rec); err != nil {
			return err
		}
		return c.json(http.StatusOK, rec)
	}
}

// BacktestRequest is the body of the backtests: how far back to run, and
// (POST /v1/watchlists/backtest) the draft to run.
type BacktestRequest struct {
	Since string          `json:"since"` // e.g. 24h, 7d; at most 30d
	Spec  *watchlist.Spec `json:"spec,omitempty"`
}

// searchTime reads a search's since or until: "" (none), an RFC 3339 time,
// or a duration back from now such as 2d or 36h.
func searchTime(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errorf(http.StatusBadRequest, CodeBadRequest, "%s %q: want an RFC 3339 time (2026-11-20T00:00:00Z) or a duration back from now (7d, 36h)", name, truncate(v, 40))
}

func parseSince(v string) (time.Duration, error) {
	if v == "" {
		return 24 * time.Hour, nil
	}
	d, err := ParseDuration(v)
	if err != nil || d <= 0 || d > 30*24*time.Hour {
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "since %q: want a duration up to 30d, e.g. 24h or 7d", truncate(v, 40))
	}
	return d, nil
}

// ParseDuration reads a Go duration or a number of days (30d).
func ParseDuration(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 36500 {
			return 0, errors.New("bad number of days")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

func (s *Server) backtest(c *call, spec watchlist.Spec, since time.Duration) error {
	if s.d.Backtester == nil {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "backtests need the search index, which is not configured")
	}
	run := s.d.Backtester.Backtest
	if markets := c.id.Scope.Markets; len(markets) > 0 {
		// A market team sees its markets' posts only: the draft is tried
		// on those, and a backtester that cannot narrow is refused.
		mb, ok := s.d.Backtester.(MarketBacktester)
		if !ok {
			return errorf(http.StatusForbidden, CodeOutOfScope, "backtests here cannot be narrowed to markets; your token is scoped to %v", markets)
		}
		run = func(ctx context.Context, spec watchlist.Spec, since time.Duration) (any, error) {
			return mb.BacktestMarkets(ctx, spec, since, markets)
		}
	}
	var rep any
	err := s.heavy(c, s.queryTimeout, func(ctx context.Context) (err error) {
		rep, err = run(ctx, spec, since)
		return err
	})
	if err != nil {
		var inv *watchlist.InvalidError
		if errors.As(err, &inv) {
			return storeError(err, spec.ID)
		}
		return err
	}
	if r, ok := rep.(*backtest.Report); ok && !c.id.Scope.Unscoped() {
		// Another team's watchlist is not named to a scoped caller, here
		// either: its overlap is left out as if it did not exist.
		r.Overlap = slices.DeleteFunc(r.Overlap, func(o backtest.Overlap) bool { return !s.seesWatchlist(c.id, o.Watchlist) })
	}
	return c.json(http.StatusOK, rep)
}

// seesWatchlist reports whether id may see the stored watchlist of that id
// (one that is not in the store is seen by unscoped callers only).
func (s *Server) seesWatchlist(id Identity, wl string) bool {
	if id.Scope.Unscoped() {
		return true
	}
	if s.d.Watchlists == nil {
		return false
	}
	rec, err := s.d.Watchlists.Get(wl)
	return err == nil && id.seesRecord(rec)
}

func (s *Server) backtestWatchlist(c *call) error {
	rec, err := s.visible(c)
	if err != nil {
		return err
	}
	var req BacktestRequest
	if e := decodeJSON(c.r, &req, true); e != nil {
		return e
	}
	if req.Spec != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "spec: use POST /v1/watchlists/backtest to backtest a spec that is not stored")
	}
	since, err := parseSince(req.Since)
	if err != nil {
		return err
	}
	return s.backtest(c, rec.Spec, since)
}

func (s *Server) backtestSpec(c *call) error {
	var req BacktestRequest
	if e := decodeJSON(c.r, &req, false); e != nil {
		return e
	}
	if req.Spec == nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "spec: the draft to backtest is required")
	}
	if err := inScope(c, *req.Spec); err != nil {
		return err
	}
	since, err := parseSince(req.Since)
	if err != nil {
		return err
	}
	return s.backtest(c, *req.Spec, since)
}

// --- search ---

func (s *Server) search(c *call) error {
	if s.d.Searcher == nil {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no search index is configured")
	}
	// since and until: an RFC 3339 time, or a duration back from now (2d)
	// as the CLI takes them; they shadow the query's time fields.
	var body struct {
		search.Query
		Since string `json:"since"`
		Until string `json:"until"`
	}
	if e := decodeJSON(c.r, &body, false); e != nil {
		return e
	}
	q := body.Query
	var err error
	if q.Since, err = searchTime("since", body.Since, s.now()); err != nil {
		return err
	}
	if q.Until, err = searchTime("until", body.Until, s.now()); err != nil {
		return err
	}
	// How deep a query may page (from + size) is search.max_hits, which the
	// index checks: the API does not repeat it with a number of its own.
	if q.Size < 0 || q.Size > search.MaxSize || q.From < 0 || len(q.Text) > search.MaxText {
		return errorf(http.StatusBadRequest, CodeBadRequest, "size %d, from %d, q of %d bytes: want size 0 to %d, from 0 or more (from + size at most search.max_hits) and q of at most %d bytes",
			q.Size, q.From, len(q.Text), search.MaxSize, search.MaxText)
	}
	scope, any := s.searchScope(c.id)
	if !any {
		return c.json(http.StatusOK, &search.Result{Hits: []search.Hit{}, Facets: map[string][]search.Facet{}})
	}
	q.Scope = scope
	var res *search.Result
	err = s.heavy(c, s.queryTimeout, func(ctx context.Context) (err error) {
		res, err = s.d.Searcher.Search(ctx, q)
		return err
	})
	if err != nil {
		if errors.Is(err, search.ErrBadQuery) {
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "bad search query", Details: strings.Split(err.Error(), "\n")}
		}
		return err
	}
	return c.json(http.StatusOK, res)
}

// heavy runs f, a search, backtest or insight query of the caller: at most
// maxQueriesPerIdentity of theirs at once (one more waits up to queryWait for
// a turn, so that a dashboard's burst of panels queues instead of failing),
// each stopped after timeout (0: f has its own) with a 503 that says so.
func (s *Server) heavy(c *call, timeout time.Duration, f func(ctx context.Context) error) error {
	release, err := s.slot(c, "query", "searches, backtests or insight queries running", maxQueriesPerIdentity, s.queryWait)
	if err != nil {
		return err
	}
	defer release()
	ctx := c.r.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	err = f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && c.r.Context().Err() == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "the query ran longer than %v: narrow it (fewer days, more specific terms)", timeout)
	}
	return err
}

// searchScope turns the caller's scope into a search scope: the watchlists
// of their teams and brands, and their regions. any is false when the
// caller can see no watchlist at all (an empty list would mean "all").
func (s *Server) searchScope(id Identity) (scope *search.Scope, any bool) {
	if id.Scope.Unscoped() {
		return nil, true
	}
	scope = &search.Scope{Regions: id.Scope.Regions, Markets: id.Scope.Markets}
	if s.d.Watchlists == nil {
		// Without a store a region scope still narrows; a team or brand
		// scope cannot be told from everything.
		return scope, len(id.Scope.Teams)+len(id.Scope.Brands) == 0
	}
	// The watchlists the caller sees, for region scopes too: a post of
	// their region may have been caught by a list of another region as
	// well, which the hit and the facets must not name.
	for _, rec := range s.d.Watchlists.List(watchlist.Filter{Teams: id.Scope.Teams, Brands: id.Scope.Brands}) {
		if id.seesRecord(rec) {
			scope.Watchlists = append(scope.Watchlists, rec.ID)
		}
	}
	if len(scope.Watchlists) == 0 {
		return nil, false
	}
	return scope, true
}

// pushPosts takes a batch of posts from an identity with the ingest role,
// as the push endpoint does on its own address; the tenant is the
// identity's name. Its answers (202, 400, 413, 429 with Retry-After) are
// the push endpoint's.
func (s *Server) pushPosts(c *call) error {
	var target PushTarget
	if s.d.Push != nil {
		target = s.d.Push()
	}
	if target == nil {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "this process does not ingest pushed posts (ingest.source: push with an empty ingest.push.addr)")
	}
	target.ServeTenant(c.w, c.r, c.id.Name)
	return nil
}
