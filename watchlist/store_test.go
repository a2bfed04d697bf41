package watchlist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

var ctx = context.Background()

// clock is a fake Now that moves a second per call.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time {
	return time.Unix(1_700_000_000+c.t.Add(1), 0)
}

// publisher records what Publish was given, and can fail.
type publisher struct {
	mu    sync.Mutex
	sets  [][]match.Watchlist
	fail  error
	calls int
}

func (p *publisher) publish(_ context.Context, live []match.Watchlist) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.fail != nil {
		return p.fail
	}
	p.sets = append(p.sets, live)
	return nil
}

func (p *publisher) last() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sets) == 0 {
		return nil
	}
	out := map[string]int{}
	for _, w := range p.sets[len(p.sets)-1] {
		out[w.ID] = w.Version
	}
	return out
}

func open(t *testing.T, dir string, mod func(*Options)) *Store {
	t.Helper()
	c := &clock{}
	o := Options{LiveDir: DefaultLiveDir(dir), Now: c.now, TeamQuota: 1000}
	if mod != nil {
		mod(&o)
	}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// liveVersions reads the live directory as match.Watch would.
func liveVersions(t *testing.T, dir string) map[string]int {
	t.Helper()
	lists, err := match.LoadDir(dir)
	if err != nil {
		t.Fatalf("the live directory does not load: %v", err)
	}
	out := map[string]int{}
	for _, w := range lists {
		if w.Live() {
			out[w.ID] = w.Version
		}
	}
	return out
}

func must(t *testing.T) func(Record, error) Record {
	return func(r Record, err error) Record {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func spec(id, rule string) Spec {
	return Spec{ID: id, Name: "List " + id, Team: "care", Brand: "acme", Rule: rule}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	pub := &publisher{}
	s := open(t, dir, func(o *Options) { o.Publish = pub.publish })
	live := DefaultLiveDir(dir)

	r := must(t)(s.Apply(ctx, "ann", spec("acme", "acme"), 0))
	if r.Status != Draft || r.Version != 1 || r.Live != nil || r.UpdatedBy != "ann" {
		t.Fatalf("created: %+v", r)
	}
	if _, err := s.Approve(ctx, "bob", "acme", ""); !errors.Is(err, ErrState) {
		t.Fatalf("approving a draft: %v, want ErrState", err)
	}
	r = must(t)(s.Submit(ctx, "ann", "acme", "please"))
	if r.Status != Pending || r.SubmittedBy != "ann" {
		t.Fatalf("submitted: %+v", r)
	}
	if _, err := s.Approve(ctx, "ann", "acme", ""); !errors.Is(err, ErrSelfApproval) {
		t.Fatalf("approving one's own change: %v, want ErrSelfApproval", err)
	}
	if pub.calls != 0 {
		t.Fatalf("published %d times before any approval", pub.calls)
	}
	r = must(t)(s.Approve(ctx, "bob", "acme", "ok"))
	if r.Status != Live || r.LiveVersion != 1 || r.Live == nil || r.Live.Rule != "acme" || r.ApprovedBy != "bob" || r.ApprovedAt.IsZero() {
		t.Fatalf("approved: %+v", r)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"acme": 1}) {
		t.Fatalf("live directory: %v", got)
	}
	if got := pub.last(); !equalMap(got, map[string]int{"acme": 1}) {
		t.Fatalf("published: %v", got)
	}

	// An edit is a draft; the approved revision keeps matching.
	r = must(t)(s.Apply(ctx, "ann", spec("acme", "acme OR acmephone"), 1))
	if r.Status != Draft || r.Version != 2 || r.LiveVersion != 1 || r.Live.Rule != "acme" {
		t.Fatalf("edited: %+v", r)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"acme": 1}) {
		t.Fatalf("the edit reached the live directory before approval: %v", got)
	}
	must(t)(s.Submit(ctx, "ann", "acme", ""))
	r = must(t)(s.Reject(ctx, "bob", "acme", "too broad"))
	if r.Status != Rejected || r.LiveVersion != 1 {
		t.Fatalf("rejected: %+v", r)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"acme": 1}) {
		t.Fatalf("after rejection: %v", got)
	}
	// Resubmitted and approved by someone else, version 2 goes live.
	must(t)(s.Submit(ctx, "ann", "acme", "again"))
	r = must(t)(s.Approve(ctx, "cat", "acme", ""))
	if r.Status != Live || r.LiveVersion != 2 || r.Live.Rule != "acme OR acmephone" {
		t.Fatalf("second approval: %+v", r)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"acme": 2}) {
		t.Fatalf("live directory: %v", got)
	}

	h, err := s.History("acme")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i, c := range h {
		actions = append(actions, c.Action+":"+c.Actor)
		if c.At.IsZero() || c.After == nil || (i > 0 && c.Before == nil) || (i > 0 && c.Seq <= h[i-1].Seq) {
			t.Errorf("change %d: %+v", i, c)
		}
	}
	want := []string{"apply:ann", "submit:ann", "approve:bob", "apply:ann", "submit:ann", "reject:bob", "submit:ann", "approve:cat"}
	if !slices.Equal(actions, want) {
		t.Errorf("history %v, want %v", actions, want)
	}
	if h[5].Note != "too broad" || h[5].Before.Status != Pending || h[5].After.Status != Rejected {
		t.Errorf("the rejection: %+v", h[5])
	}
}

