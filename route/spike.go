package route

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/internal/wallclock"
	"github.com/earshot-dev/earshot/post"
)

// Spikes configures volume-spike alerts: per watchlist and region, the
// matched posts of each window are compared with a baseline: an EWMA of
// the earlier windows, or with Baseline "seasonal" an EWMA per hour of the
// week, so the Monday-morning rush or a daily show is not a spike every
// time (until an hour has been seen once, the plain EWMA stands in). A window with at least MinCount posts and Factor times
// the baseline opens a spike and raises one alert; the spike stays open,
// raising nothing more, until a window falls back under Factor/2 times the
// baseline (hysteresis), so a long storm pages once.
type Spikes struct {
	Window   time.Duration `yaml:"window"`    // e.g. 5m
	MinCount int           `yaml:"min_count"` // posts a window needs before it can be a spike
	Factor   float64       `yaml:"factor"`    // times the baseline
	Alpha    float64       `yaml:"alpha"`     // EWMA weight of the newest window, 0 to 1 (default 0.2)
	Baseline string        `yaml:"baseline"`  // ewma (the default) or seasonal (per hour of the week)
	Timezone string        `yaml:"timezone"`  // whose hours of the week, for seasonal (default UTC)
	Queue    string        `yaml:"queue"`
	Priority string        `yaml:"priority"`
}

func (s *Spikes) validate(queues []string) []string {
	var bad []string
	if s.Window < time.Minute || s.Window > 24*time.Hour {
		bad = append(bad, "spikes.window: 1m to 24h")
	}
	if s.MinCount < 1 {
		bad = append(bad, "spikes.min_count: at least 1")
	}
	if s.Factor <= 1 {
		bad = append(bad, "spikes.factor: more than 1")
	}
	if s.Alpha < 0 || s.Alpha > 1 {
		bad = append(bad, "spikes.alpha: between 0 and 1")
	}
	if s.Baseline != "" && s.Baseline != "ewma" && s.Baseline != "seasonal" {
		bad = append(bad, fmt.Sprintf("spikes.baseline: %q, want ewma or seasonal", s.Baseline))
	}
	if _, err := wallclock.Zone(s.Timezone); err != nil {
		bad = append(bad, fmt.Sprintf("spikes.timezone: %v", err))
	}
	if !slices.Contains(queues, s.Queue) {
		bad = append(bad, fmt.Sprintf("spikes.queue: %q is not among queues %v", s.Queue, queues))
	}
	if !slices.Contains(priorities, s.Priority) {
		bad = append(bad, fmt.Sprintf("spikes.priority: %q, want one of %v", s.Priority, priorities))
	}
	return bad
}

// spikeDetector keeps the windows. Its memory is bounded by the number of
// watchlist × region pairs, which the watchlist set bounds.
type spikeDetector struct {
	cfg   Spikes
	loc   *time.Location // of the hours of the week
	mu    sync.Mutex
	start time.Time // of the current window
	cur   map[spikeKey]*window
	state map[spikeKey]*trend
}

type spikeKey struct{ watchlist, region string }

type window struct {
	count   int
	seed    *post.Item // the first post of the window, carried by the alert
	terms   map[string]int
	authors map[string]int
}

type trend struct {
	baseline float64
	windows  int
	open     bool // in a spike
	season   *season
}

// hoursPerWeek slots a seasonal baseline.
const hoursPerWeek = 7 * 24

// season is a baseline per hour of the week.
type season struct {
	level [hoursPerWeek]float64
	seen  [hoursPerWeek]bool
}

// hourOfWeek is t's slot, Sunday 00:00 first, in loc.
func hourOfWeek(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	return int(l.Weekday())*24 + l.Hour()
}

func newSpikeDetector(cfg Spikes) *spikeDetector {
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.2
	}
	loc, err := wallclock.Zone(cfg.Timezone)
	if err != nil {
		loc = time.UTC // refused by validation already
	}
	return &spikeDetector{cfg: cfg, loc: loc, cur: map[spikeKey]*window{}, state: map[spikeKey]*trend{}}
}

// maxSpikeCatchUp bounds the windows one batch closes after the clock
// jumped ahead (or the stage sat idle): a week of one-minute windows, so
// every hour of the week's seasonal level has seen its empty windows.
const maxSpikeCatchUp = 10_080

