package api

import (
	"context"
	"errors"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/watchlist"
)

// fakeWatchlists is an in-process stand-in for *watchlist.Store with its
// transitions and four-eyes rule, for fast unit tests of the API's checks.
type fakeWatchlists struct {
	mu      sync.Mutex
	recs    map[string]*watchlist.Record
	history []watchlist.Change
}

func newFakeWatchlists() *fakeWatchlists {
	return &fakeWatchlists{recs: map[string]*watchlist.Record{}}
}

func (f *fakeWatchlists) List(fl watchlist.Filter) []watchlist.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []watchlist.Record
	for _, r := range f.recs {
		if (len(fl.Teams) == 0 || slices.Contains(fl.Teams, r.Team)) && (len(fl.Brands) == 0 || slices.Contains(fl.Brands, r.Brand)) && (fl.Status == "" || r.Status == fl.Status) {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (f *fakeWatchlists) Get(id string) (watchlist.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.recs[id]; r != nil {
		return *r, nil
	}
	return watchlist.Record{}, watchlist.ErrNotFound
}

func (f *fakeWatchlists) Validate(spec watchlist.Spec) error {
	if spec.Rule == "" && len(spec.Keywords) == 0 {
		return &watchlist.InvalidError{Err: errors.New(spec.ID + ": a rule or keywords are required")}
	}
	return nil
}

func (f *fakeWatchlists) change(actor, action, note string, before *watchlist.Record, after *watchlist.Record) {
	c := watchlist.Change{Seq: len(f.history) + 1, Action: action, Actor: actor, At: time.Now(), Note: note}
	if before != nil {
		b := *before
		c.Before, c.ID = &b, b.ID
	}
	if after != nil {
		a := *after
		c.After, c.ID, c.Version = &a, a.ID, a.Version
	}
	f.history = append(f.history, c)
}

func (f *fakeWatchlists) Apply(_ context.Context, actor string, spec watchlist.Spec, ifVersion int) (watchlist.Record, error) {
	if err := f.Validate(spec); err != nil {
		return watchlist.Record{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.recs[spec.ID]
	if (old == nil) != (ifVersion == 0) || old != nil && old.Version != ifVersion {
		return watchlist.Record{}, watchlist.ErrConflict
	}
	r := &watchlist.Record{Spec: spec, Status: watchlist.Draft, Version: 1, UpdatedBy: actor, UpdatedAt: time.Now()}
	if old != nil {
		r.Version, r.Live, r.LiveVersion = old.Version+1, old.Live, old.LiveVersion
	}
	f.recs[spec.ID] = r
	f.change(actor, "apply", "", old, r)
	return *r, nil
}

func (f *fakeWatchlists) move(actor, id, note, action string, from []watchlist.Status, to watchlist.Status) (watchlist.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recs[id]
	if r == nil {
		return watchlist.Record{}, watchlist.ErrNotFound
	}
	if !slices.Contains(from, r.Status) {
		return watchlist.Record{}, watchlist.ErrState
	}
	if action == "approve" && actor == r.UpdatedBy {
		return watchlist.Record{}, watchlist.ErrSelfApproval
	}
	before := *r
	r.Status = to
	switch action {
	case "submit":
		r.SubmittedBy = actor
	case "approve":
		live := r.Spec
		r.Live, r.LiveVersion, r.ApprovedBy, r.ApprovedAt = &live, r.Version, actor, time.Now()
	}
	f.change(actor, action, note, &before, r)
	return *r, nil
}

func (f *fakeWatchlists) Submit(_ context.Context, actor, id, note string) (watchlist.Record, error) {
	return f.move(actor, id, note, "submit", []watchlist.Status{watchlist.Draft, watchlist.Rejected}, watchlist.Pending)
}
func (f *fakeWatchlists) ApproveVersion(_ context.Context, actor, id string, version int, note string) (watchlist.Record, error) {
	f.mu.Lock()
	r := f.recs[id]
	f.mu.Unlock()
	if r != nil && r.Version != version {
		return watchlist.Record{}, watchlist.ErrConflict
	}
	return f.move(actor, id, note, "approve", []watchlist.Status{watchlist.Pending}, watchlist.Live)
}
func (f *fakeWatchlists) Reject(_ context.Context, actor, id, note string) (watchlist.Record, error) {
	return f.move(actor, id, note, "reject", []watchlist.Status{watchlist.Pending}, watchlist.Rejected)
}
func (f *fakeWatchlists) Pause(_ context.Context, actor, id, note string) (watchlist.Record, error) {
	return f.move(actor, id, note, "pause", []watchlist.Status{watchlist.Live}, watchlist.Paused)
}
func (f *fakeWatchlists) Resume(_ context.Context, actor, id, note string) (watchlist.Record, error) {
	return f.move(actor, id, note, "resume", []watchlist.Status{watchlist.Paused}, watchlist.Live)
}
func (f *fakeWatchlists) Delete(_ context.Context, actor, id, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recs[id]
	if r == nil {
		return watchlist.ErrNotFound
	}
	delete(f.recs, id)
	f.change(actor, "delete", note, r, nil)
	return nil
}
func (f *fakeWatchlists) History(id string) ([]watchlist.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []watchlist.Change
	for _, c := range f.history {
		if c.ID == id {
			out = append(out, c)
		}
	}
	if out == nil && f.recs[id] == nil {
		return nil, watchlist.ErrNotFound
	}
	return out, nil
}

// fakeSearcher records the last query it was asked.
type fakeSearcher struct {
	mu   sync.Mutex
	last *search.Query
}

func (f *fakeSearcher) Search(_ context.Context, q search.Query) (*search.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = &q
	return &search.Result{Total: 1, Hits: []search.Hit{{Key: "bsky/1", Text: "hello " + q.Text}}, Facets: map[string][]search.Facet{}}, nil
}

type fakeBacktester struct{}

func (fakeBacktester) Backtest(_ context.Context, spec watchlist.Spec, since time.Duration) (any, error) {
	return map[string]any{"watchlist": spec.ID, "since": since.String(), "matched": 3}, nil
}

type fakeInsights struct{}

func (fakeInsights) List() []insights.Query {
	return []insights.Query{
		{Name: "volume_by_platform", Title: "Volume", Params: []insights.Param{{Name: "since", Type: "duration"}}},
		{Name: "mentions_by_watchlist", Title: "Mentions", Params: []insights.Param{{Name: "watchlist", Type: "string"}, {Name: "region", Type: "string", Default: ""}}},
		{Name: "markets_alerts_sla", Title: "Alerts by market", Params: []insights.Param{{Name: "level", Type: "string", Default: "region"}, {Name: "region", Type: "string", Default: ""}, {Name: "market", Type: "string", Default: ""}}},
	}
}

func (fakeInsights) Run(_ context.Context, name string, params map[string]string) (*insights.Table, error) {
	return &insights.Table{Columns: []string{"name", "watchlist"}, Types: []string{"String", "String"}, Rows: [][]any{{name, params["watchlist"]}}}, nil
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