func equalMap(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestApplyConflicts(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	must(t)(s.Apply(ctx, "ann", spec("a", "x"), 0))
	for _, tc := range []struct {
		name string
		ifv  int
		want error
	}{
		{"create again", 0, ErrConflict},
		{"stale", 7, ErrConflict},
	} {
		if _, err := s.Apply(ctx, "ann", spec("a", "y"), tc.ifv); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.Apply(ctx, "ann", spec("b", "y"), 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("editing a missing list: %v", err)
	}
	// -1 edits whatever is there; the same spec again changes nothing.
	r := must(t)(s.Apply(ctx, "bob", spec("a", "y"), -1))
	if r.Version != 2 {
		t.Errorf("version %d", r.Version)
	}
	r = must(t)(s.Apply(ctx, "bob", spec("a", "y"), 2))
	if r.Version != 2 {
		t.Errorf("an identical apply made version %d", r.Version)
	}
	if h, _ := s.History("a"); len(h) != 2 {
		t.Errorf("%d changes, want 2", len(h))
	}
	if _, err := s.Apply(ctx, " ", spec("c", "y"), 0); err == nil {
		t.Error("a change with no actor was taken")
	}
}

func TestInvalid(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	for _, tc := range []struct {
		name string
		sp   Spec
		want string
	}{
		{"traversal", spec("../x", "a"), `id "../x"`},
		{"slash", spec("a/b", "a"), `id "a/b"`},
		{"nul", spec("a\x00b", "a"), `id "a\x00b"`},
		{"empty id", spec("", "a"), `id ""`},
		{"upper", spec("Acme", "a"), `id "Acme"`},
		{"dot", spec(".", "a"), `id "."`},
		{"no team", Spec{ID: "a", Rule: "x"}, "team: required"},
		{"bad rule", spec("a", "acme AND"), "rule: line 1, column 6: AND needs a keyword"},
		{"nothing", Spec{ID: "a", Team: "t"}, "a rule or at least one keyword"},
		{"both", Spec{ID: "a", Team: "t", Rule: "x", Keywords: []string{"y"}}, "not both"},
	} {
		_, err := s.Apply(ctx, "ann", tc.sp, 0)
		var ie *InvalidError
		if !errors.As(err, &ie) || !errors.Is(err, strictyaml.ErrInvalid) {
			t.Errorf("%s: %v, want an *InvalidError", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.want)
		}
		if err := s.Validate(tc.sp); err == nil {
			t.Errorf("%s: Validate passed it", tc.name)
		}
	}
	for _, id := range []string{"../x", "a/b", "a\x00"} {
		if _, err := s.Get(id); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want an invalid id", id, err)
		}
		if _, err := s.History(id); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("History(%q): %v", id, err)
		}
		if _, err := s.Approve(ctx, "bob", id, ""); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Approve(%q): %v", id, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(s.dir, "lists")); len(entries) != 0 {
		t.Errorf("invalid applies left files: %v", entries)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a missing list: %v", err)
	}
}

