package watchlist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Store is a directory of watchlists with their history. It is safe for
// concurrent use by many goroutines, and several processes (the API, the
// CLI) may use the same directory: every operation holds a file lock and
// first reads what the others appended to the history.
//
// Layout: lists/<id>.json (one record each, replaced atomically),
// history.jsonl (every change, appended and synced before the record file
// is written, so it doubles as a write-ahead log) and .lock.
type Store struct {
	mu   sync.Mutex
	dir  string
	opt  Options
	log  *slog.Logger
	lock *durable.Lock

	recs     map[string]*Record
	last     map[string]int     // the highest version each id has had, deleted or not
	offsets  map[string][]int64 // where each id's changes start in history.jsonl
	histSize int64              // how much of history.jsonl is read
	seq      int                // changes in history.jsonl

	liveCache map[string][]byte     // what LiveDir holds, as last written here (nil: read it)
	parsed    map[string]parsedLive // live revisions as the matcher reads them, by id
}

// parsedLive is a live revision parsed once for all the sets it is in.
type parsedLive struct {
	version int
	spec    []byte // the Spec as JSON
	w       *match.Watchlist
}

const historyFile = "history.jsonl"

// DefaultLiveDir is where the pipeline, the CLI and the API keep the live
// set of the store in dir (Options.LiveDir), for match.Watch.
func DefaultLiveDir(dir string) string { return filepath.Join(dir, "live") }

// Open opens (creating it if needed) the store in dir. It finishes what a
// crash interrupted: a history line cut short is dropped, a record file that
// lags the history is rewritten, and the live directory is brought up to
// date with the records.
func Open(dir string, opt Options) (*Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.TeamQuota < 0 {
		return nil, errors.New("watchlist store: the team quota must not be negative")
	}
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o755); err != nil {
		return nil, fmt.Errorf("opening the watchlist store: %w", err)
	}
	lock := durable.NewLock(filepath.Join(dir, ".lock"), 0o644)
	s := &Store{dir: dir, opt: opt, log: opt.Log.With("component", "watchlist-store", "dir", dir), lock: lock,
		recs: map[string]*Record{}, last: map[string]int{}, offsets: map[string][]int64{}}
	if err := s.withLock(true, s.recover); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store's files.
func (s *Store) Close() error { return s.lock.Close() }

// withLock runs f holding the store's mutex and file lock, after reading
// what other processes appended to the history.
func (s *Store) withLock(exclusive bool, f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lock := s.lock.RLock
	if exclusive {
		lock = s.lock.Lock
	}
	if err := lock(); err != nil {
		return fmt.Errorf("locking the watchlist store: %w", err)
	}
	defer s.lock.Unlock()
	if err := s.refresh(); err != nil {
		return err
	}
	return f()
}

