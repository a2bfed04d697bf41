package digest

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Rendered is a report in every form a digest is delivered or archived in
// (the PDF is printed from HTML by PDF).
type Rendered struct {
	Subject string
	Summary string // a few lines for Slack and Teams
	Email   string // HTML with the chart as cid:volume.png
	HTML    string // HTML with the chart as a data: URI (archive, PDF, browser)
	Text    string
	Chart   []byte            // volume.png; nil without the volume section
	CSV     map[string][]byte // file name → CSV of a table
}

// ChartCID is the Content-ID of the chart in the email.
const ChartCID = "volume.png"

// Render renders a report in the audience's zone.
func Render(r *Report, loc *time.Location) (*Rendered, error) {
	out := &Rendered{Subject: r.subject(loc), CSV: r.csvs()}
	if r.Has(SectionVolume) {
		png, err := VolumeChart(r, loc)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		out.Chart = png
	}
	for _, mode := range []string{"email", "html"} {
		src := template.URL("cid:" + ChartCID)
		if mode == "html" {
			src = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(out.Chart))
		}
		var b bytes.Buffer
		if err := page.Execute(&b, view{R: r, Loc: loc, ChartSrc: src}); err != nil {
			return nil, fmt.Errorf("html: %w", err)
		}
		if mode == "email" {
			out.Email = b.String()
		} else {
			out.HTML = b.String()
		}
	}
	out.Text = r.text(loc)
	out.Summary = r.summary(loc)
	return out, nil
}

// Count writes a count with thousands separators: 12,345.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Change writes this against before: "+12%", "-3%", "new", "no change".
func Change(this, before int64) string {
	switch {
	case this == before:
		return "no change"
	case before == 0:
		return "new"
	}
	return fmt.Sprintf("%+.0f%%", 100*float64(this-before)/float64(before))
}

func (r *Report) periodText(loc *time.Location) string {
	return r.Since.In(loc).Format("Mon 2 Jan 2006 15:04") + " to " + r.Until.In(loc).Format("Mon 2 Jan 2006 15:04") + " (" + loc.String() + ")"
}

// ScopeText says what the digest covers, in words.
func (r *Report) ScopeText() string {
	s := r.Scope
	if s.Empty() {
		return "every watchlist, team, region, market and intent"
	}
	var parts []string
	add := func(what string, names []string) {
		if len(names) > 0 {
			parts = append(parts, what+" "+strings.Join(names, ", "))
		}
	}
	add("watchlists", s.Watchlists)
	add("teams", s.Teams)
	add("regions", s.Regions)
	add("markets", s.Markets)
	add("intents", s.Intents)
	return strings.Join(parts, "; ")
}

// FreshnessText states how fresh the data is.
func (r *Report) FreshnessText(loc *time.Location) string {
	if r.LatestWrite.IsZero() {
		return "no matches stored at all yet"
	}
	s := "newest stored post " + r.LatestPost.In(loc).Format("2 Jan 2006 15:04")
	if r.LatestPost.IsZero() {
		s = "no stored post before the period's end"
	}
	s += "; last written " + r.LatestWrite.In(loc).Format("2 Jan 2006 15:04")
	if !r.LatestPost.IsZero() && r.Until.Sub(r.LatestPost) > time.Hour {
		s += fmt.Sprintf(" — nothing in the last %s of the period: a quiet spell or a stalled pipeline", span(r.Until.Sub(r.LatestPost)))
	}
	return s
}

func (r *Report) subject(loc *time.Location) string {
	s := fmt.Sprintf("%s: %s mentions (%s)", r.Name, Count(r.This.Mentions), Change(r.This.Mentions, r.Prev.Mentions))
	if r.This.Mentions == 0 {
		s = r.Name + ": no posts in this period"
	}
	return oneLine(s + ", " + subjectPeriod(r.Since.In(loc), r.Until.In(loc)))
}

// subjectPeriod is a period in a subject: its dates, and its times too when
// it is shorter than a day ("7 Dec to 7 Dec 2026" says nothing of an
// hourly digest). A day that summer time shortened, from midnight to
// midnight, is still a day. The year is said once, unless the period
// crosses one.
func subjectPeriod(since, until time.Time) string {
	midnight := func(t time.Time) bool { return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }
	from := "2 Jan"
	if since.Year() != until.Year() {
		from = "2 Jan 2006"
	}
	if until.Sub(since) >= 24*time.Hour || (midnight(since) && midnight(until)) {
		return since.Format(from) + " to " + until.Format("2 Jan 2006")
	}
	y1, m1, d1 := since.Date()
	y2, m2, d2 := until.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return since.Format("2 Jan 2006 15:04") + " to " + until.Format("15:04 MST")
	}
	return since.Format(from+" 15:04") + " to " + until.Format("2 Jan 2006 15:04 MST")
}