// approve runs a list from apply to live.
func approve(t *testing.T, s *Store, sp Spec) Record {
	t.Helper()
	ifv := 0
	if r, err := s.Get(sp.ID); err == nil {
		ifv = r.Version
	}
	must(t)(s.Apply(ctx, "ann", sp, ifv))
	must(t)(s.Submit(ctx, "ann", sp.ID, ""))
	return must(t)(s.Approve(ctx, "bob", sp.ID, ""))
}

func TestApproveRefusesABadSet(t *testing.T) {
	dir := t.TempDir()
	pub := &publisher{}
	s := open(t, dir, func(o *Options) { o.Publish = pub.publish; o.TeamQuota = 3 })
	approve(t, s, spec("a", "one OR two"))
	// Alone it is valid; with a's two keywords the team is over its quota.
	must(t)(s.Apply(ctx, "ann", spec("b", "three OR four"), 0))
	must(t)(s.Submit(ctx, "ann", "b", ""))
	hist, _ := os.ReadFile(filepath.Join(dir, historyFile))
	calls := pub.calls
	_, err := s.Approve(ctx, "bob", "b", "")
	var ie *InvalidError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "over the quota of 3") {
		t.Fatalf("approving over quota: %v", err)
	}
	if r, _ := s.Get("b"); r.Status != Pending || r.Live != nil {
		t.Errorf("after a refused approval: %+v", r)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, historyFile)); string(after) != string(hist) {
		t.Error("a refused approval was recorded")
	}
	if pub.calls != calls {
		t.Error("a refused set was published")
	}
	if got := liveVersions(t, DefaultLiveDir(dir)); !equalMap(got, map[string]int{"a": 1}) {
		t.Errorf("live directory: %v", got)
	}
	// Pausing a frees the quota; b can go live; resuming a is then refused.
	must(t)(s.Pause(ctx, "bob", "a", ""))
	must(t)(s.Approve(ctx, "bob", "b", ""))
	if _, err := s.Resume(ctx, "bob", "a", ""); !errors.As(err, &ie) {
		t.Errorf("resuming over quota: %v", err)
	}
	if got := liveVersions(t, DefaultLiveDir(dir)); !equalMap(got, map[string]int{"b": 1}) {
		t.Errorf("live directory: %v", got)
	}
}

func TestPublishFailureChangesNothing(t *testing.T) {
	dir := t.TempDir()
	pub := &publisher{}
	s := open(t, dir, func(o *Options) { o.Publish = pub.publish })
	approve(t, s, spec("a", "one"))
	must(t)(s.Apply(ctx, "ann", spec("a", "two"), 1))
	must(t)(s.Submit(ctx, "ann", "a", ""))
	pub.fail = errors.New("kafka is down")
	if _, err := s.Approve(ctx, "bob", "a", ""); err == nil || !strings.Contains(err.Error(), "kafka is down") {
		t.Fatalf("approve with a failing publish: %v", err)
	}
	if r, _ := s.Get("a"); r.Status != Pending || r.LiveVersion != 1 {
		t.Errorf("after a failed publish: %+v", r)
	}
	if got := liveVersions(t, DefaultLiveDir(dir)); !equalMap(got, map[string]int{"a": 1}) {
		t.Errorf("the live directory was not put back: %v", got)
	}
	pub.fail = nil
	must(t)(s.Approve(ctx, "bob", "a", ""))
	if got := pub.last(); !equalMap(got, map[string]int{"a": 2}) {
		t.Errorf("published %v", got)
	}
}