// recover runs at Open, under the lock: it loads the record files, cuts a
// torn last history line, and makes every record file agree with the last
// change the history holds for it (the history is written first).
func (s *Store) recover() error {
	entries, err := os.ReadDir(filepath.Join(s.dir, "lists"))
	if err != nil {
		return fmt.Errorf("reading the watchlist store: %w", err)
	}
	files := map[string]*Record{}
	damaged := map[string]error{} // by id: record files that do not decode
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || filepath.Ext(name) != ".json" {
			continue
		}
		data, err := strictyaml.ReadFile(filepath.Join(s.dir, "lists", name))
		if err != nil {
			return fmt.Errorf("reading the watchlist store: %w", err)
		}
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			// The history may hold it whole: decided once it is read.
			damaged[strings.TrimSuffix(name, ".json")] = err
			continue
		}
		if r.ID+".json" != name {
			return fmt.Errorf("watchlist store: %s: the file holds watchlist %q", filepath.Join(s.dir, "lists", name), r.ID)
		}
		files[r.ID] = &r
	}
	if err := s.cutTornTail(); err != nil {
		return err
	}
	// refresh (run by withLock before this) read the history into s.recs;
	// since nothing was loaded from record files yet, reread from the start.
	s.recs, s.last, s.offsets, s.histSize, s.seq = map[string]*Record{}, map[string]int{}, map[string][]int64{}, 0, 0
	if err := s.refresh(); err != nil {
		return err
	}
	for id, err := range damaged {
		if _, ok := s.offsets[id]; !ok {
			return fmt.Errorf("watchlist store: %s: %w (no history holds it: restore the file)", filepath.Join(s.dir, "lists", id+".json"), err)
		}
		// Rewritten from the history below, as a record that lags it.
		s.log.Warn("a record file does not decode; it is rewritten from the history", "id", id, "err", err)
	}
	for id, r := range files {
		if _, ok := s.offsets[id]; !ok {
			// A record with no history: a store written by hand. Keep it.
			s.recs[id] = r
			s.last[id] = max(s.last[id], r.Version)
			continue
		}
		if want := s.recs[id]; want != nil && r.Version > want.Version {
			// The history is appended before a record file is written, so a
			// record ahead of it means the history lost changes (an older
			// backup restored, a damaged disk). Rewriting the record from
			// it would silently undo them.
			return fmt.Errorf("watchlist store: %s is at version %d, but %s ends at version %d for it: the history lost changes (restored from an older backup?); restore the history that goes with the records", filepath.Join(s.dir, "lists", id+".json"), r.Version, filepath.Join(s.dir, historyFile), want.Version)
		}
	}
	for id := range s.offsets {
		want, have := s.recs[id], files[id]
		switch {
		case want == nil && have != nil:
			s.log.Warn("removing a record file the history says was deleted", "id", id)
			if err := s.removeRecord(id); err != nil {
				return err
			}
		case want != nil && (have == nil || !sameRecord(want, have)):
			s.log.Warn("rewriting a record file that lags the history", "id", id)
			if err := s.writeRecord(want); err != nil {
				return err
			}
		}
	}
	if s.opt.LiveDir != "" {
		lists, err := s.compileSet(s.liveSet(nil), true)
		if err != nil {
			// Say so, and leave the live directory as it is: the matchers keep their set.
			s.log.Error("the stored live set does not load (was the team quota lowered?); the live directory is left as it is", "err", err)
			return nil
		}
		if _, err := s.writeLive(liveFiles(lists)); err != nil {
			return err
		}
	}
	return nil
}

func sameRecord(a, b *Record) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// cutTornTail drops an unfinished last line of the history: a change that
// was never acknowledged (its append did not complete).
func (s *Store) cutTornTail() error {
	path := filepath.Join(s.dir, historyFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening the watchlist history: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return err
	}
	size := info.Size()
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return fmt.Errorf("reading the watchlist history: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end == size {
		return nil
	}
	s.log.Warn("dropping an unfinished last line of the history", "bytes", size-end)
	if err := f.Truncate(end); err != nil {
		return fmt.Errorf("repairing the watchlist history: %w", err)
	}
	return f.Sync()
}

// refresh applies the changes appended to the history since it was last
// read (by this store or another process).
func (s *Store) refresh() error {
	f, err := os.Open(filepath.Join(s.dir, historyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the watchlist history: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading the watchlist history: %w", err)
	}
	if info.Size() == s.histSize {
		return nil
	}
	if info.Size() < s.histSize {
		return fmt.Errorf("watchlist history %s shrank from %d to %d bytes: it is append-only", f.Name(), s.histSize, info.Size())
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, s.histSize, info.Size()-s.histSize), 64<<10)
	off := s.histSize
	for {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 || line[len(line)-1] != '\n' {
			break // the end, or a line still being written
		}
		var c Change
		err = json.Unmarshal(line, &c)
		if err == nil {
			err = c.check()
		}
		if err != nil {
			return fmt.Errorf("watchlist history %s: change %d (byte %d): %w", f.Name(), s.seq+1, off, err)
		}
		s.apply(c, off)
		s.liveCache = nil // another process may have rewritten the live directory
		off += int64(len(line))
		if err != nil {
			break
		}
	}
	s.histSize = off
	return nil
}

// check refuses a history line that is not a change of one watchlist.
func (c *Change) check() error {
	if err := checkID(c.ID); err != nil {
		return err
	}
	for _, r := range []*Record{c.Before, c.After} {
		if r != nil && (r.ID != c.ID || r.Live != nil && r.Live.ID != c.ID) {
			return fmt.Errorf("a change of %q holds a record of another watchlist", c.ID)
		}
	}
	return nil
}