func (r *Report) summary(loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s\n", r.Name, r.periodText(loc))
	if r.This.Mentions == 0 {
		b.WriteString("No posts in this period.\n")
	} else {
		fmt.Fprintf(&b, "%s mentions (%s against %s), net sentiment %.3f (previous %.3f), %s negative.\n",
			Count(r.This.Mentions), Change(r.This.Mentions, r.Prev.Mentions), Count(r.Prev.Mentions), r.This.Net, r.Prev.Net, Count(r.This.Negative))
	}
	if len(r.Spikes) > 0 {
		fmt.Fprintf(&b, "%d spike(s); the biggest: %s.\n", len(r.Spikes), r.Spikes[0].Why)
	}
	return b.String()
}

// oneLine keeps untrusted text (a post, a term, a digest name) to one
// line of text without bidi overrides, which would reorder what follows
// them in a plain-text mail ("Trojan Source").
func oneLine(s string) string {
	return strings.Join(strings.Fields(bidi.Replace(s)), " ")
}

var bidi = strings.NewReplacer("\u202a", "", "\u202b", "", "\u202c", "", "\u202d", "", "\u202e", "", "\u2066", "", "\u2067", "", "\u2068", "", "\u2069", "", "\u200e", "", "\u200f", "")

// excerptLine keeps a post excerpt on one line in the text part.
func excerptLine(s string) string { return oneLine(strings.ToValidUTF8(s, "\uFFFD")) }

func (r *Report) text(loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\nScope: %s\nData: %s\n\n", r.Name, r.periodText(loc), r.ScopeText(), r.FreshnessText(loc))
	if r.This.Mentions == 0 {
		b.WriteString("No posts in this period.\n\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tthis period\tprevious period\tchange\n")
	for _, l := range []struct {
		name string
		a, p int64
	}{{"mentions", r.This.Mentions, r.Prev.Mentions}, {"posts", r.This.Posts, r.Prev.Posts}, {"positive", r.This.Positive, r.Prev.Positive},
		{"neutral", r.This.Neutral, r.Prev.Neutral}, {"negative", r.This.Negative, r.Prev.Negative}} {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.name, Count(l.a), Count(l.p), Change(l.a, l.p))
	}
	fmt.Fprintf(tw, "net sentiment\t%.3f\t%.3f\t\n", r.This.Net, r.Prev.Net)
	tw.Flush()
	section := func(title string, empty bool) bool {
		fmt.Fprintf(&b, "\n%s\n", title)
		if empty {
			b.WriteString("  none in this period\n")
		}
		return !empty
	}
	terms := func(ts []Term) {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, t := range ts {
			fmt.Fprintf(tw, "  %s\t%s\t(previous %s, %+d)\n", oneLine(t.Term), Count(t.This), Count(t.Previous), t.Change)
		}
		tw.Flush()
	}
	if r.Has(SectionTerms) {
		if section("Top terms", len(r.Terms) == 0) {
			terms(r.Terms)
		}
		if section("Emerging terms", len(r.Emerging) == 0) {
			terms(r.Emerging)
		}
	}
	if r.Has(SectionThemes) && section("Themes", len(r.Themes) == 0) {
		if r.ThemesNote != "" {
			fmt.Fprintf(&b, "  (%s)\n", r.ThemesNote)
		}
		for _, t := range r.Themes {
			fmt.Fprintf(&b, "  %s: %s (previous %s)\n", oneLine(t.Label), Count(t.Size), Count(t.Previous))
		}
	}
	if r.Has(SectionSpikes) && section("Spikes", len(r.Spikes) == 0) {
		for _, s := range r.Spikes {
			fmt.Fprintf(&b, "  %s: %s\n", s.Hour.In(loc).Format("Mon 2 Jan 15:04"), oneLine(s.Why))
		}
	}
	if r.Has(SectionPosts) && section("Most influential posts", len(r.Posts) == 0) {
		for _, p := range r.Posts {
			fmt.Fprintf(&b, "  @%s on %s, %s, influence %s, engagement %s, %s:\n    %s\n", oneLine(p.Author), p.Platform, p.Created.In(loc).Format("2 Jan 15:04"),
				num(p.Influence), Count(p.Engagement), p.Sentiment, excerptLine(p.Excerpt))
		}
	}
	if r.Has(SectionAlerts) && section("Alerts and SLA", len(r.Alerts) == 0) {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  queue\talerts\tspikes\twith SLA\tmet\tbreached\tpending\tcompliance\n")
		for _, a := range r.Alerts {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Queue, Count(a.Alerts), Count(a.Spikes), Count(a.WithSLA), Count(a.Met), Count(a.Breached), Count(a.Pending), Percent(a.Compliance))
		}
		tw.Flush()
	}
	b.WriteString("\nHow far to trust this\n")
	for _, c := range r.Caveats() {
		fmt.Fprintf(&b, "  - %s\n", c)
	}
	if len(r.Truncated) > 0 {
		fmt.Fprintf(&b, "  - Cut at the row limit: %s.\n", strings.Join(r.Truncated, ", "))
	}
	fmt.Fprintf(&b, "\nEvery figure comes from the cookbook queries (%s); the tables are attached as CSV.\n", r.QueryNames())
	return b.String()
}