func TestPauseResume(t *testing.T) {
	dir := t.TempDir()
	live := DefaultLiveDir(dir)
	s := open(t, dir, nil)
	approve(t, s, spec("a", "one"))
	approve(t, s, spec("b", "two"))
	r := must(t)(s.Pause(ctx, "bob", "a", "legal hold"))
	if r.Status != Paused || !r.Paused {
		t.Fatalf("paused: %+v", r)
	}
	if _, err := s.Pause(ctx, "bob", "a", ""); !errors.Is(err, ErrState) {
		t.Errorf("pausing twice: %v", err)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"b": 1}) {
		t.Errorf("live: %v", got)
	}
	// An edit of a paused list is approved but stays out until resumed.
	must(t)(s.Apply(ctx, "ann", spec("a", "one OR uno"), 1))
	must(t)(s.Submit(ctx, "ann", "a", ""))
	r = must(t)(s.Approve(ctx, "bob", "a", ""))
	if r.Status != Approved || r.LiveVersion != 2 {
		t.Fatalf("approved while paused: %+v", r)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"b": 1}) {
		t.Errorf("live: %v", got)
	}
	r = must(t)(s.Resume(ctx, "cat", "a", ""))
	if r.Status != Live || r.Paused {
		t.Fatalf("resumed: %+v", r)
	}
	if got := liveVersions(t, live); !equalMap(got, map[string]int{"a": 2, "b": 1}) {
		t.Errorf("live: %v", got)
	}
	if _, err := s.Resume(ctx, "cat", "a", ""); !errors.Is(err, ErrState) {
		t.Errorf("resuming a live list: %v", err)
	}
	// With every list paused the directory still loads, and matches nothing.
	must(t)(s.Pause(ctx, "bob", "a", ""))
	must(t)(s.Pause(ctx, "bob", "b", ""))
	if got := liveVersions(t, live); len(got) != 0 {
		t.Errorf("live: %v", got)
	}
	// A draft that was never approved cannot be paused.
	must(t)(s.Apply(ctx, "ann", spec("c", "three"), 0))
	if _, err := s.Pause(ctx, "bob", "c", ""); !errors.Is(err, ErrState) {
		t.Errorf("pausing a draft: %v", err)
	}
}

func TestDelete(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	approve(t, s, spec("a", "one"))
	approve(t, s, spec("a", "two"))
	if err := s.Delete(ctx, "bob", "a", "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after delete: %v", err)
	}
	if got := liveVersions(t, DefaultLiveDir(dir)); len(got) != 0 {
		t.Errorf("live: %v", got)
	}
	h, err := s.History("a")
	if err != nil || len(h) != 7 || h[6].Action != "delete" || h[6].After != nil || h[6].Before.Version != 2 {
		t.Fatalf("history after delete: %v %+v", err, h)
	}
	// Created again, it does not reuse a version a match may have recorded.
	r := must(t)(s.Apply(ctx, "ann", spec("a", "three"), 0))
	if r.Version != 3 {
		t.Errorf("recreated at version %d, want 3", r.Version)
	}
	if err := s.Delete(ctx, "bob", "zzz", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a missing list: %v", err)
	}
}

func TestRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	approve(t, s, spec("a", "one"))
	must(t)(s.Apply(ctx, "ann", spec("a", "two"), 1))
	before, _ := s.History("a")
	s.Close()

	s2 := open(t, dir, nil)
	r := must(t)(s2.Get("a"))
	if r.Version != 2 || r.Status != Draft || r.LiveVersion != 1 || r.Live.Rule != "one" {
		t.Errorf("after reopening: %+v", r)
	}
	after, err := s2.History("a")
	if err != nil || len(after) != len(before) || after[3].Actor != "ann" || after[3].Before.Version != 1 {
		t.Errorf("history after reopening: %v %+v", err, after)
	}
	must(t)(s2.Submit(ctx, "ann", "a", ""))
	if h, _ := s2.History("a"); h[len(h)-1].Seq != 5 {
		t.Errorf("sequence continues at %d, want 5", h[len(h)-1].Seq)
	}
}

func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	approve(t, s, spec("a", "one"))
	must(t)(s.Apply(ctx, "ann", spec("a", "two"), 1))
	s.Close()

	// A crash after the history append but before the record file: the
	// record file still says version 1 is live and nothing is pending.
	hist := filepath.Join(dir, historyFile)
	data, _ := os.ReadFile(hist)
	lines := strings.SplitAfter(string(data), "\n")
	var c Change
	if err := jsonUnmarshal(lines[2], &c); err != nil || c.Action != "approve" {
		t.Fatalf("line 3: %v %+v", err, c)
	}
	stale := *c.After
	if err := (&Store{dir: dir}).writeRecord(&stale); err != nil {
		t.Fatal(err)
	}
	// And a torn append at the end.
	os.WriteFile(hist, append(data, []byte(`{"seq":5,"id":"a","act`)...), 0o644)

	s2 := open(t, dir, nil)
	r := must(t)(s2.Get("a"))
	if r.Version != 2 || r.Status != Draft {
		t.Errorf("recovered: %+v", r)
	}
	if got, _ := os.ReadFile(hist); string(got) != string(data) {
		t.Error("the torn last line was not cut")
	}
	must(t)(s2.Submit(ctx, "ann", "a", ""))
	s2.Close()
	s3 := open(t, dir, nil)
	if h, err := s3.History("a"); err != nil || len(h) != 5 || h[4].Action != "submit" {
		t.Errorf("history: %v %+v", err, h)
	}

	// A corrupt line in the middle is an error naming it, not a crash.
	s3.Close()
	os.WriteFile(hist, []byte("{\"seq\":1,\"id\":\"a\"}\nnot json\n"), 0o644)
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "change 2") {
		t.Errorf("opening a corrupt history: %v", err)
	}
}

