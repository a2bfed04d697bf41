// Package themes finds what people are talking about: clusters of posts
// that share significant phrases, per watchlist (or team, or region) and
// period. A digest, the API and the dashboard call Themes.
//
// How a theme is found, in four steps over a bounded, deterministic sample
// of the scope's posts (see Options for the bounds):
//
//  1. Phrases. Each post of the period is split into words by textnorm (the
//     one normaliser of match, enrich and search: Greek, Cyrillic, CJK and
//     look-alike letters read as they do everywhere else), and its phrases
//     are its words and runs of 2 or 3 words within a sentence. The
//     watchlist's own keywords (the post's matched keywords: the subject,
//     in every post), mentions and links are left out; a phrase may not
//     begin or end with a stop word (bleve's lists for 9 languages,
//     Greek included), nor be a lone digit string or a single character.
//  2. Significance. A phrase counts when at least MinPosts posts of the
//     period have it. Its weight is its inverse document frequency over
//     the period and the background (the Baseline periods before it):
//     ln((N+1)/(df+1)), so a phrase that everyone always uses weighs
//     little and one that is new this period weighs most; its score is
//     its posts in the period times its weight. The MaxPhrases best
//     scored are kept.
//  3. Grouping. Kept phrases are grouped by co-occurrence, greedily in
//     score order: a phrase joins the group whose members it shares posts
//     with most (mean Jaccard index of their post sets) when that is at
//     least Cohesion, and otherwise starts a group. A group of one single
//     word (not a hashtag) is dropped: a word alone ("phone") runs across
//     stories.
//  4. Themes. Each post goes to the group whose phrases it has with the
//     most weight (ties to the better scored group); a group with fewer
//     than MinPosts posts is dropped. A theme's label is its best phrases
//     (as written), its size its posts, its sentiment the mix of their
//     labels, its trend the same count over the period before, and its
//     representative posts the most typical ones: closest (cosine) to the
//     theme's phrase profile, one per distinct text, not the most recent.
//
// Exact and idempotent: the reader (ClickHouse: the *_dedup views) sees one
// row per post however often it was delivered and none of a deleted post,
// and everything after the read is a deterministic function of the posts
// read, so the same stored posts give the same themes.
package themes

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Scope narrows the posts themes are found in: a post is in scope when one
// of its matches is of one of Watchlists, of one of Teams, in one of
// Regions and in one of Markets (org.yaml markets, as the market column
// spells them; a post of no market is in none). An empty list does not
// narrow.
type Scope struct {
	Watchlists []string `json:"watchlists,omitempty"`
	Teams      []string `json:"teams,omitempty"`
	Regions    []string `json:"regions,omitempty"`
	Markets    []string `json:"markets,omitempty"`
}

// Post is a post as themes read it.
type Post struct {
	Key       string    // platform:id, unique
	Text      string    // at most Options.MaxTextBytes of it
	Sentiment string    // positive, neutral, negative or ""
	CreatedAt time.Time //
	Keywords  []string  // the watchlist keywords it matched: the subject, left out of its phrases
}

// Reader reads a scope's posts. A ClickHouse database is one (ClickHouse);
// Memory is another.
type Reader interface {
	// Scan calls fn with the posts of the scope created in [from, to):
	// all of them when there are at most max, or else a deterministic
	// sample of max of them (the same for the same stored posts, whatever
	// the order they arrived in), and returns how many posts there are in
	// all. Each post is given once, however often it was stored, and a
	// deleted post not at all. Texts are cut at maxText bytes (on a rune
	// boundary).
	Scan(ctx context.Context, sc Scope, from, to time.Time, max, maxText int, fn func(Post) error) (total int64, err error)
}