// apply updates the in-memory state with one change of the history.
func (s *Store) apply(c Change, off int64) {
	s.seq = max(s.seq, c.Seq)
	s.offsets[c.ID] = append(s.offsets[c.ID], off)
	if c.After == nil {
		delete(s.recs, c.ID)
	} else {
		r := *c.After
		s.recs[c.ID] = &r
		s.last[c.ID] = max(s.last[c.ID], r.Version)
	}
	if c.Before != nil {
		s.last[c.ID] = max(s.last[c.ID], c.Before.Version)
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// checkID refuses ids that are not safe as file names (../x, a/b, NUL, …).
func checkID(id string) error {
	if !idPattern.MatchString(id) {
		return &InvalidError{fmt.Errorf("id %q: use 1 to 64 lower-case letters, digits, - or _, starting with a letter or digit", id)}
	}
	return nil
}

// List returns the records that f selects, sorted by id.
func (s *Store) List(f Filter) []Record {
	var out []Record
	err := s.withLock(false, func() error {
		for _, r := range s.recs {
			if f.selects(r) {
				out = append(out, clone(r))
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("listing watchlists", "err", err)
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (f Filter) selects(r *Record) bool {
	if len(f.Teams) > 0 && !slices.Contains(f.Teams, r.Team) {
		return false
	}
	if len(f.Brands) > 0 && !slices.Contains(f.Brands, r.Brand) {
		return false
	}
	if len(f.Regions) > 0 && len(r.Regions) > 0 && !slices.ContainsFunc(r.Regions, func(g string) bool {
		return slices.ContainsFunc(f.Regions, func(h string) bool { return strings.EqualFold(g, h) }) // region names are case-insensitive
	}) {
		return false
	}
	return f.Status == "" || f.Status == r.Status
}

// Get returns one record.
func (s *Store) Get(id string) (Record, error) {
	if err := checkID(id); err != nil {
		return Record{}, err
	}
	var out Record
	err := s.withLock(false, func() error {
		r, ok := s.recs[id]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		out = clone(r)
		return nil
	})
	return out, err
}

// clone copies a record deeply enough that callers cannot change the store's.
func clone(r *Record) Record {
	c := *r
	c.Spec = r.Spec.clone()
	if r.Live != nil {
		l := r.Live.clone()
		c.Live = &l
	}
	return c
}

func (sp Spec) clone() Spec {
	sp.Regions, sp.Tags, sp.Keywords, sp.Exclude = slices.Clone(sp.Regions), slices.Clone(sp.Tags), slices.Clone(sp.Keywords), slices.Clone(sp.Exclude)
	return sp
}

// normal makes empty lists nil, so that equal specs compare equal.
func (sp Spec) normal() Spec {
	sp = sp.clone()
	sp.Regions = match.CanonicalRegions(sp.Regions) // emea → EMEA, as scopes and enrichment spell it
	for _, l := range []*[]string{&sp.Regions, &sp.Tags, &sp.Keywords, &sp.Exclude} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return sp
}

func (sp Spec) equal(o Spec) bool {
	a, _ := json.Marshal(sp.normal())
	b, _ := json.Marshal(o.normal())
	return bytes.Equal(a, b)
}

// Validate checks a spec alone (its id, team, rule or keywords) without
// storing it; a problem is an *InvalidError carrying match's messages.
func (s *Store) Validate(spec Spec) error {
	if err := checkID(spec.ID); err != nil {
		return err
	}
	var errs []error
	if strings.TrimSpace(spec.Team) == "" {
		errs = append(errs, fmt.Errorf("watchlist %s: team: required (its coaches approve changes)", spec.ID))
	}
	w, err := compileOne(spec.ID, spec, 1)
	if err != nil {
		errs = append(errs, err)
	} else if _, err := match.CompileWith([]*match.Watchlist{w}, s.opt.Match); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return &InvalidError{errors.Join(errs...)}
	}
	return nil
}

// liveFile is a live revision as the matcher reads it.
type liveFile struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name,omitempty"`
	Team     string   `yaml:"team,omitempty"`
	Brand    string   `yaml:"brand,omitempty"`
	Regions  []string `yaml:"regions,omitempty,flow"`
	Tags     []string `yaml:"tags,omitempty,flow"`
	Priority string   `yaml:"priority,omitempty"`
	Status   string   `yaml:"status"`
	Version  int      `yaml:"version"`
	Rule     string   `yaml:"rule,omitempty"`
	Keywords []string `yaml:"keywords,omitempty"`
	Exclude  []string `yaml:"exclude,omitempty"`
}

// compileOne turns a revision into the match.Watchlist the matcher will
// read (from the same YAML); name labels its messages.
func compileOne(name string, sp Spec, version int) (*match.Watchlist, error) {
	data, err := yamlOf(sp, version)
	if err != nil {
		return nil, err
	}
	return match.Parse(name, data)
}

// liveSet returns the live set with, for ids in override, another record
// in place of the stored one (nil: none).
func (s *Store) liveSet(override map[string]*Record) []*Record {
	var out []*Record
	for id, r := range s.recs {
		if o, ok := override[id]; ok {
			r = o
		}
		if r != nil && r.InLive() {
			out = append(out, r)
		}
	}
	for id, r := range override {
		if _, ok := s.recs[id]; !ok && r != nil && r.InLive() {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// compileSet checks a live set as a whole, as the matcher will: every
// revision parses, all compile together, and (if quota) no team is over
// its quota.
func (s *Store) compileSet(set []*Record, quota bool) ([]*match.Watchlist, error) {
	var lists []*match.Watchlist
	var errs []error
	if s.parsed == nil {
		s.parsed = map[string]parsedLive{}
	}
	for _, r := range set {
		key, _ := json.Marshal(r.Live.normal())
		if p, ok := s.parsed[r.ID]; ok && p.version == r.LiveVersion && bytes.Equal(p.spec, key) {
			lists = append(lists, p.w)
			continue
		}
		w, err := compileOne(fmt.Sprintf("%s v%d", r.ID, r.LiveVersion), *r.Live, r.LiveVersion)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.parsed[r.ID] = parsedLive{r.LiveVersion, key, w}
		lists = append(lists, w)
	}
	if len(errs) == 0 {
		if _, err := match.CompileWith(lists, s.opt.Match); err != nil {
			errs = append(errs, err)
		}
		if quota {
			if err := match.CheckQuota(lists, s.opt.TeamQuota); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, &InvalidError{fmt.Errorf("the live set would not load, so nothing changed: %w", errors.Join(errs...))}
	}
	return lists, nil
}

// mutation is one operation's effect: the records it changes.
type mutation struct {
	action string
	actor  string
	note   string
	after  map[string]*Record // id → new record (nil: deleted)
	order  []string
}

func (m *mutation) set(r *Record) {
	if m.after == nil {
		m.after = map[string]*Record{}
	}
	if _, ok := m.after[r.ID]; !ok {
		m.order = append(m.order, r.ID)
	}
	m.after[r.ID] = r
}

func (m *mutation) del(id string) {
	if m.after == nil {
		m.after = map[string]*Record{}
	}
	m.order = append(m.order, id)
	m.after[id] = nil
}

// commit makes a mutation happen, under the lock: if the live set changes
// it is checked as a whole first and made live (the live directory, then
// Publish) before anything is recorded; then each change is appended to the
// history (synced) and the record files are replaced. It returns the
// changes, for the hook, which runs after the lock is released.
func (s *Store) commit(ctx context.Context, m *mutation) ([]Change, error) {
	if len(m.order) == 0 {
		return nil, nil
	}
	before := s.liveSet(nil)
	after := s.liveSet(m.after)
	if liveChanged(before, after) {
		// A change that only takes lists out (pause, delete) is not held
		// to the quota: a set over it (the quota was lowered) must be
		// able to shrink.
		lists, err := s.compileSet(after, !subset(after, before))
		if err != nil {
			return nil, err
		}
		if err := s.goLive(ctx, lists); err != nil {
			// Put back what was live, so the store and the matchers agree.
			if old, cerr := s.compileSet(before, false); cerr == nil {
				if rerr := s.goLive(context.WithoutCancel(ctx), old); rerr != nil {
					s.log.Error("restoring the live set after a failed change", "err", rerr)
				}
			}
			return nil, fmt.Errorf("making the live set live, so nothing changed: %w", err)
		}
	}
	now := s.opt.Now().UTC()
	var changes []Change
	for _, id := range m.order {
		c := Change{Seq: s.seq + len(changes) + 1, ID: id, Action: m.action, Actor: m.actor, At: now, Note: m.note}
		if old, ok := s.recs[id]; ok {
			b := clone(old)
			c.Before = &b
			c.Version = b.Version
		}
		if r := m.after[id]; r != nil {
			a := clone(r)
			c.After = &a
			c.Version = a.Version
		}
		changes = append(changes, c)
	}
	if err := s.appendHistory(changes); err != nil {
		return nil, err
	}
	for _, c := range changes {
		var err error
		if c.After == nil {
			err = s.removeRecord(c.ID)
		} else {
			err = s.writeRecord(c.After)
		}
		if err != nil {
			// The history holds the change; Open finishes the record file.
			return nil, fmt.Errorf("the change is recorded but its record file is not written (reopening the store repairs it): %w", err)
		}
	}
	return changes, nil
}

// subset reports whether every live revision of a is in b.
func subset(a, b []*Record) bool {
	in := map[string]*Record{}
	for _, r := range b {
		in[r.ID] = r
	}
	for _, r := range a {
		o, ok := in[r.ID]
		if !ok || o.LiveVersion != r.LiveVersion || !o.Live.equal(*r.Live) {
			return false
		}
	}
	return true
}

func liveChanged(a, b []*Record) bool {
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].LiveVersion != b[i].LiveVersion || !a[i].Live.equal(*b[i].Live) {
			return true
		}
	}
	return false
}

// goLive writes the live directory and publishes the set.
func (s *Store) goLive(ctx context.Context, lists []*match.Watchlist) error {
	if s.opt.LiveDir != "" {
		if _, err := s.writeLive(liveFiles(lists)); err != nil {
			return err
		}
	}
	if s.opt.Publish != nil {
		vals := make([]match.Watchlist, len(lists))
		for i, w := range lists {
			vals[i] = *w
		}
		if err := s.opt.Publish(ctx, vals); err != nil {
			return fmt.Errorf("publishing the live set: %w", err)
		}
	}
	return nil
}

// Sync writes the live set to the live directory and publishes it again,
// for a matcher that missed it (Publish failed, or a new cluster).
func (s *Store) Sync(ctx context.Context) (int, error) {
	var n int
	err := s.withLock(true, func() error {
		lists, err := s.compileSet(s.liveSet(nil), true)
		if err != nil {
			return err
		}
		n = len(lists)
		return s.goLive(ctx, lists)
	})
	return n, err
}

// LiveSet returns the watchlists that match now, as the matcher reads them.
func (s *Store) LiveSet() ([]*match.Watchlist, error) {
	var out []*match.Watchlist
	err := s.withLock(false, func() error {
		var err error
		out, err = s.compileSet(s.liveSet(nil), true)
		return err
	})
	return out, err
}

func (s *Store) appendHistory(changes []Change) error {
	var buf bytes.Buffer
	for _, c := range changes {
		line, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("recording a watchlist change: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	path := filepath.Join(s.dir, historyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("recording a watchlist change: %w", err)
	}
	if info, err := f.Stat(); err == nil && info.Size() > s.histSize {
		// An append that another process did not finish (it crashed):
		// refresh stopped before it; cut it so this change starts a line.
		s.log.Warn("dropping an unfinished last line of the history", "bytes", info.Size()-s.histSize)
		if err := f.Truncate(s.histSize); err != nil {
			f.Close()
			return fmt.Errorf("repairing the watchlist history: %w", err)
		}
	}
	_, werr := f.Write(buf.Bytes())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		// A partial line is cut by the next Open; nothing is acknowledged.
		return fmt.Errorf("recording a watchlist change: %w", err)
	}
	if s.histSize == 0 {
		// The history's line is synced; a directory that cannot be is
		// reported, not failed: the change is there for the next reader.
		if err := durable.SyncDir(s.dir); err != nil {
			s.log.Warn("syncing the watchlist store", "err", err)
		}
	}
	off := s.histSize
	for _, c := range changes {
		line, _ := json.Marshal(c)
		s.apply(c, off)
		off += int64(len(line)) + 1
	}
	s.histSize = off
	return nil
}

// writeRecord replaces lists/<id>.json atomically: temp file, sync, rename,
// sync the directory.
func (s *Store) writeRecord(r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("writing watchlist %s: %w", r.ID, err)
	}
	dir := filepath.Join(s.dir, "lists")
	if err := durable.WriteFile(filepath.Join(dir, r.ID+".json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing watchlist %s: %w", r.ID, err)
	}
	return nil
}

func (s *Store) removeRecord(id string) error {
	err := os.Remove(filepath.Join(s.dir, "lists", id+".json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing watchlist %s: %w", id, err)
	}
	if err := durable.SyncDir(filepath.Join(s.dir, "lists")); err != nil {
		return fmt.Errorf("removing watchlist %s: %w", id, err)
	}
	return nil
}

// do runs one operation on one existing record under the lock.
func (s *Store) do(ctx context.Context, actor, id string, f func(r *Record, m *mutation) error) (Record, error) {
	if err := checkActor(actor); err != nil {
		return Record{}, err
	}
	if err := checkID(id); err != nil {
		return Record{}, err
	}
	var out Record
	var changes []Change
	err := s.withLock(true, func() error {
		cur, ok := s.recs[id]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		r := clone(cur)
		m := &mutation{actor: actor}
		if err := f(&r, m); err != nil {
			return err
		}
		var err error
		if changes, err = s.commit(ctx, m); err != nil {
			return err
		}
		out = clone(&r)
		return nil
	})
	s.notify(changes)
	return out, err
}

func (s *Store) notify(changes []Change) {
	if s.opt.OnChange == nil {
		return
	}
	for _, c := range changes {
		s.opt.OnChange(c)
	}
}

func checkActor(actor string) error {
	if strings.TrimSpace(actor) == "" {
		return errors.New("watchlist store: every change needs an actor (who made it)")
	}
	// The actor is who the history and the four-eyes rule name: printed
	// in terminals and logs, compared as written. A control character (a
	// newline forges a history line, ESC a terminal escape), a format
	// character (a bidi override, a zero-width joiner: a look-alike of
	// another name) or surrounding space is refused.
	if len(actor) > maxActorBytes {
		return fmt.Errorf("watchlist store: actor of %d bytes, at most %d", len(actor), maxActorBytes)
	}
	if strings.TrimSpace(actor) != actor || !utf8.ValidString(actor) {
		return fmt.Errorf("watchlist store: actor %q: leading or trailing space, or not UTF-8", actor)
	}
	for _, r := range actor {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("watchlist store: actor %q: %U is not a printable character", actor, r)
		}
	}
	return nil
}

// maxActorBytes bounds an actor's name (an OIDC name is namespaced by its
// issuer, so longer than a token's).
const maxActorBytes = 512

func stateErr(r *Record, action string, want string) error {
	return fmt.Errorf("%w: cannot %s watchlist %s: it is %s (version %d)%s", ErrState, action, r.ID, r.Status, r.Version, want)
}

// Apply creates (ifVersion 0) or edits (ifVersion the version read; -1 edits
// whatever version is there) a watchlist; the result is a draft with the
// next version. A live revision keeps matching until the new one is
// approved. A stale ifVersion is ErrConflict; applying what is already the
// working revision changes nothing.
func (s *Store) Apply(ctx context.Context, actor string, spec Spec, ifVersion int) (Record, error) {
	if err := checkActor(actor); err != nil {
		return Record{}, err
	}
	spec = spec.normal()
	if err := s.Validate(spec); err != nil {
		return Record{}, err
	}
	var out Record
	var changes []Change
	err := s.withLock(true, func() error {
		cur, exists := s.recs[spec.ID]
		switch {
		case ifVersion == 0 && exists:
			return fmt.Errorf("%w: watchlist %s already exists (version %d); edit it with its version", ErrConflict, spec.ID, cur.Version)
		case ifVersion > 0 && !exists:
			return fmt.Errorf("%w: %s (to edit version %d)", ErrNotFound, spec.ID, ifVersion)
		case ifVersion > 0 && cur.Version != ifVersion:
			return fmt.Errorf("%w: watchlist %s is at version %d, not %d: read it again", ErrConflict, spec.ID, cur.Version, ifVersion)
		}
		now := s.opt.Now().UTC()
		var r Record
		if exists {
			if cur.Spec.equal(spec) {
				out = clone(cur)
				return nil
			}
			r = clone(cur)
		}
		r.Spec = spec
		r.Status = Draft
		r.Version = s.last[spec.ID] + 1
		r.UpdatedBy, r.UpdatedAt, r.SubmittedBy = actor, now, ""
		m := &mutation{action: "apply", actor: actor}
		m.set(&r)
		var err error
		if changes, err = s.commit(ctx, m); err != nil {
			return err
		}
		out = clone(&r)
		return nil
	})
	s.notify(changes)
	return out, err
}

// Submit asks for approval of a draft (or rejected) revision: it becomes pending.
func (s *Store) Submit(ctx context.Context, actor, id, note string) (Record, error) {
	return s.do(ctx, actor, id, func(r *Record, m *mutation) error {
		if r.Status != Draft && r.Status != Rejected {
			return stateErr(r, "submit", "; only a draft or rejected revision is submitted")
		}
		r.Status, r.SubmittedBy = Pending, actor
		m.action, m.note = "submit", note
		m.set(r)
		return nil
	})
}

// Approve makes a pending revision live, by someone other than its last
// editor (ErrSelfApproval). The whole live set is validated first; a set
// that does not compile or is over quota is refused and nothing changes.
// A paused list's approved revision waits (status approved) for Resume.
func (s *Store) Approve(ctx context.Context, actor, id, note string) (Record, error) {
	return s.ApproveVersion(ctx, actor, id, -1, note)
}

// ApproveVersion is Approve of the version the reviewer read (-1: any): if
// the list was edited since, and so is another version, it is ErrConflict,
// so nobody approves what they did not see.
func (s *Store) ApproveVersion(ctx context.Context, actor, id string, version int, note string) (Record, error) {
	return s.do(ctx, actor, id, func(r *Record, m *mutation) error {
		if version >= 0 && r.Version != version {
			return fmt.Errorf("%w: watchlist %s is at version %d, not the %d reviewed: review it again", ErrConflict, r.ID, r.Version, version)
		}
		if r.Status != Pending {
			return stateErr(r, "approve", "; submit it first")
		}
		if actor == r.UpdatedBy {
			return fmt.Errorf("%w: %s edited watchlist %s version %d", ErrSelfApproval, actor, r.ID, r.Version)
		}
		live := r.Spec.clone()
		r.Live, r.LiveVersion = &live, r.Version
		r.ApprovedBy, r.ApprovedAt = actor, s.opt.Now().UTC()
		r.Status = Live
		if r.Paused {
			r.Status = Approved
		}
		m.action, m.note = "approve", note
		m.set(r)
		return nil
	})
}

// Reject sends a pending revision back; the live revision, if any, keeps matching.
func (s *Store) Reject(ctx context.Context, actor, id, note string) (Record, error) {
	return s.do(ctx, actor, id, func(r *Record, m *mutation) error {
		if r.Status != Pending {
			return stateErr(r, "reject", "; only a pending revision is rejected")
		}
		r.Status = Rejected
		m.action, m.note = "reject", note
		m.set(r)
		return nil
	})
}

// Pause takes a watchlist's live revision out of the live set.
func (s *Store) Pause(ctx context.Context, actor, id, note string) (Record, error) {
	return s.do(ctx, actor, id, func(r *Record, m *mutation) error {
		if r.Live == nil || r.Paused {
			return stateErr(r, "pause", "; only a list with a live revision is paused")
		}
		r.Paused = true
		if r.Status == Live {
			r.Status = Paused
		}
		m.action, m.note = "pause", note
		m.set(r)
		return nil
	})
}

// Resume puts a paused watchlist's last approved revision back in the live
// set (checked as a whole, like an approval).
func (s *Store) Resume(ctx context.Context, actor, id, note string) (Record, error) {
	return s.do(ctx, actor, id, func(r *Record, m *mutation) error {
		if !r.Paused {
			return stateErr(r, "resume", "; only a paused list is resumed")
		}
		r.Paused = false
		if r.Status == Paused || r.Status == Approved {
			r.Status = Live
		}
		m.action, m.note = "resume", note
		m.set(r)
		return nil
	})
}

// Delete removes a watchlist (and from the live set); its history stays,
// and a list created again under the same id continues its versions.
func (s *Store) Delete(ctx context.Context, actor, id, note string) error {
	_, err := s.do(ctx, actor, id, func(r *Record, m *mutation) error {
		m.action, m.note = "delete", note
		m.del(r.ID)
		return nil
	})
	return err
}

// History returns a watchlist's changes, oldest first; a deleted list's
// history is kept.
func (s *Store) History(id string) ([]Change, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var out []Change
	err := s.withLock(false, func() error {
		offs := s.offsets[id]
		if len(offs) == 0 {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		f, err := os.Open(filepath.Join(s.dir, historyFile))
		if err != nil {
			return fmt.Errorf("reading the watchlist history: %w", err)
		}
		defer f.Close()
		for _, off := range offs {
			r := bufio.NewReader(io.NewSectionReader(f, off, s.histSize-off))
			line, err := r.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("reading the watchlist history at byte %d: %w", off, err)
			}
			var c Change
			if err := json.Unmarshal(line, &c); err != nil {
				return fmt.Errorf("reading the watchlist history at byte %d: %w", off, err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Import brings the watchlist files of a directory (kept and reviewed in
// git) in as approved revisions: a file with status live (the default) or
// approved goes live, paused is held out, draft stays a draft. Lists of the
// store that are not in the directory are left alone; a file identical to
// what is live changes nothing. The version is the file's, or the next one
// if the store has used it. It is all or nothing: a directory with a bad
// file, or a live set that would not compile, changes nothing.
func (s *Store) Import(ctx context.Context, actor, yamlDir string) ([]Record, error) {
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	lists, err := match.LoadDir(yamlDir)
	if err != nil {
		return nil, &InvalidError{err}
	}
	var errs []error
	for _, w := range lists {
		if err := s.Validate(specOf(w)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, &InvalidError{errors.Join(errs...)}
	}
	var out []Record
	var changes []Change
	err = s.withLock(true, func() error {
		now := s.opt.Now().UTC()
		m := &mutation{action: "import", actor: actor, note: "imported from " + yamlDir}
		for _, w := range lists {
			sp := specOf(w)
			cur := s.recs[sp.ID]
			var r Record
			if cur != nil {
				r = clone(cur)
				if r.Spec.equal(sp) && (w.Status == "draft" && r.Status == Draft ||
					w.Status != "draft" && r.Live != nil && r.Live.equal(sp) && r.Paused == (w.Status == "paused")) {
					out = append(out, r)
					continue
				}
			}
			r.Spec = sp
			r.Version = max(s.last[sp.ID]+1, w.Version)
			r.UpdatedBy, r.UpdatedAt, r.SubmittedBy = actor, now, ""
			switch w.Status {
			case "draft":
				r.Status = Draft
			default: // live, approved, paused: reviewed in git
				live := sp.clone()
				r.Live, r.LiveVersion = &live, r.Version
				r.ApprovedBy, r.ApprovedAt = actor, now
				r.Paused = w.Status == "paused"
				r.Status = Live
				if r.Paused {
					r.Status = Paused
				}
			}
			m.set(&r)
			out = append(out, r)
		}
		var err error
		changes, err = s.commit(ctx, m)
		return err
	})
	s.notify(changes)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func specOf(w *match.Watchlist) Spec {
	return Spec{ID: w.ID, Name: w.Name, Team: w.Team, Brand: w.Brand, Regions: w.Regions, Tags: w.Tags,
		Priority: w.Priority, Rule: w.Rule, Keywords: w.Keywords, Exclude: w.Exclude}.normal()
}