// TestTwoProcesses: two stores on one directory (the API and the CLI) see
// each other's changes and do not interleave them.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, nil)
	b := open(t, dir, nil)
	must(t)(a.Apply(ctx, "ann", spec("x", "one"), 0))
	must(t)(b.Submit(ctx, "ann", "x", ""))
	if r := must(t)(a.Get("x")); r.Status != Pending {
		t.Errorf("a sees %s", r.Status)
	}
	if _, err := b.Apply(ctx, "bob", spec("x", "two"), 0); !errors.Is(err, ErrConflict) {
		t.Errorf("b creating what a created: %v", err)
	}
	must(t)(a.Approve(ctx, "bob", "x", ""))
	// Each writes the live directory after the other: neither trusts its
	// memory of what the directory holds.
	must(t)(b.Pause(ctx, "bob", "x", ""))
	if got := liveVersions(t, DefaultLiveDir(dir)); len(got) != 0 {
		t.Errorf("after b paused: %v", got)
	}
	must(t)(a.Resume(ctx, "bob", "x", ""))
	if got := liveVersions(t, DefaultLiveDir(dir)); !equalMap(got, map[string]int{"x": 1}) {
		t.Errorf("after a resumed: %v", got)
	}
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 10 {
				id := fmt.Sprintf("p%d-%d", i, j)
				if _, err := s.Apply(ctx, "ann", spec(id, "w"+id), 0); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(b.List(Filter{})); n != 41 {
		t.Errorf("b lists %d, want 41", n)
	}
	h, _ := a.History("x")
	if h[len(h)-1].Seq != 5 {
		t.Errorf("seq %d", h[len(h)-1].Seq)
	}
	// Sequence numbers are unique across both.
	data, _ := os.ReadFile(filepath.Join(dir, historyFile))
	seen := map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c Change
		if err := jsonUnmarshal(line, &c); err != nil {
			t.Fatal(err)
		}
		if seen[c.Seq] {
			t.Errorf("seq %d twice", c.Seq)
		}
		seen[c.Seq] = true
	}
	if len(seen) != 45 {
		t.Errorf("%d changes, want 45", len(seen))
	}
}

// TestConcurrent hammers one store from many goroutines (run with -race):
// every change that succeeded is in the history once, versions only grow,
// and the live directory always loads.
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	var hooked atomic.Int64
	s := open(t, dir, func(o *Options) { o.OnChange = func(Change) { hooked.Add(1) } })
	approve(t, s, spec("shared", "base"))
	var ok atomic.Int64
	ok.Add(3)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 15 {
				r, err := s.Get("shared")
				if err != nil {
					t.Error(err)
					return
				}
				sp := spec("shared", fmt.Sprintf("w%d OR v%d", g, i))
				if _, err := s.Apply(ctx, fmt.Sprintf("ed%d", g), sp, r.Version); err == nil {
					ok.Add(1)
				} else if !errors.Is(err, ErrConflict) {
					t.Error(err)
				}
				if _, err := s.Submit(ctx, "x", "shared", ""); err == nil {
					ok.Add(1)
				}
				if _, err := s.Approve(ctx, fmt.Sprintf("rev%d", g), "shared", ""); err == nil {
					ok.Add(1)
				}
				own := fmt.Sprintf("own%d", g)
				if i == 0 {
					if _, err := s.Apply(ctx, "a", spec(own, own), 0); err != nil {
						t.Error(err)
					}
					ok.Add(1)
				}
				s.List(Filter{Teams: []string{"care"}})
				if _, err := s.History(own); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	h, _ := s.History("shared")
	n := len(h)
	for _, g := range []string{"own0", "own1", "own2", "own3", "own4", "own5", "own6", "own7"} {
		hh, _ := s.History(g)
		n += len(hh)
	}
	if int64(n) != ok.Load() || hooked.Load() != ok.Load() {
		t.Errorf("%d changes recorded, %d hooked, %d succeeded", n, hooked.Load(), ok.Load())
	}
	for i := 1; i < len(h); i++ {
		if h[i].Version < h[i-1].Version {
			t.Errorf("version went back: %d then %d", h[i-1].Version, h[i].Version)
		}
	}
	r := must(t)(s.Get("shared"))
	if got := liveVersions(t, DefaultLiveDir(dir)); got["shared"] != r.LiveVersion {
		t.Errorf("live directory has version %d, the store %d", got["shared"], r.LiveVersion)
	}
}

