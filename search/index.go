package search

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// dayLayout names a shard's directory: the UTC day of its posts' created_at.
const dayLayout = DayLayout

// DayLayout names the index's daily shards (UTC days), as Scan reports them.
const DayLayout = "2006-01-02"

// atLayout orders posts by created_at as text.
const atLayout = "20060102150405.000"

// minuteLayout is how created_at is indexed: to the minute, sortable.
const minuteLayout = "200601021504"

// ErrLocked says another process holds the index open for writing.
var ErrLocked = errors.New("the search index is open in another process")

// Options are what Open needs besides the config.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not exposed
	ReadOnly   bool                  // open existing shards for searching only; no shard is created or dropped
	Now        func() time.Time      // the clock, for tests; nil is time.Now
	LockWait   time.Duration         // how long to wait for another process's lock; 0 is 2s
}

// Index is the set of day shards of the retention window.
type Index struct {
	cfg     Config
	opt     Options
	log     *slog.Logger
	mapping *mapping.IndexMappingImpl
	docs    *docBuilder
	m       *metrics

	mu         sync.RWMutex // guards shards; held for reading by searches and batches, for writing to add or drop one
	shards     map[string]bleve.Index
	lastExpiry time.Time
	closed     bool

	compacted  map[string]bool    // days whose shard was merged to one segment
	compactCtx context.Context    // ends at Close
	stopCompac context.CancelFunc //
	compacting sync.WaitGroup     // the compaction goroutine

	failWrites func() error // tests: a disk that fails every write
	maxParts   int          // see minPart
}

// Open opens (creating if need be) the index under cfg.Dir for writing,
// dropping the shards older than the retention window.
func Open(cfg Config, log *slog.Logger) (*Index, error) {
	return OpenWith(cfg, Options{Logger: log})
}

// OpenWith is Open with options.
func OpenWith(cfg Config, o Options) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		return nil, errors.New("search: no index directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockWait <= 0 {
		o.LockWait = 2 * time.Second
	}
	im, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search: building the mapping: %w", err)
	}
	docs, err := newDocBuilder(im)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	docs.maxText = cfg.MaxTextBytes
	x := &Index{cfg: cfg, opt: o, log: o.Logger.With("component", "search", "dir", cfg.Dir), mapping: im, docs: docs, shards: map[string]bleve.Index{}, maxParts: maxParts, compacted: map[string]bool{}}
	x.compactCtx, x.stopCompac = context.WithCancel(context.Background())
	x.m = newMetrics(o.Registerer, x)
	docs.truncated = x.m.truncated
	if o.ReadOnly {
		if _, err := os.Stat(cfg.Dir); err != nil {
			return nil, fmt.Errorf("search: no index at %s (is search.enabled on in the configuration, and has the pipeline run?): %w", cfg.Dir, err)
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("search: creating %s: %w", cfg.Dir, err)
	} else if err := os.Chmod(cfg.Dir, 0o700); err != nil {
		// Owner-only, as the API's state directory: the index holds posts'
		// text. One an earlier version made 0755 is tightened too; one
		// this user may not change (another's mount) is used as it is.
		x.log.Warn("the index directory could not be made owner-only", "err", err)
	}
	if !o.ReadOnly {
		x.finishRebuilds()
	}
	days, err := x.listDays()
	if err != nil {
		return nil, err
	}
	oldest := x.oldestDay()
	for _, day := range days {
		if day < oldest {
			if !o.ReadOnly {
				x.drop(day)
			}
			continue
		}
		if _, err := x.openShard(day, false); err != nil {
			if errors.Is(err, ErrLocked) || errors.Is(err, ErrOldAnalysis) { // (the latter only read-only)
				x.Close()
				return nil, err
			}
			// One unreadable day must not keep the pipeline from
			// starting: it is left on disk, searches skip it, and posts
			// of that day are dead-lettered with the reason.
			x.m.errors.WithLabelValues("open").Inc()
			x.log.Error("a shard does not open; it is left as it is and skipped", "day", day, "err", err)
		}
	}
	x.lastExpiry = o.Now()
	x.m.shards.Set(float64(len(x.shards)))
	return x, nil
}