// Theme is one thing people talk about.
type Theme struct {
	Label   string   `json:"label"`   // its best phrases, joined by " · "
	Phrases []string `json:"phrases"` // its phrases, best first, as written (lower case)
	// Posts is how many posts of the period are in it; Previous, in the
	// period of the same length before. Both are estimates (the sample's
	// count scaled to all posts) when Sampled.
	Posts    int64 `json:"posts"`
	Previous int64 `json:"previous"`
	// Growth is (Posts − Previous) / Previous; nil when Previous is 0.
	Growth    *float64  `json:"growth"`
	Sentiment Sentiment `json:"sentiment"`
	// Representative are up to three of its most typical posts.
	Representative []Example `json:"representative"`
	// Share is Posts over all the scope's posts in the period.
	Share   float64 `json:"share"`
	Sampled bool    `json:"sampled,omitempty"`
	// Members are the keys of the posts read that are in the theme, when
	// Options.Members is set (for measuring themes against known stories).
	Members []string `json:"members,omitempty"`
}

// Sentiment is the mix of a theme's posts' sentiment labels (scaled as
// Posts when sampled).
type Sentiment struct {
	Positive int64 `json:"positive"`
	Neutral  int64 `json:"neutral"`
	Negative int64 `json:"negative"`
	Unknown  int64 `json:"unknown"`
}

// Example is a representative post.
type Example struct {
	Key       string    `json:"post_key"`
	Text      string    `json:"text"`
	Sentiment string    `json:"sentiment"`
	CreatedAt time.Time `json:"created_at"`
}

// Result is what Find returns: the themes and what they were found in.
type Result struct {
	Themes []Theme `json:"themes"`
	// Posts in scope in the period, and how many of them were read.
	Posts int64 `json:"posts"`
	Read  int   `json:"read"`
	// Themed is the share of the posts read that are in some theme
	// (before the limit).
	Themed float64 `json:"themed"`
	// ReadKeys are the keys of the posts read, when Options.Members is set.
	ReadKeys []string `json:"-"`
}

// Options bound and tune the search. Memory is bounded by the sample,
// whatever the number of posts in scope: the period's posts read (at most
// MaxPosts, with at most MaxTextBytes of text and MaxWords words each), a
// table of their words (at most MaxPosts × MaxWords, 8-byte keys), at most
// MaxGrams phrase counters, and bitsets of MaxPhrases × MaxPosts bits.
// Measured at the defaults: about 50 MB of heap for a sample of the
// synthetic firehose, 239 MB in the worst case of every word distinct
// (BenchmarkFindDistinctWords); the background windows are streamed, not
// kept.
type Options struct {
	MaxPosts     int     // posts read per window (the period, the one before, the older background): 20000
	MaxTextBytes int     // of each post: 2048
	MaxWords     int     // words read of each post: 100
	MaxGrams     int     // distinct phrases counted at once: 1<<20 (a rarer phrase is forgotten first beyond)
	MaxPhrases   int     // significant phrases grouped: 400
	MinPosts     int     // posts a phrase and a theme need at least: 3 (or 0.2% of the posts read, if more)
	Baseline     int     // periods before the period that make the background: 4
	Cohesion     float64 // share of a phrase's posts that must be in a group for it to join: 0.6
	Members      bool    // list each theme's posts (Theme.Members): for measuring
}

// DefaultOptions returns the options Themes uses.
func DefaultOptions() Options {
	return Options{MaxPosts: 20_000, MaxTextBytes: 2048, MaxWords: 100, MaxGrams: 1 << 20, MaxPhrases: 400, MinPosts: 3, Baseline: 4, Cohesion: 0.6}
}

// Validate reports every problem at once.
func (o Options) Validate() error {
	var errs []error
	check := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("themes.%s: %d, want %d to %d", name, v, lo, hi))
		}
	}
	check("max_posts", o.MaxPosts, 10, 1_000_000)
	check("max_text_bytes", o.MaxTextBytes, 16, 1<<20)
	check("max_words", o.MaxWords, 1, 10_000)
	check("max_grams", o.MaxGrams, 1000, 1<<26)
	check("max_phrases", o.MaxPhrases, 1, 2000)
	check("min_posts", o.MinPosts, 1, 1_000_000)
	check("baseline", o.Baseline, 1, 52)
	if !(o.Cohesion > 0 && o.Cohesion <= 1) {
		errs = append(errs, fmt.Errorf("themes.cohesion: %v, want more than 0, at most 1", o.Cohesion))
	}
	return errors.Join(errs...)
}

