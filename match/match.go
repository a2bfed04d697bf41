package match

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/earshot-dev/earshot/post"
)

// Matcher serves the live engine and lets a new one be swapped in while
// posts flow: each batch is matched entirely by one engine, so across a swap
// no post is lost or matched twice, and every match names the watchlist
// version that produced it.
type Matcher struct {
	cur  atomic.Pointer[Engine]
	opts Options
}

// New compiles the live lists among lists into a matcher, with no quota and
// the default regions.
func New(lists []*Watchlist) (*Matcher, error) { return NewWith(lists, Options{}) }

// NewWith is New with options; every set, first and swapped in later, keeps
// the team quota.
func NewWith(lists []*Watchlist, o Options) (*Matcher, error) {
	m := &Matcher{opts: o}
	if err := m.Swap(lists); err != nil {
		return nil, err
	}
	return m, nil
}

// Swap compiles lists in the caller's goroutine and, if they compile, makes
// them live; otherwise the engine in use keeps running.
func (m *Matcher) Swap(lists []*Watchlist) error {
	if err := CheckQuota(lists, m.opts.TeamQuota); err != nil {
		return err
	}
	var live []*Watchlist
	for _, w := range lists {
		if w.Live() {
			live = append(live, w)
		}
	}
	e, err := CompileWith(live, m.opts)
	if err != nil {
		return err
	}
	m.cur.Store(e)
	return nil
}

// Engine returns the engine in use.
func (m *Matcher) Engine() *Engine { return m.cur.Load() }

// Match matches one post with the engine in use.
func (m *Matcher) Match(p *post.Post) []post.Match { return m.cur.Load().Match(p) }

// withMatches is a shallow copy of it carrying ms.
func withMatches(it *post.Item, ms []post.Match) *post.Item {
	cp := *it
	cp.Matches = ms
	return &cp
}

// Stage returns the match stage: it passes on the posts that match at least
// one watchlist, with their matches, and drops the rest. A post over the
// work budget (Options.MaxWork) is rejected, to be dead-lettered, with the
// reason. Deletes, and edits
// that match nothing, are passed on without matches, for retraction.
//
// A delete, an edit, or the same post again, from another source than the
// one that delivered a post the stage passed on, is a dead letter (see
// origins): it reaches neither route, nor the sink, nor the index.
func (m *Matcher) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	seen := newOrigins(originsCapacity)
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		e := m.cur.Load()
		s := e.getScratch()
		defer e.pool.Put(s)
		var out post.Batch
		// Items given are never modified (stream.Stage): matched posts go
		// out as shallow copies carrying their matches.
		for _, it := range in.Items {
			if it.Post.Kind == post.KindVolume {
				// Match's own output for the sink, come back: it carries
				// no text, and would pass unmatched without a word.
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: "match: a volume record on the posts topic; volume belongs on the volume topic", Class: post.ClassMisrouted})
				continue
			}
			if it.Post.Kind == post.KindDelete {
				if origin, ok := seen.check(it.Key(), it.Post.Source, false); !ok {
					out.Rejected = append(out.Rejected, foreign(it, it.Key(), origin))
					continue
				}
				// Passed on so that an alert raised for the post can be retracted.
				out.Items = append(out.Items, withMatches(it, nil))
				continue
			}
			ms, err := e.matchBudget(nil, it.Post, s)
			if err != nil {
				// One hostile post must not hold up the posts behind it.
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: "match: " + err.Error(), Class: budgetClass(err)})
				continue
			}
			if len(ms) > 0 || it.Post.Kind == post.KindEdit {
				if origin, ok := seen.check(it.Key(), it.Post.Source, true); !ok {
					out.Rejected = append(out.Rejected, foreign(it, it.Key(), origin))
					continue
				}
				// An edit that no longer matches is passed on too: its alert
				// is retracted.
				out.Items = append(out.Items, withMatches(it, ms))
			}
		}
		return out, nil
	}
}

// budgetClass is the dead-letter class of a matching error: over the work
// budget, or (never yet) anything else.
func budgetClass(err error) post.Class {
	if errors.Is(err, ErrBudget) {
		return post.ClassBudgetExceeded
	}
	return post.ClassOther
}