// listDays lists the shard directories under the index directory.
func (x *Index) listDays() ([]string, error) {
	entries, err := os.ReadDir(x.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("search: reading %s: %w", x.cfg.Dir, err)
	}
	var days []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := time.Parse(dayLayout, e.Name()); err != nil {
			x.log.Warn("not a day shard; left alone", "entry", e.Name())
			continue
		}
		days = append(days, e.Name())
	}
	slices.Sort(days)
	return days, nil
}

// oldestDay is the first day of the retention window.
func (x *Index) oldestDay() string {
	return x.opt.Now().UTC().Add(-x.cfg.Retention).Format(dayLayout)
}

// openShard opens the shard of day, creating it when create is set. The
// caller holds mu for writing, or is Open.
func (x *Index) openShard(day string, create bool) (bleve.Index, error) {
	if s, ok := x.shards[day]; ok {
		return s, nil
	}
	path := filepath.Join(x.cfg.Dir, day)
	rc := map[string]any{"bolt_timeout": x.opt.LockWait.String()}
	if x.opt.ReadOnly {
		rc["read_only"] = true
	}
	err := checkRoot(path)
	var s bleve.Index
	if err == nil {
		s, err = bleve.OpenUsing(path, rc)
	}
	switch {
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist) && create:
		s, err = x.newShard(path, rc)
	case err == nil:
		s, err = x.current(day, path, s, rc)
	}
	if err != nil {
		if strings.Contains(err.Error(), "timeout") {
			return nil, fmt.Errorf("search: opening shard %s: %w (%v)", path, ErrLocked, err)
		}
		return nil, fmt.Errorf("search: opening shard %s: %w", path, err)
	}
	x.shards[day] = s
	x.m.shards.Set(float64(len(x.shards)))
	return s, nil
}

// drop closes and deletes a shard: this is how posts expire.
func (x *Index) drop(day string) {
	if s, ok := x.shards[day]; ok {
		if err := s.Close(); err != nil {
			x.log.Warn("closing expired shard", "day", day, "err", err)
		}
		delete(x.shards, day)
	}
	delete(x.compacted, day)
	if err := os.RemoveAll(filepath.Join(x.cfg.Dir, day)); err != nil {
		x.m.errors.WithLabelValues("expire").Inc()
		x.log.Error("dropping expired shard", "day", day, "err", err)
		return
	}
	x.m.shards.Set(float64(len(x.shards)))
	x.log.Info("dropped expired shard", "day", day)
}

// Expire drops the shards that fell out of the retention window.
func (x *Index) Expire() {
	if x.opt.ReadOnly {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	oldest := x.oldestDay()
	for day := range x.shards {
		if day < oldest {
			x.drop(day)
		}
	}
	x.lastExpiry = x.opt.Now()
	// Days that are over get few writes: merge each to one segment, in the
	// background, so that searches and backtests look in one place.
	today := x.opt.Now().UTC().Format(dayLayout)
	var days []string
	for day := range x.shards {
		if day < today && !x.compacted[day] {
			x.compacted[day] = true
			days = append(days, day)
		}
	}
	if len(days) > 0 && !x.closed {
		slices.Sort(days)
		x.compacting.Go(func() { x.Compact(x.compactCtx, days) })
	}
}

// Compact merges the shards of days to one segment each.
func (x *Index) Compact(ctx context.Context, days []string) {
	for _, day := range days {
		x.mu.RLock()
		s, ok := x.shards[day]
		closed := x.closed
		x.mu.RUnlock()
		if closed || ctx.Err() != nil {
			return
		}
		if !ok {
			continue
		}
		adv, err := s.Advanced()
		if err != nil {
			continue
		}
		sc, ok := adv.(*scorch.Scorch)
		if !ok {
			continue
		}
		start := time.Now()
		if err := sc.ForceMerge(ctx, nil); err != nil {
			x.log.Warn("merging a past day's shard", "day", day, "err", err)
			continue
		}
		x.log.Info("merged a past day's shard to one segment", "day", day, "took", time.Since(start).Round(time.Millisecond))
	}
}

// Days returns the days of the open shards, oldest first.
func (x *Index) Days() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Sorted(maps.Keys(x.shards))
}

// Retention is the configured window.
func (x *Index) Retention() time.Duration { return x.cfg.Retention }

// Now is the index's clock (Options.Now), by which it keeps its window.
func (x *Index) Now() time.Time { return x.opt.Now() }

