package digest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/internal/textcut"
)

// Runner runs a cookbook query; insights.Bound is one. Every figure of a
// digest comes from one of its runs, recorded in Report.Sources.
type Runner interface {
	Run(ctx context.Context, name string, params map[string]string) (*insights.Table, error)
}

// Themes finds what people talk about in a scope and window. The themes
// section shows what it returns; without one (nil) it shows the top terms,
// each as a theme of one term.
type Themes interface {
	Themes(ctx context.Context, s Scope, since, until time.Time, top int) ([]Theme, error)
}

// Theme is one theme: a label (its top phrases), how many posts, the
// change against the previous period and up to three representative posts.
type Theme struct {
	Label    string
	Size     int64
	Previous int64
	Negative float64 // share of its posts labelled negative, 0 to 1; -1 unknown
	Posts    []string
}

// Source is one query run: a figure's provenance.
type Source struct {
	Section string            `json:"section"`
	Query   string            `json:"query"`
	Params  map[string]string `json:"params"`
	Rows    int               `json:"rows"`
}

// Totals are the headline figures of a period (digest_summary).
type Totals struct {
	Mentions, Posts, Positive, Neutral, Negative int64
	Net                                          float64
}

// Bucket is one point of the volume chart (digest_volume).
type Bucket struct {
	Start                                 time.Time
	Mentions, Positive, Neutral, Negative int64
}

// Term is one row of digest_terms.
type Term struct {
	Term                   string
	This, Previous, Change int64
}

// Spike is one row of digest_spikes with its why.
type Spike struct {
	Watchlist       string
	Hour            time.Time
	Mentions        int64
	Baseline, Ratio float64
	Terms           []Term // the hour's terms against the hour before
	Why             string
}

// Post is one row of digest_posts.
type Post struct {
	Key, Platform, Author string
	Created               time.Time
	Influence             float64
	Engagement            int64
	Sentiment, Excerpt    string
}

// Alerts is one row of digest_alerts.
type Alerts struct {
	Queue                                           string
	Alerts, Spikes, WithSLA, Met, Breached, Pending int64
	Compliance                                      float64
}

// Report is a digest's content for one period, before rendering.
type Report struct {
	Name, Slug  string
	Since       time.Time // in the audience's zone
	Until       time.Time
	Previous    time.Time // start of the previous period (it ends at Since)
	Generated   time.Time
	Scope       Scope
	Sections    []string
	LatestPost  time.Time // zero: none
	LatestWrite time.Time
	This, Prev  Totals
	Bucket      time.Duration
	Volume      []Bucket
	PrevVolume  []Bucket
	Terms       []Term
	Emerging    []Term
	Themes      []Theme
	ThemesNote  string
	Spikes      []Spike
	Posts       []Post
	Alerts      []Alerts
	Truncated   []string // tables cut at the row limit
	Sources     []Source
}

// Has reports whether the report shows a section.
func (r *Report) Has(section string) bool {
	for _, s := range r.Sections {
		if s == section {
			return true
		}
	}
	return false
}

// Key identifies the report's period: digest slug and period end (UTC);
// it names the archive and keys the delivery.
func (r *Report) Key() string { return r.Slug + "/" + PeriodID(r.Until) }

// PeriodID is a period end as it names archives: 20261207T0600Z.
func PeriodID(until time.Time) string { return until.UTC().Format(periodLayout) }

// periodLayout is the layout of a PeriodID.
const periodLayout = "20060102T1504Z"

// Params are the scope as the digest_* queries take it: comma-separated.
func (s Scope) Params() map[string]string {
	return map[string]string{
		"watchlists": strings.Join(s.Watchlists, ","),
		"teams":      strings.Join(s.Teams, ","),
		"regions":    strings.Join(s.Regions, ","),
		"markets":    strings.Join(s.Markets, ","),
		"intents":    strings.Join(s.Intents, ","),
	}
}

// Empty reports whether the scope covers everything.
func (s Scope) Empty() bool {
	return len(s.Watchlists)+len(s.Teams)+len(s.Regions)+len(s.Markets)+len(s.Intents) == 0
}

