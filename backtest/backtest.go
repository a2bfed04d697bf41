// Package backtest tries a draft watchlist with the real matcher over the
// posts the search index keeps. It sits above search and match (issue 18
// item 9): a stage package imports no other stage.
package backtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/search"
)

// Options tune a backtest.
type Options struct {
	Since   time.Duration     // how far back; clamped to the retention window
	Sample  int               // matched posts to show; 0 is 10
	Regions map[string]string // country → region, for region: in rules (as the live matcher has it)
	Markets map[string]string // country → market (org.yaml markets), for market: in rules
	// Only, when not empty, narrows the posts tried to these markets (a
	// market team's caller, who sees its markets' posts only); posts of
	// no market are left out too. Compared without regard to case.
	Only []string
}

// Report is what a draft watchlist would have matched in the window.
type Report struct {
	Watchlist string        `json:"watchlist"`
	Rule      string        `json:"rule,omitempty"`
	Since     time.Time     `json:"since"`
	Until     time.Time     `json:"until"`
	Notes     []string      `json:"notes,omitempty"`
	Scanned   int           `json:"scanned"` // indexed posts read
	Matched   int           `json:"matched"`
	PerDay    []Day         `json:"per_day"`
	Sample    []Sample      `json:"sample"`
	Overlap   []Overlap     `json:"overlap"` // per live watchlist, how many of the draft's matches it matched too
	Took      time.Duration `json:"took_ns"`
}

// Day counts one UTC day.
type Day struct {
	Day     string `json:"day"`
	Scanned int    `json:"scanned"`
	Matched int    `json:"matched"`
}

// Sample is one matched post.
type Sample struct {
	Key       string    `json:"key"`
	CreatedAt time.Time `json:"created_at"`
	Author    string    `json:"author,omitempty"`
	Text      string    `json:"text"`
	Keywords  []string  `json:"keywords,omitempty"`
}

// Overlap is how many of the draft's matches a live watchlist matched too.
type Overlap struct {
	Watchlist string  `json:"watchlist"`
	Both      int     `json:"both"`
	Share     float64 `json:"share"` // of the draft's matches
}

// Run runs draft (whatever its status) with the real matcher over the
// posts of the retention window, and the live watchlists beside it for the
// overlap. The index holds only posts some live watchlist matched when they
// arrived, so the draft is tried on those: a draft that reaches beyond every
// live list is undercounted, and the report says so.
func Run(ctx context.Context, x *search.Index, draft *match.Watchlist, live []*match.Watchlist, o Options) (*Report, error) {
	start := time.Now()
	if o.Sample <= 0 {
		o.Sample = 10
	}
	if o.Since <= 0 {
		o.Since = x.Retention()
	}
	r := &Report{Watchlist: draft.ID, Rule: draft.Rule, PerDay: []Day{}, Sample: []Sample{}, Overlap: []Overlap{}}
	if o.Since > x.Retention() {
		r.Notes = append(r.Notes, fmt.Sprintf("asked for %s, but the index keeps %s (search.retention): backtested the last %s only",
			fmtAge(o.Since), fmtAge(x.Retention()), fmtAge(x.Retention())))
		o.Since = x.Retention()
	}
	d := *draft
	d.Status = "live" // a draft is what is being tried
	de, err := match.CompileWith([]*match.Watchlist{&d}, match.Options{Regions: o.Regions, Markets: o.Markets})
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", draft.ID, err)
	}
	var lives []*match.Watchlist
	for _, w := range live {
		if w.Live() {
			lives = append(lives, w)
		}
	}
	var le *match.Engine
	if len(lives) > 0 {
		if le, err = match.CompileWith(lives, match.Options{Regions: o.Regions, Markets: o.Markets}); err != nil {
			return nil, fmt.Errorf("compiling the live watchlists: %w", err)
		}
	}
	now := x.Now().UTC()
	r.Since, r.Until = now.Add(-o.Since), now
	days := map[string]*Day{}
	for t := r.Since; !t.After(now); t = t.Add(24 * time.Hour) {
		day := t.Format(search.DayLayout)
		days[day] = &Day{Day: day}
	}
	days[now.Format(search.DayLayout)] = &Day{Day: now.Format(search.DayLayout)}
	both := map[string]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	err = x.Scan(ctx, r.Since, time.Time{}, func(day string, s *search.Stored) error {
		if len(o.Only) > 0 && !slices.ContainsFunc(o.Only, func(m string) bool { return s.Market != "" && strings.EqualFold(m, s.Market) }) {
			return nil // not the caller's to see, nor to count
		}
		r.Scanned++
		bd := days[day]
		if bd == nil {
			bd = &Day{Day: day}
			days[day] = bd
		}
		bd.Scanned++
		p := s.Post()
		ms := de.Match(p)
		if len(ms) == 0 {
			return nil
		}
		r.Matched++
		bd.Matched++
		smp := Sample{Key: p.Key(), CreatedAt: p.CreatedAt, Author: p.Author.Handle, Text: p.Text, Keywords: ms[0].Keywords}
		if len(r.Sample) < o.Sample {
			r.Sample = append(r.Sample, smp)
		} else if j := rng.IntN(r.Matched); j < o.Sample {
			r.Sample[j] = smp // reservoir: every match equally likely to be shown
		}
		if le != nil {
			for _, m := range le.Match(p) {
				both[m.Watchlist]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, bd := range days {
		r.PerDay = append(r.PerDay, *bd)
	}
	slices.SortFunc(r.PerDay, func(a, b Day) int { return strings.Compare(a.Day, b.Day) })
	slices.SortFunc(r.Sample, func(a, b Sample) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, w := range lives {
		ov := Overlap{Watchlist: w.ID, Both: both[w.ID]}
		if r.Matched > 0 {
			ov.Share = float64(ov.Both) / float64(r.Matched)
		}
		r.Overlap = append(r.Overlap, ov)
	}
	slices.SortFunc(r.Overlap, func(a, b Overlap) int {
		if a.Both != b.Both {
			return b.Both - a.Both
		}
		return strings.Compare(a.Watchlist, b.Watchlist)
	})
	r.Notes = append(r.Notes, "the index holds the posts some live watchlist matched when they arrived: matches of the draft outside every live watchlist are not seen")
	r.Took = time.Since(start)
	return r, nil
}

func fmtAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
