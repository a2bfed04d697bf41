// Package digest renders and delivers stakeholder digests: named, scoped
// summaries of the cookbook's figures (volume and sentiment against the
// previous period, top and emerging terms, spikes and their why, the most
// influential posts, alerts and SLA) on a schedule in the audience's time
// zone, as an HTML email with inline charts, a text part, a PDF and CSV
// files of the tables (docs/digests.md).
package digest

import (
	"errors"
	"fmt"
	"math/bits"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/earshot-dev/earshot/internal/mailaddr"
)

// Sections, in the order a digest shows them.
const (
	SectionVolume = "volume" // mentions and sentiment over time, against the previous period
	SectionTerms  = "terms"  // top and emerging terms
	SectionThemes = "themes" // themes (a slot: see Themes)
	SectionSpikes = "spikes" // spikes with their why
	SectionPosts  = "posts"  // most influential posts
	SectionAlerts = "alerts" // alerts and SLA
)

// AllSections lists every section in the order a digest shows them.
var AllSections = []string{SectionVolume, SectionTerms, SectionThemes, SectionSpikes, SectionPosts, SectionAlerts}

// Bounds of a digest's configuration.
const (
	MaxDigests    = 200
	MaxRecipients = 100
	MaxScopeNames = 100
	MaxPeriod     = 366 * 24 * time.Hour
	MinPeriod     = time.Hour
)

// Digest is one named digest (an entry of `digests:` in the config).
type Digest struct {
	Name     string   `yaml:"name"`     // "legal weekly"; its slug (legal-weekly) names files and URLs
	Audience Audience `yaml:"audience"` // who gets it
	Scope    Scope    `yaml:"scope"`    // what it covers
	Schedule string   `yaml:"schedule"` // cron (5 fields or @daily, @weekly…), in the audience's time zone
	// Period overrides the window a digest covers; by default the time
	// since the schedule's previous run (a weekly digest covers a week,
	// Monday's digest of a weekday schedule the weekend too).
	Period   time.Duration `yaml:"period"`
	Sections []string      `yaml:"sections"` // default all
	Top      int           `yaml:"top"`      // rows per table (terms, spikes, posts); default 10, at most 100
}

// Audience is who receives a digest: email addresses (sent through a
// notify channel of kind email, whose SMTP server and sender it uses)
// and/or notify channels of kind slack or teams (a summary and a link).
type Audience struct {
	Emails       []string `yaml:"emails"`
	EmailChannel string   `yaml:"email_channel"` // default: the only email channel of notify.channels
	Channels     []string `yaml:"channels"`
	Timezone     string   `yaml:"timezone"` // IANA, e.g. Europe/Athens; default UTC
}

// Scope is what a digest covers: posts matching all the filters given
// (each a list: any of its names). An empty filter does not filter.
//
// Its JSON names (meta.json, GET /v1/digests) are the config's; a meta.json
// written before they were given has Go's ("Watchlists"), which still read:
// encoding/json matches keys without regard to case.
type Scope struct {
	Watchlists []string `yaml:"watchlists" json:"watchlists"`
	Teams      []string `yaml:"teams" json:"teams"`     // teams of the org file, as the watchlists name them
	Regions    []string `yaml:"regions" json:"regions"` // of the posts
	Markets    []string `yaml:"markets" json:"markets"` // of the posts (and alerts): the org file's markets, as it spells them
	Intents    []string `yaml:"intents" json:"intents"` // complaint, feedback (product feedback), question…
}

// Known is what a digest's names are checked against.
type Known struct {
	Teams    []string          // the org file's teams and the watchlists'; nil: none known, so none may be named
	Regions  []string          // the enrichment's regions
	Markets  []string          // the org file's markets; nil: none defined, so none may be named
	Intents  []string          // the intents the enricher tags
	Channels map[string]string // notify channel name → kind
}

var (
	scopeName = regexp.MustCompile(`^[^,\x00-\x1f\x7f]{1,200}$`)
	slugChars = regexp.MustCompile(`[^a-z0-9]+`)
)

// plainText reports whether s reads as it is written on one line: valid
// UTF-8 without control characters (line breaks), line or paragraph
// separators, or format characters (bidi overrides, zero-width joiners),
// which would break a subject or list line or make one name look like
// another in `digest list`, the page and chat summaries.
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