// Build runs the digest's queries for the period due at `at` (the
// schedule's latest run at or before it). now is the generation time.
func Build(ctx context.Context, run Runner, themes Themes, d Digest, at, now time.Time) (*Report, error) {
	since, until, err := d.Window(at)
	if err != nil {
		return nil, fmt.Errorf("digest %q: %w", d.Name, err)
	}
	period := until.Sub(since)
	r := &Report{Name: d.Name, Slug: Slug(d.Name), Since: since, Until: until, Previous: since.Add(-period), Generated: now,
		Scope: d.Scope, Sections: d.SectionList(), Bucket: bucketFor(period)}
	b := builder{ctx: ctx, run: run, r: r}
	top := strconv.Itoa(d.TopN())
	window := func(extra map[string]string, s, u time.Time) map[string]string {
		p := d.Scope.Params()
		p["since"], p["until"] = rfc(s), rfc(u)
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	fresh := b.query("freshness", "digest_freshness", map[string]string{"until": rfc(until)})
	for _, row := range fresh.rows() {
		r.LatestPost, r.LatestWrite = row.time("latest_post"), row.time("latest_write")
	}
	for _, row := range b.query("summary", "digest_summary", window(nil, since, until)).rows() {
		r.This = row.totals()
	}
	for _, row := range b.query("summary", "digest_summary", window(nil, r.Previous, since)).rows() {
		r.Prev = row.totals()
	}
	if r.Has(SectionVolume) {
		bucket := strconv.Itoa(int(r.Bucket/time.Second)) + "s"
		for _, row := range b.query(SectionVolume, "digest_volume", window(map[string]string{"bucket": bucket}, since, until)).rows() {
			r.Volume = append(r.Volume, row.bucket())
		}
		for _, row := range b.query(SectionVolume, "digest_volume", window(map[string]string{"bucket": bucket}, r.Previous, since)).rows() {
			r.PrevVolume = append(r.PrevVolume, row.bucket())
		}
	}
	if r.Has(SectionTerms) || (r.Has(SectionThemes) && themes == nil) {
		for _, row := range b.query(SectionTerms, "digest_terms", window(map[string]string{"top": top}, since, until)).rows() {
			r.Terms = append(r.Terms, row.term())
		}
	}
	if r.Has(SectionTerms) {
		for _, row := range b.query(SectionTerms, "digest_terms", window(map[string]string{"top": top, "emerging": "1"}, since, until)).rows() {
			r.Emerging = append(r.Emerging, row.term())
		}
	}
	if r.Has(SectionThemes) {
		if themes != nil {
			ts, err := themes.Themes(ctx, d.Scope, since, until, d.TopN())
			if err != nil {
				b.fail(fmt.Errorf("themes: %w", err))
			}
			r.Themes = ts
		} else {
			r.ThemesNote = "Themes (clusters of posts by shared phrases) are not found for this scope (they do not narrow by intent): the top terms stand in, each as a theme of one term."
			for _, t := range r.Terms {
				r.Themes = append(r.Themes, Theme{Label: t.Term, Size: t.This, Previous: t.Previous, Negative: -1})
			}
		}
	}
	if r.Has(SectionSpikes) {
		for _, row := range b.query(SectionSpikes, "digest_spikes", window(map[string]string{"top": strconv.Itoa(min(d.TopN(), 10))}, since, until)).rows() {
			s := row.spike()
			p := window(map[string]string{"top": "3"}, s.Hour, s.Hour.Add(time.Hour))
			p["watchlists"] = s.Watchlist
			for _, tr := range b.query(SectionSpikes, "digest_terms", p).rows() {
				s.Terms = append(s.Terms, tr.term())
			}
			s.Why = why(s)
			r.Spikes = append(r.Spikes, s)
		}
	}
	if r.Has(SectionPosts) {
		for _, row := range b.query(SectionPosts, "digest_posts", window(map[string]string{"top": top}, since, until)).rows() {
			r.Posts = append(r.Posts, row.post())
		}
	}
	if r.Has(SectionAlerts) {
		p := window(map[string]string{"as_of": rfc(until)}, since, until)
		delete(p, "intents") // alerts carry no intents
		for _, row := range b.query(SectionAlerts, "digest_alerts", p).rows() {
			r.Alerts = append(r.Alerts, row.alerts())
		}
	}
	if b.err != nil {
		return nil, fmt.Errorf("digest %q: %w", d.Name, b.err)
	}
	return r, nil
}

// bucketFor is the volume chart's bucket: hours up to two days, days up
// to two months, weeks beyond (at most ~53 bars).
func bucketFor(period time.Duration) time.Duration {
	switch {
	case period <= 48*time.Hour:
		return time.Hour
	case period <= 62*24*time.Hour:
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

func why(s Spike) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d mentions on %s in the hour against an hourly average of %s over the period (%s×)", s.Mentions, s.Watchlist, num(s.Baseline), num(s.Ratio))
	if len(s.Terms) > 0 {
		b.WriteString("; terms: ")
		for i, t := range s.Terms {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q %d (%+d on the hour before)", t.Term, t.This, t.Change)
		}
	}
	return b.String()
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type builder struct {
	ctx context.Context
	run Runner
	r   *Report
	err error
}

type table struct{ *insights.Table }

// query runs one query, records it, and returns its table (empty after an
// error: the first error fails the build).
func (b *builder) query(section, name string, params map[string]string) table {
	if b.err != nil {
		return table{&insights.Table{}}
	}
	t, err := b.run.Run(b.ctx, name, params)
	if err != nil {
		b.fail(fmt.Errorf("%s: %w", section, err))
		return table{&insights.Table{}}
	}
	b.r.Sources = append(b.r.Sources, Source{Section: section, Query: name, Params: params, Rows: len(t.Rows)})
	if t.Truncated {
		b.r.Truncated = append(b.r.Truncated, name)
	}
	return table{t}
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

type row struct {
	cols []string
	vals []any
}

func (t table) rows() []row {
	out := make([]row, len(t.Rows))
	for i, v := range t.Rows {
		out[i] = row{t.Columns, v}
	}
	return out
}

func (r row) get(col string) any {
	for i, c := range r.cols {
		if c == col && i < len(r.vals) {
			return r.vals[i]
		}
	}
	return nil
}

func (r row) int(col string) int64 {
	switch x := r.get(col).(type) {
	case int64:
		return x
	case uint64:
		return int64(min(x, math.MaxInt64))
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func (r row) float(col string) float64 {
	switch x := r.get(col).(type) {
	case float64:
		return x
	case float32: // as written: 40.7, not 40.70000076293945
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return f
	case int64, uint64, int32, uint32, int:
		return float64(r.int(col))
	}
	return 0
}

func (r row) str(col string) string {
	s, _ := r.get(col).(string)
	return s
}

func (r row) time(col string) time.Time {
	t, _ := r.get(col).(time.Time)
	if t.Unix() <= 0 {
		return time.Time{} // max() over nothing is 1970
	}
	return t
}

func (r row) totals() Totals {
	return Totals{Mentions: r.int("mentions"), Posts: r.int("posts"), Positive: r.int("positive"), Neutral: r.int("neutral"), Negative: r.int("negative"), Net: r.float("net_sentiment")}
}

func (r row) bucket() Bucket {
	return Bucket{Start: r.time("bucket_start"), Mentions: r.int("mentions"), Positive: r.int("positive"), Neutral: r.int("neutral"), Negative: r.int("negative")}
}

func (r row) term() Term {
	return Term{Term: r.str("term"), This: r.int("this_period"), Previous: r.int("previous_period"), Change: r.int("change")}
}

func (r row) spike() Spike {
	return Spike{Watchlist: r.str("watchlist"), Hour: r.time("hour"), Mentions: r.int("mentions_in_hour"), Baseline: r.float("baseline"), Ratio: r.float("ratio")}
}

func (r row) post() Post {
	return Post{Key: r.str("post_key"), Platform: textcut.Chars(oneLine(r.str("platform")), platformChars), Author: textcut.Chars(r.str("author_handle"), handleChars), Created: r.time("created_at"),
		Influence: r.float("influence"), Engagement: r.int("engagement"), Sentiment: r.str("sentiment_label"), Excerpt: textcut.Chars(r.str("excerpt"), excerptChars)}
}

func (r row) alerts() Alerts {
	return Alerts{Queue: r.str("queue"), Alerts: r.int("alerts"), Spikes: r.int("spikes"), WithSLA: r.int("with_sla"), Met: r.int("met"),
		Breached: r.int("breached"), Pending: r.int("pending"), Compliance: r.float("compliance")}
}

// Bounds of what a digest shows of a post, in characters, "…" included,
// cut at a grapheme cluster boundary (textcut.Chars): its platform
// and its author's handle (the platform's to choose: a huge one must not
// blow up the page), and its excerpt (digest_posts.sql reads one character
// more, so that a cut is seen).
const (
	platformChars = 50
	handleChars   = 100
	excerptChars  = 280
)

// num writes a float without needless digits.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