// Close closes every shard.
func (x *Index) Close() error {
	x.stopCompac()
	defer x.compacting.Wait() // after the shards are closed, which ends a merge in progress
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	var errs []error
	for day, s := range x.shards {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing shard %s: %w", day, err))
		}
	}
	clear(x.shards)
	return errors.Join(errs...)
}

// Bytes is the size of the index on disk.
func (x *Index) Bytes() int64 {
	var n int64
	filepath.WalkDir(x.cfg.Dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// Stored is the part of a post the index keeps: what a hit shows and what
// the rule filters of a backtest read.
type Stored struct {
	Platform   string    `json:"p"`
	ID         string    `json:"i"`
	Handle     string    `json:"a,omitempty"`
	Followers  int64     `json:"f,omitempty"`
	Text       string    `json:"t"`
	TextBytes  int       `json:"tb,omitempty"` // when Text is cut to search.max_text_bytes: the full text's length
	CreatedAt  time.Time `json:"c"`
	PostLang   string    `json:"pl,omitempty"` // as declared; the lang: filter of a rule reads it
	Lang       string    `json:"l,omitempty"`  // as enriched
	Country    string    `json:"co,omitempty"`
	GeoCountry string    `json:"gc,omitempty"`
	Region     string    `json:"r,omitempty"`
	Market     string    `json:"mk,omitempty"` // the organisation's market (org.yaml markets), as enriched
	Sentiment  string    `json:"s,omitempty"`
	Watchlists []string  `json:"w,omitempty"`
	URLs       []string  `json:"u,omitempty"`
	Hashtags   []string  `json:"h,omitempty"`
	Mentions   []string  `json:"m,omitempty"`
	ReplyTo    string    `json:"rt,omitempty"`
	RepostOf   string    `json:"ro,omitempty"`
	QuoteOf    string    `json:"qo,omitempty"`
	Media      int       `json:"md,omitempty"`
	Source     string    `json:"src,omitempty"` // who delivered it: only that source may delete or edit it
}

// Post rebuilds the post as the matcher sees it.
func (s *Stored) Post() *post.Post {
	p := &post.Post{
		Platform: s.Platform, ID: s.ID, Author: post.Author{Handle: s.Handle, Followers: s.Followers},
		Text: s.Text, CreatedAt: s.CreatedAt, Lang: s.PostLang, URLs: s.URLs, Hashtags: s.Hashtags, Mentions: s.Mentions,
		ReplyTo: s.ReplyTo, RepostOf: s.RepostOf, QuoteOf: s.QuoteOf, Country: s.Country, Media: s.Media,
	}
	if s.GeoCountry != "" {
		p.Geo = &post.Geo{Country: s.GeoCountry}
	}
	return p
}

// Skip reasons, as metric labels.
const (
	skipTooOld = "too_old"
	skipFuture = "future"
)

// Stage returns the index stage: it indexes matched posts, replaces edited
// ones, removes deleted ones (and edits that no longer match) from every
// shard, and passes nothing on. A batch the index cannot write (disk full,
// a broken shard) is dead-lettered with the reason, not retried: the index
// must never hold up its input, which in embedded mode is shared with the
// sink and the router.
func (x *Index) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		if x.opt.ReadOnly {
			return post.Batch{}, errors.New("search: the index is open read-only")
		}
		x.mu.RLock()
		due := x.opt.Now().Sub(x.lastExpiry) > time.Minute
		x.mu.RUnlock()
		if due {
			x.Expire()
		}
		start := time.Now()
		items, foreign := x.refuseForeign(in.Items)
		rej, err := x.apply(ctx, items)
		x.m.batchSeconds.Observe(time.Since(start).Seconds())
		if err != nil && ctx.Err() != nil {
			// Stopping, and the shutdown timeout is over: the batch is
			// abandoned uncommitted, to be indexed again after a restart
			// (indexing is by key, so what was written is overwritten).
			return post.Batch{}, fmt.Errorf("search index: stopped mid-batch: %w", ctx.Err())
		}
		if err != nil {
			rej = make([]post.Rejected, len(items))
			for i, it := range items {
				rej[i] = post.Rejected{Item: it, Reason: fmt.Sprintf("search index: %v", err), Class: post.ClassStoreFailed}
			}
		}
		if len(rej) > 0 {
			x.m.errors.WithLabelValues("write").Inc()
			x.log.Error("posts not indexed; they are dead-lettered", "posts", len(rej), "of", len(in.Items), "reason", rej[0].Reason)
		}
		if len(foreign) > 0 {
			x.m.errors.WithLabelValues("foreign").Add(float64(len(foreign)))
			x.log.Warn("changes from another source than the post's refused; they are dead-lettered", "changes", len(foreign), "reason", foreign[0].Reason)
		}
		return post.Batch{Rejected: append(foreign, rej...)}, nil
	}
}