// MaxLimit is the most themes one call returns.
const MaxLimit = 100

// ErrInvalid wraps a bad argument (a period, a limit): a caller's error.
var ErrInvalid = errors.New("invalid themes request")

// Themes returns up to limit themes of the scope's posts created in
// [from, to), biggest first, with their trend against [from − (to − from),
// from), using DefaultOptions. It reads at most 3 × 20,000 posts from r
// whatever the volume, and is safe for concurrent use if r is.
func Themes(ctx context.Context, r Reader, sc Scope, from, to time.Time, limit int) ([]Theme, error) {
	res, err := DefaultOptions().Find(ctx, r, sc, from, to, limit)
	if err != nil {
		return nil, err
	}
	return res.Themes, nil
}

// Check reports what is wrong with the options or a request's period
// (at least a minute, at most 366 days) and limit (1 to MaxLimit).
func (o Options) Check(from, to time.Time, limit int) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if limit < 1 || limit > MaxLimit {
		return fmt.Errorf("%w: limit %d, want 1 to %d", ErrInvalid, limit, MaxLimit)
	}
	period := to.Sub(from)
	if period < time.Minute {
		return fmt.Errorf("%w: the period %s to %s is shorter than a minute", ErrInvalid, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	if period > 366*24*time.Hour {
		return fmt.Errorf("%w: the period is %s, at most 366 days", ErrInvalid, period)
	}
	return nil
}

// Find is Themes with these options, and says what the themes were found in.
func (o Options) Find(ctx context.Context, r Reader, sc Scope, from, to time.Time, limit int) (*Result, error) {
	if err := o.Check(from, to, limit); err != nil {
		return nil, err
	}
	period := to.Sub(from)
	f := newFinder(o)
	total, err := r.Scan(ctx, sc, from, to, o.MaxPosts, o.MaxTextBytes, func(p Post) error {
		f.addPeriod(p)
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the period's posts: %w", err)
	}
	f.total = total
	f.countPeriod()
	// Nothing is stored before 1970 (ClickHouse's DateTime): the windows
	// before the period start there at the earliest.
	epoch := time.Unix(0, 0)
	prevFrom := from.Add(-period)
	if prevFrom.Before(epoch) {
		prevFrom = epoch
	}
	if prevFrom.Before(from) {
		f.prevTotal, err = r.Scan(ctx, sc, prevFrom, from, o.MaxPosts, o.MaxTextBytes, func(p Post) error {
			f.addBackground(p, true)
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("reading the previous period's posts: %w", err)
		}
	}
	if o.Baseline > 1 {
		older := from.Add(-time.Duration(o.Baseline) * period)
		if older.Before(epoch) {
			older = epoch
		}
		if older.Before(prevFrom) {
			if _, err := r.Scan(ctx, sc, older, prevFrom, o.MaxPosts, o.MaxTextBytes, func(p Post) error {
				f.addBackground(p, false)
				return ctx.Err()
			}); err != nil {
				return nil, fmt.Errorf("reading the background posts: %w", err)
			}
		}
	}
	return f.result(limit), nil
}

// Bound is a Reader with the options to read it with: what the API calls.
type Bound struct {
	Reader  Reader
	Options Options
}

// Find finds the themes of sc in [from, to).
func (b Bound) Find(ctx context.Context, sc Scope, from, to time.Time, limit int) (*Result, error) {
	return b.Options.Find(ctx, b.Reader, sc, from, to, limit)
}