func TestList(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	for _, sp := range []Spec{
		{ID: "a", Team: "care", Brand: "acme", Regions: []string{"emea"}, Rule: "x"},
		{ID: "b", Team: "legal", Brand: "acme", Rule: "x"},
		{ID: "c", Team: "care", Brand: "zeta", Regions: []string{"apac"}, Rule: "x"},
	} {
		must(t)(s.Apply(ctx, "ann", sp, 0))
	}
	must(t)(s.Submit(ctx, "ann", "c", ""))
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "a b c"},
		{Filter{Teams: []string{"care"}}, "a c"},
		{Filter{Brands: []string{"acme"}}, "a b"},
		{Filter{Regions: []string{"emea"}}, "a b"}, // b is global
		{Filter{Status: Pending}, "c"},
		{Filter{Teams: []string{"care"}, Status: Draft}, "a"},
		{Filter{Teams: []string{"nobody"}}, ""},
	} {
		var ids []string
		for _, r := range s.List(tc.f) {
			ids = append(ids, r.ID)
		}
		if got := strings.Join(ids, " "); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
	// What List returns is a copy.
	l := s.List(Filter{})
	l[0].Regions[0] = "changed"
	if r, _ := s.Get("a"); r.Regions[0] != "EMEA" {
		t.Error("List shares the store's records")
	}
}

func TestImport(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	pub := &publisher{}
	s := open(t, dir, func(o *Options) { o.Publish = pub.publish })
	write := func(name, body string) { os.WriteFile(filepath.Join(src, name), []byte(body), 0o644) }
	write("a.yaml", "id: a\nteam: care\nversion: 4\nkeywords: [acme]\n")
	write("b.yaml", "id: b\nteam: care\nstatus: paused\nrule: zeta\n")
	write("c.yaml", "id: c\nteam: care\nstatus: draft\nrule: gamma\n")
	recs, err := s.Import(ctx, "ops", src)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.ID] = fmt.Sprintf("%s v%d live %d", r.Status, r.Version, r.LiveVersion)
	}
	want := map[string]string{"a": "live v4 live 4", "b": "paused v1 live 1", "c": "draft v1 live 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("imported %v, want %v", got, want)
	}
	if g := liveVersions(t, DefaultLiveDir(dir)); !equalMap(g, map[string]int{"a": 4}) || !equalMap(pub.last(), g) {
		t.Errorf("live %v, published %v", g, pub.last())
	}
	// Again: nothing changes.
	if _, err := s.Import(ctx, "ops", src); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.History("a"); len(h) != 1 || h[0].Action != "import" || h[0].Actor != "ops" {
		t.Errorf("history after re-import: %+v", h)
	}
	// A changed file is a new version; a bad file anywhere changes nothing.
	write("a.yaml", "id: a\nteam: care\nversion: 4\nkeywords: [acme, acme phone]\n")
	write("d.yaml", "id: d\nteam: care\nrule: (broken\n")
	if _, err := s.Import(ctx, "ops", src); err == nil || !errors.Is(err, strictyaml.ErrInvalid) {
		t.Errorf("importing a bad file: %v", err)
	}
	if r, _ := s.Get("a"); r.Version != 4 {
		t.Errorf("a bad import changed a: %+v", r)
	}
	os.Remove(filepath.Join(src, "d.yaml"))
	recs, err = s.Import(ctx, "ops", src)
	if err != nil || recs[0].Version != 5 || recs[0].LiveVersion != 5 {
		t.Errorf("re-import of a changed file: %v %+v", err, recs)
	}
	if _, err := s.Import(ctx, "ops", filepath.Join(src, "missing")); err == nil {
		t.Error("importing a missing directory")
	}
}