// Slug is the digest's name in file names and URLs: lower case letters,
// digits and '-'.
func Slug(name string) string {
	return strings.Trim(slugChars.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate reports every problem of the digests at once, each under
// digests[i] with the digest's name.
func Validate(ds []Digest, k Known) error {
	var errs []error
	if len(ds) > MaxDigests {
		errs = append(errs, fmt.Errorf("digests: %d, at most %d", len(ds), MaxDigests))
	}
	slugs := map[string]string{}
	for i, d := range ds {
		key := fmt.Sprintf("digests[%d] (%q)", i, d.Name)
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf(key+": "+format, args...))
		}
		if d.Name == "" || len(d.Name) > 100 || Slug(d.Name) == "" {
			bad("name: want 1 to 100 characters with an ASCII letter or digit (it names files and URLs)")
		} else if !plainText(d.Name) {
			bad("name: %q: no control, line-breaking, invisible or bidi characters (it is shown in subjects and lists)", d.Name)
		} else if prev, ok := slugs[Slug(d.Name)]; ok {
			bad("name: the same file name (%s) as %q", Slug(d.Name), prev)
		} else {
			slugs[Slug(d.Name)] = d.Name
		}
		loc, err := d.Location()
		if err != nil {
			bad("audience.timezone: %v", err)
		}
		if _, err := parser.Parse(d.Schedule); err != nil {
			bad("schedule: %q: %v (want 5 cron fields, like \"0 8 * * MON\", or @daily, @weekly…; no seconds, no TZ= prefix: the time zone is the audience's)", d.Schedule, err)
		} else if strings.HasPrefix(strings.TrimSpace(d.Schedule), "@every") {
			bad("schedule: %q: @every has no fixed times to count periods from: use 5 cron fields (\"0 */2 * * *\")", d.Schedule)
		} else if strings.Contains(d.Schedule, "TZ=") {
			bad("schedule: %q: no TZ= prefix: the time zone is audience.timezone", d.Schedule)
		} else if loc != nil {
			runs := d
			runs.Period = 0 // the time between runs
			if since, until, err := runs.Window(time.Date(2027, 1, 4, 0, 0, 0, 0, loc)); err != nil {
				bad("schedule: %v", err)
			} else if n := perHour(d.Schedule); n > 1 {
				bad("schedule: %q runs %d times in an hour: digests run at most hourly", d.Schedule, n)
			} else if until.Sub(since) < MinPeriod {
				bad("schedule: %q runs every %v: digests run at most hourly", d.Schedule, until.Sub(since))
			}
		}
		if d.Period != 0 && (d.Period < MinPeriod || d.Period > MaxPeriod) {
			bad("period: %v, want %v to %v", d.Period, MinPeriod, MaxPeriod)
		}
		if d.Top < 0 || d.Top > 100 {
			bad("top: %d, want 1 to 100 (0: 10)", d.Top)
		}
		seen := map[string]bool{}
		for _, s := range d.Sections {
			if !slices.Contains(AllSections, s) {
				bad("sections: unknown section %q, want some of %s", s, strings.Join(AllSections, ", "))
			}
			if seen[s] {
				bad("sections: %q twice", s)
			}
			seen[s] = true
		}
		errs = append(errs, d.Audience.validate(key, k), d.Scope.validate(key, k))
	}
	return errors.Join(errs...)
}

func (a Audience) validate(key string, k Known) error {
	var errs []error
	if len(a.Emails) == 0 && len(a.Channels) == 0 {
		errs = append(errs, fmt.Errorf("%s: audience: empty: give emails or channels", key))
	}
	if len(a.Emails) > MaxRecipients {
		errs = append(errs, fmt.Errorf("%s: audience.emails: %d, at most %d", key, len(a.Emails), MaxRecipients))
	}
	for _, e := range a.Emails {
		if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e {
			errs = append(errs, fmt.Errorf("%s: audience.emails: %q is not a bare email address", key, e))
		}
	}
	for _, err := range mailaddr.Check(a.Emails) {
		errs = append(errs, fmt.Errorf("%s: audience.emails: %w", key, err))
	}
	if len(a.Emails) > 0 {
		if _, err := a.emailChannel(k.Channels); err != nil {
			errs = append(errs, fmt.Errorf("%s: audience.email_channel: %w", key, err))
		}
	}
	for _, c := range a.Channels {
		switch kind, ok := k.Channels[c]; {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: audience.channels: %q is not a channel of notify.channels", key, c))
		case kind != "slack" && kind != "teams":
			errs = append(errs, fmt.Errorf("%s: audience.channels: %q is a %s channel, want slack or teams (email addresses go in audience.emails)", key, c, kind))
		}
	}
	return errors.Join(errs...)
}

// emailChannel is the notify channel that sends to the audience's
// addresses: the one named, or the only email channel.
func (a Audience) emailChannel(channels map[string]string) (string, error) {
	if a.EmailChannel != "" {
		if kind, ok := channels[a.EmailChannel]; !ok || kind != "email" {
			return "", fmt.Errorf("%q is not an email channel of notify.channels", a.EmailChannel)
		}
		return a.EmailChannel, nil
	}
	var emails []string
	for name, kind := range channels {
		if kind == "email" {
			emails = append(emails, name)
		}
	}
	if len(emails) != 1 {
		slices.Sort(emails)
		return "", fmt.Errorf("not set, and notify.channels has %d email channels (%s): name the one that sends", len(emails), strings.Join(emails, ", "))
	}
	return emails[0], nil
}