// Index indexes a batch directly (for tools and benchmarks); any post it
// could not write is an error.
func (x *Index) Index(items []*post.Item) error {
	items, rej := x.refuseForeign(items)
	more, err := x.apply(context.Background(), items)
	if err != nil {
		return err
	}
	rej = append(rej, more...)
	if len(rej) > 0 {
		return fmt.Errorf("%d of %d posts not indexed, the first: %s", len(rej), len(items), rej[0].Reason)
	}
	return nil
}

// apply writes a batch. It returns the posts it could not write, each with
// the reason, and an error when none could be. When ctx ends it stops
// building documents and returns ctx's error (parts already written stay).
func (x *Index) apply(ctx context.Context, items []*post.Item) ([]post.Rejected, error) {
	byDay, gone := x.sortByDay(items)
	if err := x.openDays(byDay); err != nil {
		return nil, err
	}
	w := x.writeShards(ctx, byDay, gone)
	if len(w.broken) > 0 {
		x.reopen(w.broken)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.m.indexed.Add(float64(w.indexed))
	x.m.deletes.Add(float64(w.deleted))
	// A delete that failed in two shards is one dead letter.
	seen := map[*post.Item]bool{}
	return slices.DeleteFunc(w.rejected, func(r post.Rejected) bool {
		dup := seen[r.Item]
		seen[r.Item] = true
		return dup
	}), nil
}

// sortByDay sorts a batch into the posts to index, by the day of the shard
// they go to, and the posts to remove from every shard but the one they
// are indexed in (deletes, and edits: their old version may be in another
// day's shard). A post deleted later in the batch than it is indexed is
// not indexed; posts outside the retention window are skipped.
func (x *Index) sortByDay(items []*post.Item) (byDay map[string][]*post.Item, gone []*post.Item) {
	now := x.opt.Now().UTC()
	oldest := x.oldestDay()
	newest := now.Add(x.cfg.MaxFuture)
	byDay = map[string][]*post.Item{}
	var skipped []string
	type slot struct {
		day string
		i   int
	}
	pending := map[string]slot{}
	for _, it := range items {
		if it == nil || it.Post == nil {
			continue
		}
		p := it.Post
		if p.Kind == post.KindDelete || (p.Kind == post.KindEdit && len(it.Matches) == 0) {
			gone = append(gone, it)
			if at, ok := pending[p.Key()]; ok { // indexed earlier in this batch: the delete wins
				byDay[at.day][at.i] = nil
				delete(pending, p.Key())
			}
			continue
		}
		it = x.withCreated(it, now)
		p = it.Post
		day := p.CreatedAt.UTC().Format(dayLayout)
		switch {
		case day < oldest:
			x.m.skipped.WithLabelValues(skipTooOld).Inc()
			skipped = append(skipped, p.Key())
			continue
		case p.CreatedAt.After(newest):
			x.m.skipped.WithLabelValues(skipFuture).Inc()
			skipped = append(skipped, p.Key())
			continue
		}
		if p.Kind == post.KindEdit {
			gone = append(gone, it)
		}
		pending[p.Key()] = slot{day, len(byDay[day])}
		byDay[day] = append(byDay[day], it)
	}
	if len(skipped) > 0 {
		x.log.Debug("posts outside the retention window not indexed", "posts", len(skipped), "first", skipped[0])
	}
	return byDay, gone
}

// withCreated returns it with a creation time: a post without one is
// indexed as created when its indexed version was (an edit), else when it
// was ingested, else now. The item is copied, never changed.
func (x *Index) withCreated(it *post.Item, now time.Time) *post.Item {
	p := it.Post
	if !p.CreatedAt.IsZero() {
		return it
	}
	created := time.Time{}
	if p.Kind == post.KindEdit {
		if c, ok := x.createdOf(p.Key()); ok {
			created = c
		}
	}
	if created.IsZero() {
		created = p.IngestedAt
	}
	if created.IsZero() {
		created = now
	}
	cp := *p
	cp.CreatedAt = created
	return &post.Item{Post: &cp, Matches: it.Matches, Enrichment: it.Enrichment, Alert: it.Alert}
}

// openDays opens (creating them) the shards of the days posts go to. New
// shards are opened under the write lock; writing happens under the read
// lock, so searches go on meanwhile.
func (x *Index) openDays(byDay map[string][]*post.Item) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return errors.New("search: index closed")
	}
	for day := range byDay {
		if _, err := x.openShard(day, true); err != nil {
			return err
		}
	}
	return nil
}