// span writes a duration in days, hours and minutes: 2h10m, 3d4h.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 && days == 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if b.Len() == 0 {
		return "0m"
	}
	return b.String()
}

// Percent writes a rate of 0 to 1 as a percentage with one decimal.
func Percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// QueryNames lists the queries the figures come from.
func (r *Report) QueryNames() string {
	seen := map[string]bool{}
	var out []string
	for _, s := range r.Sources {
		if !seen[s.Query] {
			seen[s.Query] = true
			out = append(out, s.Query)
		}
	}
	return strings.Join(out, ", ")
}

// csvs are the report's tables, each as its query's columns.
func (r *Report) csvs() map[string][]byte {
	out := map[string][]byte{}
	write := func(name string, header []string, rows [][]string) {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(header)
		for _, row := range rows {
			for i, c := range row {
				row[i] = csvSafe(c)
			}
			w.Write(row)
		}
		w.Flush()
		out[name] = b.Bytes()
	}
	i := strconv.FormatInt
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	scope := r.ScopeText()
	write("summary.csv", []string{"period", "since", "until", "mentions", "posts", "positive", "neutral", "negative", "net_sentiment", "scope"}, [][]string{
		{"this", ts(r.Since), ts(r.Until), i(r.This.Mentions, 10), i(r.This.Posts, 10), i(r.This.Positive, 10), i(r.This.Neutral, 10), i(r.This.Negative, 10), f(r.This.Net), scope},
		{"previous", ts(r.Previous), ts(r.Since), i(r.Prev.Mentions, 10), i(r.Prev.Posts, 10), i(r.Prev.Positive, 10), i(r.Prev.Neutral, 10), i(r.Prev.Negative, 10), f(r.Prev.Net), scope},
	})
	if r.Has(SectionVolume) {
		var rows [][]string
		for _, set := range []struct {
			name string
			bs   []Bucket
		}{{"this", r.Volume}, {"previous", r.PrevVolume}} {
			for _, b := range set.bs {
				rows = append(rows, []string{set.name, ts(b.Start), i(b.Mentions, 10), i(b.Positive, 10), i(b.Neutral, 10), i(b.Negative, 10)})
			}
		}
		write("volume.csv", []string{"period", "bucket_start", "mentions", "positive", "neutral", "negative"}, rows)
	}
	terms := func(name string, tt []Term) {
		var rows [][]string
		for _, t := range tt {
			rows = append(rows, []string{t.Term, i(t.This, 10), i(t.Previous, 10), i(t.Change, 10)})
		}
		write(name, []string{"term", "this_period", "previous_period", "change"}, rows)
	}
	if r.Has(SectionTerms) {
		terms("terms.csv", r.Terms)
		terms("emerging_terms.csv", r.Emerging)
	}
	if r.Has(SectionSpikes) {
		var rows [][]string
		for _, s := range r.Spikes {
			rows = append(rows, []string{s.Watchlist, ts(s.Hour), i(s.Mentions, 10), f(s.Baseline), f(s.Ratio), s.Why})
		}
		write("spikes.csv", []string{"watchlist", "hour", "mentions_in_hour", "baseline", "ratio", "why"}, rows)
	}
	if r.Has(SectionPosts) {
		var rows [][]string
		for _, p := range r.Posts {
			rows = append(rows, []string{p.Key, p.Platform, p.Author, ts(p.Created), f(p.Influence), i(p.Engagement, 10), p.Sentiment, p.Excerpt})
		}
		write("posts.csv", []string{"post_key", "platform", "author_handle", "created_at", "influence", "engagement", "sentiment_label", "excerpt"}, rows)
	}
	if r.Has(SectionAlerts) {
		var rows [][]string
		for _, a := range r.Alerts {
			rows = append(rows, []string{a.Queue, i(a.Alerts, 10), i(a.Spikes, 10), i(a.WithSLA, 10), i(a.Met, 10), i(a.Breached, 10), i(a.Pending, 10), f(a.Compliance)})
		}
		write("alerts.csv", []string{"queue", "alerts", "spikes", "with_sla", "met", "breached", "pending", "compliance"}, rows)
	}
	return out
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet
// (OWASP's CSV injection advice): text starting with = + - @ or a control
// character gets a leading apostrophe. Numbers are left alone.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