func (s Scope) validate(key string, k Known) error {
	var errs []error
	check := func(field string, names, known []string, what string) {
		if len(names) > MaxScopeNames {
			errs = append(errs, fmt.Errorf("%s: scope.%s: %d names, at most %d", key, field, len(names), MaxScopeNames))
		}
		for _, n := range names {
			if !scopeName.MatchString(n) || !plainText(n) {
				errs = append(errs, fmt.Errorf("%s: scope.%s: %q: want 1 to 200 characters, no commas, control, invisible or bidi characters", key, field, n))
				continue
			}
			if known != nil && !slices.Contains(known, n) {
				errs = append(errs, fmt.Errorf("%s: scope.%s: unknown %s %q (known: %s)", key, field, what, n, strings.Join(known, ", ")))
			}
		}
	}
	check("watchlists", s.Watchlists, nil, "watchlist")
	if len(s.Teams) > 0 && k.Teams == nil {
		errs = append(errs, fmt.Errorf("%s: scope.teams: names teams, but neither an org file (route.org) nor the watchlists name any", key))
	} else {
		check("teams", s.Teams, k.Teams, "team")
	}
	check("regions", s.Regions, k.Regions, "region")
	if len(s.Markets) > 0 && k.Markets == nil {
		errs = append(errs, fmt.Errorf("%s: scope.markets: names markets, but the org file (route.org) defines none", key))
	} else {
		check("markets", s.Markets, k.Markets, "market")
	}
	check("intents", s.Intents, k.Intents, "intent")
	return errors.Join(errs...)
}

// Location is the audience's time zone.
func (d Digest) Location() (*time.Location, error) {
	if d.Audience.Timezone == "" {
		return time.UTC, nil
	}
	if strings.EqualFold(d.Audience.Timezone, "local") {
		return nil, errors.New(`"Local" depends on the machine: name the zone (e.g. Europe/Athens)`)
	}
	return time.LoadLocation(d.Audience.Timezone)
}

// SectionList is the digest's sections in showing order (all by default).
func (d Digest) SectionList() []string {
	if len(d.Sections) == 0 {
		return slices.Clone(AllSections)
	}
	var out []string
	for _, s := range AllSections {
		if slices.Contains(d.Sections, s) {
			out = append(out, s)
		}
	}
	return out
}

// TopN is the rows per table.
func (d Digest) TopN() int {
	if d.Top == 0 {
		return 10
	}
	return d.Top
}

// Window returns the period of the digest due at or last before at: its
// end is the schedule's latest run at or before at, in the audience's
// zone; its start the run before (or end minus Period).
func (d Digest) Window(at time.Time) (since, until time.Time, err error) {
	loc, err := d.Location()
	if err != nil {
		return since, until, err
	}
	sched, err := schedule(d.Schedule, loc)
	if err != nil {
		return since, until, err
	}
	at = at.In(loc)
	until, ok := prev(sched, at.Add(time.Second)) // a run exactly at `at` counts
	if !ok {
		return since, until, fmt.Errorf("%q does not run in the year before %s", d.Schedule, at.Format(time.RFC3339))
	}
	if d.Period != 0 {
		return until.Add(-d.Period), until, nil
	}
	since, ok = prev(sched, until)
	if !ok {
		return since, until, fmt.Errorf("%q runs less than once a year", d.Schedule)
	}
	return since, until, nil
}

// perHour is how many times an hour a schedule can run: the minutes its
// cron names ("0-59 0 * * *" runs 60 times in its hour, as many digests as
// one every minute, however long its other gaps are); 1 for a
// descriptor's or an @every schedule's.
func perHour(schedule string) int {
	s, err := parser.Parse(schedule)
	if spec, ok := s.(*cron.SpecSchedule); ok && err == nil {
		return bits.OnesCount64(spec.Minute &^ (1 << 63)) // bit 63 marks a *
	}
	return 1
}

// prev returns the schedule's last run strictly before t, looking back at
// most MaxPeriod: cron only goes forward, so it steps forward from ever
// wider windows back.
func prev(s cron.Schedule, t time.Time) (time.Time, bool) {
	for _, back := range []time.Duration{time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, MaxPeriod + 24*time.Hour} {
		var last time.Time
		for n, i := s.Next(t.Add(-back)), 0; !n.IsZero() && n.Before(t) && i < 200_000; n, i = s.Next(n), i+1 {
			last = n
		}
		if !last.IsZero() {
			return last, true
		}
	}
	return time.Time{}, false
}

// Next is the digest's next run after t.
func (d Digest) Next(t time.Time) (time.Time, error) {
	loc, err := d.Location()
	if err != nil {
		return time.Time{}, err
	}
	s, err := schedule(d.Schedule, loc)
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(t.In(loc)), nil
}