// written is what the writers of a batch report.
type written struct {
	rejected         []post.Rejected
	broken           []string // days whose shard failed a write
	indexed, deleted int
}

// writeShards writes a batch to the shards: to each, the deletes of the
// posts in gone that it holds and the posts of its day. A big batch is
// written as a few smaller ones at once, split by key so that no key is in
// two of them: building a segment is serial inside bleve, and the writes
// wait on the disk.
func (x *Index) writeShards(ctx context.Context, byDay map[string][]*post.Item, gone []*post.Item) written {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var (
		mu sync.Mutex // guards w
		w  written
		wg sync.WaitGroup
	)
	for day, s := range x.shards {
		var dels []*post.Item
		for _, it := range gone {
			if d, err := s.Document(it.Post.Key()); err == nil && d != nil {
				dels = append(dels, it)
			}
		}
		items := slices.DeleteFunc(slices.Clone(byDay[day]), func(it *post.Item) bool { return it == nil })
		if len(dels)+len(items) == 0 {
			continue
		}
		parts := 1
		if len(items) >= 2*minPart {
			parts = min(x.maxParts, len(items)/minPart)
		}
		for part := range parts {
			wg.Go(func() {
				mine := func(key string) bool { return parts == 1 || int(keyHash(key)%uint32(parts)) == part }
				p := x.writePart(ctx, s, day, dels, items, mine)
				mu.Lock()
				defer mu.Unlock()
				if p.err != nil && !slices.Contains(w.broken, day) {
					w.broken = append(w.broken, day)
				}
				w.indexed, w.deleted = w.indexed+p.written, w.deleted+p.dels
				w.rejected = append(w.rejected, p.rej...)
			})
		}
	}
	wg.Wait()
	return w
}

// partWrite is what one writer of a shard did.
type partWrite struct {
	rej           []post.Rejected
	err           error // the write that failed: the shard is broken for the rest of the part
	written, dels int
}

// writePart writes to shard s (of day) the deletes of dels and the posts
// of items whose keys are mine, in batches of about maxWriteText bytes of
// text. After a failed write the rest of the part is rejected with the
// reason; when ctx is done the rest is not written.
func (x *Index) writePart(ctx context.Context, s bleve.Index, day string, dels, items []*post.Item, mine func(string) bool) (p partWrite) {
	b := s.NewBatch()
	var pending []*post.Item // in b, not yet written
	pd, text := 0, 0         // deletes and bytes of text in b
	reject := func(it *post.Item, err error) {
		p.rej = append(p.rej, post.Rejected{Item: it, Reason: fmt.Sprintf("search index: writing shard %s: %v", day, err), Class: post.ClassStoreFailed})
	}
	flush := func() {
		if b.Size() > 0 && p.err == nil {
			if p.err = x.writeBatch(s, b); p.err != nil {
				for _, it := range pending {
					reject(it, p.err)
				}
			} else {
				p.written, p.dels = p.written+len(pending)-pd, p.dels+pd
			}
			b = s.NewBatch()
		}
		pending, pd, text = pending[:0], 0, 0
	}
	for _, it := range dels {
		if key := it.Post.Key(); mine(key) {
			b.Delete(key)
			pending = append(pending, it)
			pd++
		}
	}
	for _, it := range items {
		if ctx.Err() != nil {
			return partWrite{} // stopping: the rest of this part is not written, nor reported
		}
		key := it.Post.Key()
		if !mine(key) {
			continue
		}
		if p.err != nil {
			reject(it, p.err)
			continue
		}
		doc, err := x.docs.doc(key, it, it.Post.CreatedAt)
		if err == nil {
			err = b.IndexAdvanced(doc)
		}
		if err != nil {
			p.rej = append(p.rej, post.Rejected{Item: it, Reason: fmt.Sprintf("search index: %v", err), Class: post.ClassStoreFailed})
			continue
		}
		pending = append(pending, it)
		// A batch of big posts is written in pieces of about maxWriteText,
		// so that a stop is never further than one piece away.
		if text += min(len(it.Post.Text), x.cfg.MaxTextBytes); text >= maxWriteText {
			flush()
		}
	}
	flush()
	return p
}