// TestWatchPicksUpApproval: a matcher reloading the live directory (as the
// embedded pipeline does with match.store) swaps an approved revision in
// without a restart, and its matches carry the approved version.
func TestWatchPicksUpApproval(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	approve(t, s, spec("acme", "acme"))
	lists, err := match.LoadDir(DefaultLiveDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(lists)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		match.Watch(wctx, DefaultLiveDir(dir), 10*time.Millisecond, m, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()

	p := &post.Post{Platform: "t", ID: "1", Text: "my new acmephone broke"}
	versionOf := func() int {
		for _, mt := range m.Match(p) {
			return mt.Version
		}
		return 0
	}
	if v := versionOf(); v != 0 {
		t.Fatalf("matched version %d before the change", v)
	}
	must(t)(s.Apply(ctx, "ann", spec("acme", "acme OR acmephone"), 1))
	must(t)(s.Submit(ctx, "ann", "acme", ""))
	time.Sleep(50 * time.Millisecond)
	if v := versionOf(); v != 0 {
		t.Fatalf("a pending revision matched (version %d)", v)
	}
	must(t)(s.Approve(ctx, "bob", "acme", ""))
	deadline := time.Now().Add(5 * time.Second)
	for versionOf() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the approved revision did not go live within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(t)(s.Pause(ctx, "bob", "acme", ""))
	for versionOf() != 0 {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatal("the paused list kept matching")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConfigStore(t *testing.T) {
	c := match.DefaultConfig()
	c.Store = "/s"
	if err := c.Validate(); err != nil {
		t.Errorf("match.store alone: %v", err)
	}
	c.Watchlists = "/w"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("match.store and match.watchlists: %v", err)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestLoweredQuotaCanShrink: a live set over a quota that was lowered
// (match.team_quota) refuses additions but lets lists be paused and
// deleted until it is under again.
func TestLoweredQuotaCanShrink(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, func(o *Options) { o.TeamQuota = 100 })
	for _, id := range []string{"a", "b", "c"} {
		approve(t, s, spec(id, id+"1 OR "+id+"2"))
	}
	s.Close()
	s = open(t, dir, func(o *Options) { o.TeamQuota = 3 }) // 6 keywords live
	must(t)(s.Apply(ctx, "ann", spec("d", "d1"), 0))
	must(t)(s.Submit(ctx, "ann", "d", ""))
	if _, err := s.Approve(ctx, "bob", "d", ""); !errors.As(err, new(*InvalidError)) {
		t.Errorf("an addition over the quota: %v", err)
	}
	must(t)(s.Pause(ctx, "bob", "a", ""))
	if err := s.Delete(ctx, "bob", "b", ""); err != nil {
		t.Errorf("deleting from a set over quota: %v", err)
	}
	if got := liveVersions(t, DefaultLiveDir(dir)); !equalMap(got, map[string]int{"c": 1}) {
		t.Errorf("live: %v", got)
	}
	must(t)(s.Approve(ctx, "bob", "d", "")) // 3 keywords: at the quota
}

func TestApproveVersion(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	must(t)(s.Apply(ctx, "ann", spec("a", "one"), 0))
	must(t)(s.Submit(ctx, "ann", "a", ""))
	// The reviewer read version 1; ann changes it and submits again.
	must(t)(s.Apply(ctx, "ann", spec("a", "one OR everything"), 1))
	must(t)(s.Submit(ctx, "ann", "a", ""))
	if _, err := s.ApproveVersion(ctx, "bob", "a", 1, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("approving a version not reviewed: %v", err)
	}
	r := must(t)(s.ApproveVersion(ctx, "bob", "a", 2, ""))
	if r.LiveVersion != 2 || r.Status != Live {
		t.Errorf("%+v", r)
	}
}