// observe counts the matched items of a batch at time t and returns the
// spike alerts of the windows that closed before t.
func (d *spikeDetector) observe(items []*post.Item, t time.Time) []*post.Item {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*post.Item
	if d.start.IsZero() {
		d.start = t.Truncate(d.cfg.Window)
	}
	if t.Before(d.start) {
		// The clock stepped back: the open window would run on until the
		// clock came back to its end, gathering far more than a window's
		// posts (a spike of nothing). It closes now, short.
		out = append(out, d.close()...)
		d.start = t.Truncate(d.cfg.Window)
	}
	for i := 0; !t.Before(d.start.Add(d.cfg.Window)); i++ {
		if i == maxSpikeCatchUp {
			// The clock jumped: the windows left are empty, and the
			// trends have long settled; the cost of a batch stays bounded.
			d.start = t.Truncate(d.cfg.Window)
			break
		}
		out = append(out, d.close()...)
		d.start = d.start.Add(d.cfg.Window)
	}
	for _, it := range items {
		region := "unknown"
		if it.Enrichment != nil && it.Enrichment.Region != "" {
			region = it.Enrichment.Region
		}
		for _, m := range it.Matches {
			k := spikeKey{m.Watchlist, region}
			w := d.cur[k]
			if w == nil {
				w = &window{seed: it, terms: map[string]int{}, authors: map[string]int{}}
				d.cur[k] = w
			}
			w.count++
			for _, kw := range m.Keywords {
				w.terms[kw]++
			}
			if h := it.Post.Author.Handle; h != "" && len(w.authors) < 10_000 {
				w.authors[h]++
			}
		}
	}
	return out
}

// close ends the current window: it updates every trend and returns the
// spikes that opened.
func (d *spikeDetector) close() []*post.Item {
	var out []*post.Item
	keys := make(map[spikeKey]bool, len(d.state)+len(d.cur))
	for k := range d.state {
		keys[k] = true
	}
	for k := range d.cur {
		keys[k] = true
	}
	slot := hourOfWeek(d.start, d.loc)
	for k := range keys {
		tr := d.state[k]
		if tr == nil {
			tr = &trend{}
			if d.cfg.Baseline == "seasonal" {
				tr.season = &season{}
			}
			d.state[k] = tr
		}
		n := 0
		w := d.cur[k]
		if w != nil {
			n = w.count
		}
		expected, kind := tr.baseline, "baseline"
		if tr.season != nil && tr.season.seen[slot] {
			expected, kind = tr.season.level[slot], "usual level at this hour of the week"
		}
		base := max(expected, 1) // a quiet watchlist still needs MinCount
		switch {
		case !tr.open && tr.windows > 0 && n >= d.cfg.MinCount && float64(n) >= d.cfg.Factor*base:
			tr.open = true
			out = append(out, d.alert(k, w, expected, kind))
		case tr.open && float64(n) < d.cfg.Factor/2*base:
			tr.open = false
		}
		switch {
		case tr.windows == 0:
			tr.baseline = float64(n) // the first window is the first estimate
		case !tr.open: // a spike does not teach the baseline that storms are normal
			tr.baseline = d.cfg.Alpha*float64(n) + (1-d.cfg.Alpha)*tr.baseline
		}
		// The hours of the week learn even from a spike: a rush that comes
		// back every week is what the seasonal baseline is for. (So a one-off
		// storm also raises its hour's level, fading over some weeks.)
		if s := tr.season; s != nil {
			if s.seen[slot] {
				s.level[slot] = d.cfg.Alpha*float64(n) + (1-d.cfg.Alpha)*s.level[slot]
			} else {
				s.level[slot], s.seen[slot] = float64(n), true
			}
		}
		tr.windows++
		if tr.windows > 1 && tr.baseline < 0.01 && w == nil && !tr.open && tr.season.quiet() {
			delete(d.state, k) // forgotten once quiet: memory follows the active pairs
		}
	}
	clear(d.cur)
	return out
}

// quiet reports whether no hour of the week expects posts (nil: no season).
func (s *season) quiet() bool {
	if s == nil {
		return true
	}
	for _, v := range s.level {
		if v >= 0.01 {
			return false
		}
	}
	return true
}

func top(m map[string]int, n int) []string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int { return cmp.Or(b.v-a.v, cmp.Compare(a.k, b.k)) })
	var out []string
	for _, e := range all[:min(n, len(all))] {
		out = append(out, e.k)
	}
	return out
}

func (d *spikeDetector) alert(k spikeKey, w *window, baseline float64, kind string) *post.Item {
	start := d.start.UTC()
	it := &post.Item{Post: w.seed.Post, Matches: w.seed.Matches, Enrichment: w.seed.Enrichment}
	it.Alert = &post.Alert{
		ID:        AlertID(fmt.Sprintf("spike:%s:%s:%d", k.watchlist, k.region, start.Unix()), d.cfg.Queue),
		Queue:     d.cfg.Queue,
		Priority:  d.cfg.Priority,
		Rule:      "spike",
		CreatedAt: start.Add(d.cfg.Window),
		Spike: &post.Spike{
			Watchlist: k.watchlist, Region: k.region, WindowStart: start, Window: d.cfg.Window.String(),
			Count: w.count, Baseline: baseline,
			Why:        fmt.Sprintf("%d posts in %s against a %s of %.1f (%.1f×)", w.count, d.cfg.Window, kind, baseline, float64(w.count)/max(baseline, 1)),
			TopTerms:   top(w.terms, 5),
			TopAuthors: top(w.authors, 5),
		},
	}
	return it
}