// reopen closes shards whose write failed, so that the next batch opens
// them afresh from what is on disk: after a full disk has room again,
// indexing resumes without a restart.
func (x *Index) reopen(days []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, day := range days {
		s, ok := x.shards[day]
		if !ok {
			continue
		}
		delete(x.shards, day)
		func() {
			defer func() {
				if r := recover(); r != nil {
					x.log.Warn("closing a failed shard: bleve panicked", "day", day, "panic", r)
				}
			}()
			if err := s.Close(); err != nil {
				x.log.Warn("closing a failed shard", "day", day, "err", err)
			}
		}()
	}
	x.m.shards.Set(float64(len(x.shards)))
}

// Batches can be split for writing in parts of at least minPart posts, at
// most maxParts of them. One part is the default: on the 2-core test
// machine four parts cost 20 % more CPU a post (more segments to merge) and
// indexed slower (BENCHMARKS.md); more cores may tell otherwise.
const (
	minPart  = 1000
	maxParts = 1
)

// maxWriteText is how much post text one write to a shard takes, about: a
// batch of big posts is written in pieces, and a stop waits for one piece
// at most. A batch of ordinary posts (5,000 of 200 bytes) is one piece.
const maxWriteText = 2 << 20

// keyHash spreads keys over the parts of a batch.
func keyHash(key string) uint32 {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return h
}

// writeBatch writes a batch to a shard. bleve can panic on a shard whose
// disk filled up (a segment left half closed); that is an error of this
// batch, not a reason to crash the process.
func (x *Index) writeBatch(s bleve.Index, b *bleve.Batch) (err error) {
	if x.failWrites != nil {
		if err := x.failWrites(); err != nil {
			return err
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bleve panicked: %v", r)
		}
	}()
	return s.Batch(b)
}

// createdOf finds when an indexed post was created, in any shard.
func (x *Index) createdOf(key string) (time.Time, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, s := range x.shards {
		if src, ok := storedOf(s, key); ok {
			return src.CreatedAt, true
		}
	}
	return time.Time{}, false
}

// metrics are the index's Prometheus metrics.
type metrics struct {
	indexed, deletes prometheus.Counter
	truncated        prometheus.Counter
	errors, skipped  *prometheus.CounterVec
	batchSeconds     prometheus.Histogram
	querySeconds     prometheus.Histogram
	shards           prometheus.Gauge
	bytes            prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, x *Index) *metrics {
	m := &metrics{
		indexed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "earshot_search_docs_indexed_total", Help: "Posts indexed or replaced."}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{Name: "earshot_search_truncated_posts_total", Help: "Posts whose text was cut to search.max_text_bytes before indexing."}),
		deletes:   prometheus.NewCounter(prometheus.CounterOpts{Name: "earshot_search_deletes_total", Help: "Posts removed from the index: platform deletes, and edits that no longer match."}),
		errors:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_search_errors_total", Help: "Index failures, by operation (write: posts dead-lettered; foreign: deletes and edits from another source than the post's, dead-lettered; open: a shard that does not open; expire; query)."}, []string{"op"}),
		skipped:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_search_skipped_total", Help: "Posts not indexed because their created_at is outside the window."}, []string{"reason"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "earshot_search_batch_duration_seconds", Help: "Time to write one batch to the index.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		querySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "earshot_search_query_duration_seconds", Help: "Time to answer one search.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		shards: prometheus.NewGauge(prometheus.GaugeOpts{Name: "earshot_search_shards_open", Help: "Day shards open."}),
	}
	m.bytes = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "earshot_search_index_bytes", Help: "Size of the index on disk."}, func() float64 { return float64(x.Bytes()) })
	if reg != nil {
		reg.MustRegister(m.indexed, m.truncated, m.deletes, m.errors, m.skipped, m.batchSeconds, m.querySeconds, m.shards, m.bytes)
	}
	return m
}
