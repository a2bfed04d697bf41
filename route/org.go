package route

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/earshot-dev/earshot/internal/wallclock"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Org is the organisation that answers alerts (org.yaml): regions with
// their time zones, business hours and holidays; teams; queues with the
// team that works them, SLAs and a follow-the-sun hand-off chain.
type Org struct {
	Regions   map[string]*Region `yaml:"regions"`
	Teams     []*Team            `yaml:"teams"`
	Queues    []*Queue           `yaml:"queues"`
	Overrides []*Override        `yaml:"overrides"`
	Accounts  []Account          `yaml:"accounts"` // the organisation's own accounts, for to:@owned in rules
	Markets   []*Market          `yaml:"markets"`  // local markets under the regions (market.go)

	file       string
	loadedAt   time.Time         // the coverage check looks at the year from this day
	regionMap  map[string]string // country → region (enrich.regions), for the markets' check; nil is the defaults
	teams      map[string]*Team
	queues     map[string]*Queue
	teamMarket map[string]string // team → the market it serves
}

// Region is where a team works: its clock and calendar.
type Region struct {
	Timezone string            `yaml:"timezone"` // IANA name, e.g. Europe/Athens
	Hours    map[string]string `yaml:"hours"`    // "mon-fri": "08:00-18:00", "sat": "10:00-14:00"; a day not listed is closed
	Holidays []string          `yaml:"holidays"` // YYYY-MM-DD, local dates with no business hours

	loc      *time.Location
	week     [7][]span // by time.Weekday, minutes after local midnight
	holidays map[string]bool
}

type span struct{ from, to int }

// Team is a group of people who work queues.
type Team struct {
	Name            string   `yaml:"name"`
	Region          string   `yaml:"region"`
	Always          bool     `yaml:"always_on"`         // staffed around the clock (an on-call rota), whatever the region's hours
	CapacityPerHour int      `yaml:"capacity_per_hour"` // alerts the team answers in an hour, for `earshot route simulate`; 0 is unlimited
	Members         []Member `yaml:"members"`
}

// Member is a person in a team.
type Member struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"` // coach, gatherer, responder, analyst, stakeholder
}

// Account is one of the organisation's own accounts: the rule language's
// to:@owned holds for posts addressed to any of them (see docs/rules.md).
type Account struct {
	Platform string `yaml:"platform"` // x, bluesky, mastodon…
	Handle   string `yaml:"handle"`   // as on the platform; a leading @ is dropped
	Brand    string `yaml:"brand"`
	Region   string `yaml:"region"` // a region of this file or a default one (EMEA, APAC, LATAM, NA)
}

// Override puts a queue in another team's hands for a while, around the
// clock: holidays, offsites, incidents.
type Override struct {
	Queue  string    `yaml:"queue"`
	Team   string    `yaml:"team"`
	From   time.Time `yaml:"from"` // RFC 3339
	To     time.Time `yaml:"to"`
	Reason string    `yaml:"reason"`
}

// Queue is a responder queue: one Kafka topic of alerts.
type Queue struct {
	Name     string                   `yaml:"name"`
	Team     string                   `yaml:"team"`
	Handoff  []string                 `yaml:"handoff"`   // queues to try, in order, while this one's team is off duty
	SLA      map[string]time.Duration `yaml:"sla"`       // first-response time per priority, e.g. P1: 15m
	Resolve  map[string]time.Duration `yaml:"resolve"`   // resolve time per priority (from the alert to its resolve on the desk), e.g. P1: 4h
	SLAClock string                   `yaml:"sla_clock"` // business (counts only the team's hours) or calendar (the default)
}

var (
	hoursPattern = regexp.MustCompile(`^(\d\d):(\d\d)-(\d\d):(\d\d)$`)
	days         = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
	roles        = []string{"coach", "gatherer", "responder", "analyst", "stakeholder"}
)

// LoadOrg reads and checks an org file.
func LoadOrg(path string) (*Org, error) { return LoadOrgIn(path, nil) }

// LoadOrgIn is LoadOrg with the country → region map of enrich.regions
// (region.Map), which a market's countries must agree with; nil is the
// default map.
func LoadOrgIn(path string, regions map[string]string) (*Org, error) {
	return loadOrgAt(path, time.Now(), regions)
}

// handlePattern is the shape of an account handle: X and Mastodon user
// names, Bluesky domain handles, Mastodon's user@instance.
var handlePattern = regexp.MustCompile(`^[\pL\pN_][\pL\pN_.@-]{0,252}$`)

// initAccounts checks the owned accounts and drops a leading @ from their
// handles.
func (o *Org) initAccounts(bad func(string, ...any)) {
	seen := map[string]bool{}
	if len(o.Markets) > MaxMarkets {
		return // refused by initMarkets, with one message
	}
	o.checkAccounts("accounts", o.Accounts, seen, bad)
	for i, m := range o.Markets {
		if m != nil {
			o.checkAccounts(fmt.Sprintf("markets[%d].accounts", i), m.Accounts, seen, bad)
		}
	}
}

// checkAccounts checks the accounts of one list, named where; seen holds
// the accounts of the lists checked before.
func (o *Org) checkAccounts(where string, accounts []Account, seen map[string]bool, bad func(string, ...any)) {
	if len(accounts) == 0 {
		return
	}
	defaults := region.Names(region.Map(nil))
	for i := range accounts {
		a := &accounts[i]
		a.Handle = strings.TrimPrefix(strings.TrimSpace(a.Handle), "@")
		if !slices.Contains(post.Platforms, strings.ToLower(a.Platform)) {
			bad("%s[%d]: platform %q, want one of %v", where, i, a.Platform, post.Platforms)
		}
		a.Platform = strings.ToLower(a.Platform)
		if !handlePattern.MatchString(a.Handle) {
			bad("%s[%d]: handle %q: want the account's handle, such as acme or acme.bsky.social", where, i, a.Handle)
		}
		if a.Region != "" {
			if _, ok := o.Regions[a.Region]; !ok && !slices.Contains(defaults, a.Region) {
				bad("%s[%d]: region %q is neither a region of this file nor one of %v", where, i, a.Region, defaults)
			}
		}
		k := a.Platform + " account " + fmt.Sprintf("%q", strings.ToLower(a.Handle))
		if seen[k] && a.Handle != "" {
			bad("%s[%d]: %s is listed twice", where, i, k)
		}
		seen[k] = true
	}
}

// loadOrgAt is LoadOrg as of now, the start of the year of coverage checked.
func loadOrgAt(path string, now time.Time, regions ...map[string]string) (*Org, error) {
	o := &Org{file: path, loadedAt: now}
	if len(regions) > 0 {
		o.regionMap = regions[0]
	}
	if err := strictyaml.File(path, o); err != nil {
		return nil, fmt.Errorf("route.org: %w", err)
	}
	if err := o.init(); err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, err)
	}
	return o, nil
}

// init checks the org and prepares its lookups; every problem is reported.
func (o *Org) init() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", o.file, fmt.Sprintf(format, args...)))
	}
	o.dropEmpty(bad)
	o.initAccounts(bad)
	for name, r := range o.Regions {
		loc, err := wallclock.Zone(r.Timezone)
		if err != nil || r.Timezone == "" {
			bad("regions.%s.timezone: %q is not an IANA time zone such as Europe/Athens", name, r.Timezone)
			loc = time.UTC
		}
		r.loc, r.holidays = loc, map[string]bool{}
		for days, hours := range r.Hours {
			ds, err := parseDays(days)
			if err != nil {
				bad("regions.%s.hours: %v", name, err)
				continue
			}
			sp, err := parseHours(hours)
			if err != nil {
				bad("regions.%s.hours.%s: %v", name, days, err)
				continue
			}
			for _, d := range ds {
				r.week[d] = append(r.week[d], sp)
				slices.SortFunc(r.week[d], func(a, b span) int { return a.from - b.from })
			}
		}
		for _, h := range r.Holidays {
			if _, err := time.Parse("2006-01-02", h); err != nil {
				bad("regions.%s.holidays: %q is not a date (YYYY-MM-DD)", name, h)
			}
			r.holidays[h] = true
		}
	}
	o.teams, o.queues = map[string]*Team{}, map[string]*Queue{}
	for _, t := range o.Teams {
		if o.teams[t.Name] != nil {
			bad("teams: %q is defined twice", t.Name)
		}
		o.teams[t.Name] = t
		if o.Regions[t.Region] == nil && !t.Always {
			bad("teams.%s.region: %q is not among the regions (or set always_on)", t.Name, t.Region)
		}
		for _, m := range t.Members {
			if !slices.Contains(roles, m.Role) {
				bad("teams.%s: member %s has role %q, want one of %v", t.Name, m.Name, m.Role, roles)
			}
		}
	}
	o.initMarkets(o.regionMap, bad)
	for _, q := range o.Queues {
		if o.queues[q.Name] != nil {
			bad("queues: %q is defined twice", q.Name)
		}
		o.queues[q.Name] = q
		if o.teams[q.Team] == nil {
			bad("queues.%s.team: %q is not among the teams", q.Name, q.Team)
		}
		if q.SLAClock != "" && q.SLAClock != "business" && q.SLAClock != "calendar" {
			bad("queues.%s.sla_clock: %q, want business or calendar", q.Name, q.SLAClock)
		}
		if t := o.teams[q.Team]; q.SLAClock == "business" && t != nil && !t.Always && !o.Regions[t.Region].hasHours() {
			// Its deadlines would never come: they were left out.
			bad("queues.%s.sla_clock: business, but region %s of team %s has no hours", q.Name, t.Region, t.Name)
		}
		for p, d := range q.SLA {
			if !slices.Contains(priorities, p) || d <= 0 || d > maxResolve {
				bad("queues.%s.sla: %s: %v, want a priority P1–P4 and a duration from 1s to %v", q.Name, p, d, maxResolve)
			}
		}
		for p, d := range q.Resolve {
			if !slices.Contains(priorities, p) || d <= 0 || d > maxResolve {
				bad("queues.%s.resolve: %s: %v, want a priority P1–P4 and a duration from 1s to %v", q.Name, p, d, maxResolve)
			}
		}
	}
	for _, q := range o.Queues {
		for _, h := range q.Handoff {
			if o.queues[h] == nil {
				bad("queues.%s.handoff: %q is not among the queues", q.Name, h)
			}
		}
	}
	for i, ov := range o.Overrides {
		if o.queues[ov.Queue] == nil {
			bad("overrides[%d].queue: %q is not among the queues", i, ov.Queue)
		}
		if o.teams[ov.Team] == nil {
			bad("overrides[%d].team: %q is not among the teams", i, ov.Team)
		}
		if ov.From.IsZero() || !ov.To.After(ov.From) {
			bad("overrides[%d]: from and to are times (RFC 3339), to after from", i)
		}
	}
	if len(errs) == 0 {
		errs = append(errs, o.coverage()...)
		errs = append(errs, o.reach()...)
	}
	return errors.Join(errs...)
}

// reach reports each business-clock target (sla, resolve) that the
// deadline search cannot reach from the day the org is loaded: such an
// alert would get no deadline, never breach, and cost the search in full.
func (o *Org) reach() []error {
	var errs []error
	for _, q := range o.Queues {
		if q.SLAClock != "business" || o.teams[q.Team].Always {
			continue
		}
		for _, target := range []struct {
			key string
			m   map[string]time.Duration
		}{{"sla", q.SLA}, {"resolve", q.Resolve}} {
			for _, p := range slices.Sorted(maps.Keys(target.m)) {
				if o.DueAfter(q.Name, target.m[p], o.loadedAt).IsZero() {
					errs = append(errs, fmt.Errorf("%s: queues.%s.%s: %s: %v of business time is not reached within %d spans of the team's hours: an alert would have no deadline; shorten it or widen the hours", o.file, q.Name, target.key, p, target.m[p], maxSpans))
				}
			}
		}
	}
	return errs
}

// dropEmpty reports and drops the empty items YAML decodes as nil
// ("teams:\n  -", "regions: {EMEA: }"), which the checks would dereference.
func (o *Org) dropEmpty(bad func(string, ...any)) {
	for name, r := range o.Regions {
		if r == nil {
			bad("regions.%s: empty; want a timezone and hours", name)
			delete(o.Regions, name)
		}
	}
	o.Teams = dropNil(o.Teams, "teams", "a team (name, region, members)", bad)
	o.Queues = dropNil(o.Queues, "queues", "a queue (name, team, sla)", bad)
	o.Overrides = dropNil(o.Overrides, "overrides", "queue, team, from and to", bad)
}

// dropNil reports each nil item of list, named what, and returns the others.
func dropNil[T any](list []*T, what, want string, bad func(string, ...any)) []*T {
	out := list[:0:0]
	for i, v := range list {
		if v == nil {
			bad("%s[%d]: an empty item; want %s", what, i, want)
			continue
		}
		out = append(out, v)
	}
	return out
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		from, to, isRange := strings.Cut(part, "-")
		a, ok := days[from]
		if !ok {
			return nil, fmt.Errorf("%q is not a day (mon, tue, …) or a range of days (mon-fri)", part)
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, ok := days[to]
		if !ok {
			return nil, fmt.Errorf("%q is not a range of days (mon-fri)", part)
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func parseHours(s string) (span, error) {
	m := hoursPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return span{}, fmt.Errorf("%q: write hours as HH:MM-HH:MM", s)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v } // the pattern admits only digits
	sp := span{from: n(1)*60 + n(2), to: n(3)*60 + n(4)}
	if n(1) > 23 || n(2) > 59 || n(3) > 24 || n(4) > 59 || sp.to > 24*60 || sp.to <= sp.from {
		return span{}, fmt.Errorf("%q: the end must come after the start, within one day (00:00-24:00)", s)
	}
	return sp, nil
}

// hasHours reports whether the region has business hours on some day.
func (r *Region) hasHours() bool {
	return r != nil && slices.ContainsFunc(r.week[:], func(spans []span) bool { return len(spans) > 0 })
}

// open reports whether the region is in business hours at t. A span runs
// from the first instant its start shows on the local clock to the first
// its end does (see wallTime), as DueAfter counts it.
func (r *Region) open(t time.Time) bool {
	l := t.In(r.loc)
	if r.holidays[l.Format("2006-01-02")] {
		return false
	}
	y, m, d := l.Date()
	for _, sp := range r.week[l.Weekday()] {
		if !t.Before(wallTime(y, m, d, sp.from, r.loc)) && t.Before(wallTime(y, m, d, sp.to, r.loc)) {
			return true
		}
	}
	return false
}

// wallTime is the first instant at which the clock in loc shows minute
// (0 to 1440) of the local date y-m-d (wallclock.At: a skipped time is the
// switch's instant, a time shown twice its first occurrence).
func wallTime(y int, m time.Month, d, minute int, loc *time.Location) time.Time {
	return wallclock.At(y, m, d, minute, loc)
}

// OnDuty reports whether team works at t.
func (o *Org) OnDuty(team string, t time.Time) bool {
	tm := o.teams[team]
	if tm == nil {
		return false
	}
	return tm.Always || o.Regions[tm.Region].open(t)
}

// Handle returns the queue that handles an alert for queue q at t: q itself
// while its team is on duty, else the first queue of its hand-off chain
// whose team is. When nobody is on duty the alert stays on q (and waits).
func (o *Org) Handle(q string, t time.Time) (string, bool) {
	queue := o.queues[q]
	if queue == nil {
		return q, false
	}
	if o.override(q, t) != nil || o.OnDuty(queue.Team, t) {
		return q, true
	}
	for _, h := range queue.Handoff {
		if o.override(h, t) != nil || o.OnDuty(o.queues[h].Team, t) {
			return h, true
		}
	}
	return q, false
}

// override returns the override in force for queue q at t, if any; the
// last one listed wins.
func (o *Org) override(q string, t time.Time) *Override {
	var found *Override
	for _, ov := range o.Overrides {
		if ov.Queue == q && !t.Before(ov.From) && t.Before(ov.To) {
			found = ov
		}
	}
	return found
}

// Worker returns the team at work on queue q at t: an override's, or the
// queue's own while it is on duty; "" when nobody is.
func (o *Org) Worker(q string, t time.Time) string {
	if ov := o.override(q, t); ov != nil {
		return ov.Team
	}
	if queue := o.queues[q]; queue != nil && o.OnDuty(queue.Team, t) {
		return queue.Team
	}
	return ""
}

// Team returns the team working queue q at t.
func (o *Org) Team(q string, t time.Time) string {
	if ov := o.override(q, t); ov != nil {
		return ov.Team
	}
	if queue := o.queues[q]; queue != nil {
		return queue.Team
	}
	return ""
}

// maxResolve bounds a queue's resolve target and any first-response SLA:
// a year of business time already takes the deadline search to its end,
// and a century's calendar time put a deadline past what a ClickHouse
// DateTime holds (2106), so the sink dead-lettered the alert.
const maxResolve = 90 * 24 * time.Hour

// ResolveDue returns when an alert with priority raised at t on queue q
// should be resolved (the queue's resolve target, on its SLA clock), or the
// zero time if the queue has none for it.
func (o *Org) ResolveDue(q, priority string, t time.Time) time.Time {
	queue := o.queues[q]
	if queue == nil || queue.Resolve[priority] == 0 {
		return time.Time{}
	}
	return o.DueAfter(q, queue.Resolve[priority], t).UTC()
}

// ResolveTargets returns the queues' resolve targets (queue → priority →
// target): in calendar time, the least a target on the business clock
// takes.
func (o *Org) ResolveTargets() map[string]map[string]time.Duration {
	out := map[string]map[string]time.Duration{}
	for name, q := range o.queues {
		if len(q.Resolve) > 0 {
			out[name] = maps.Clone(q.Resolve)
		}
	}
	return out
}

// Due returns the SLA deadline of an alert with priority raised at t on
// queue q, or the zero time if the queue has no SLA for it. On the business
// clock only the hours the queue's team works count.
func (o *Org) Due(q, priority string, t time.Time) time.Time {
	queue := o.queues[q]
	if queue == nil || queue.SLA[priority] == 0 {
		return time.Time{}
	}
	return o.DueAfter(q, queue.SLA[priority], t)
}

// maxSpans bounds the spans of hours DueAfter spends a target in: its
// cost per alert. A target that needs more is refused at load (reach).
const maxSpans = 10_000

// DueAfter is the deadline d after t on queue q's clock (business or
// calendar time).
func (o *Org) DueAfter(q string, d time.Duration, t time.Time) time.Time {
	queue := o.queues[q]
	if queue == nil || queue.SLAClock != "business" || o.teams[queue.Team].Always {
		return t.Add(d)
	}
	// Spend d in the intervals the queue is worked: its team's hours, and
	// overrides, which are on call around the clock.
	cur := t
	for range maxSpans {
		from, to, ok := o.nextWorked(queue, cur)
		if !ok {
			break
		}
		if cur.Before(from) {
			cur = from
		}
		if avail := to.Sub(cur); d <= avail {
			return cur.Add(d).UTC() // in UTC like every time on the wire
		}
		d -= to.Sub(cur)
		cur = to
	}
	return time.Time{} // no business hours within a year
}

// nextWorked is the first interval, ending after cur, in which queue is
// worked on its business clock: in its team's hours or under an override.
func (o *Org) nextWorked(queue *Queue, cur time.Time) (from, to time.Time, ok bool) {
	if ov := o.override(queue.Name, cur); ov != nil {
		return cur, ov.To, true
	}
	from, to, ok = o.Regions[o.teams[queue.Team].Region].nextSpan(cur)
	var next *Override // the first override to start after cur
	for _, ov := range o.Overrides {
		if ov.Queue == queue.Name && ov.From.After(cur) && (next == nil || ov.From.Before(next.From)) {
			next = ov
		}
	}
	switch {
	case next == nil || ok && !next.From.Before(to):
		return from, to, ok
	case !ok || !next.From.After(from):
		return next.From, next.To, true
	default: // the override starts during the span: the span up to it
		return from, next.From, true
	}
}

// nextSpan is the first span of business hours ending after cur, within a
// year; local dates and times keep DST changes right.
func (r *Region) nextSpan(cur time.Time) (from, to time.Time, ok bool) {
	day := cur
	for range 400 {
		l := day.In(r.loc)
		y, m, d := l.Date()
		if !r.holidays[l.Format("2006-01-02")] {
			for _, sp := range r.week[l.Weekday()] {
				if to := wallTime(y, m, d, sp.to, r.loc); cur.Before(to) {
					return wallTime(y, m, d, sp.from, r.loc), to, true
				}
			}
		}
		day = wallTime(y, m, d+1, 0, r.loc)
	}
	return time.Time{}, time.Time{}, false
}

// coverage finds the times of the year from the day the org is loaded when
// a queue and its whole hand-off chain are off duty (so the holidays and
// overrides ahead count), and reports each queue's first gap. Who is on duty
// changes only where a span of hours starts or ends, at local midnight
// (weekdays, holidays) and at an override's bounds, so looking just at
// those instants finds every gap, however short, including those of the
// weeks when two regions' DST rules disagree (March, October, November).
func (o *Org) coverage() []error {
	y, m, d := o.loadedAt.UTC().Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	var errs []error
	for _, q := range o.Queues {
		// only the hours of the queue's hand-off chain count for it: with
		// every region's, 200 regions took seconds of work per queue
		changes := o.changes(from, to, append([]string{q.Name}, q.Handoff...))
		var off time.Duration
		var first time.Time
		for i, t := range changes[:len(changes)-1] {
			if _, ok := o.Handle(q.Name, t); !ok {
				if off == 0 {
					first = t
				}
				off += changes[i+1].Sub(t)
			}
		}
		if off > 0 {
			errs = append(errs, fmt.Errorf("%s: queues.%s: no team on duty for %v of the year from %s (first: %s UTC): add a hand-off queue or an always_on team", o.file, q.Name, off, from.Format("2006-01-02"), first.UTC().Format("Mon 2006-01-02 15:04")))
		}
	}
	return errs
}

// changes lists, in order, the instants in [from, to) at which a team of
// one of queues may come on or go off duty, starting with from and ending
// with to.
func (o *Org) changes(from, to time.Time, queues []string) []time.Time {
	out := []time.Time{from, to}
	add := func(t time.Time) {
		if t.After(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	var regions []*Region
	for _, name := range queues {
		q := o.queues[name]
		if q == nil {
			continue
		}
		if t := o.teams[q.Team]; t != nil && !t.Always {
			if r := o.Regions[t.Region]; r != nil && !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
	}
	for _, r := range regions {
		for d := from.AddDate(0, 0, -2); d.Before(to.AddDate(0, 0, 2)); d = d.AddDate(0, 0, 1) {
			y, m, day := d.Date()
			add(wallTime(y, m, day, 0, r.loc))
			for _, sp := range r.week[d.Weekday()] {
				add(wallTime(y, m, day, sp.from, r.loc))
				add(wallTime(y, m, day, sp.to, r.loc))
			}
		}
	}
	for _, ov := range o.Overrides {
		if slices.Contains(queues, ov.Queue) {
			add(ov.From)
			add(ov.To)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, time.Time.Equal)
}

// Worker returns the team at work on queue q at t under the policy's
// organisation ("" when nobody is, or without an organisation): who is
// paged for the queue's alerts now (notify's follow-the-sun channels).
func (p *Policy) Worker(q string, t time.Time) string {
	if p.org == nil {
		return ""
	}
	return p.org.Worker(q, t)
}

// Pager returns the team to page for an alert on queue q at t: the team
// at work on q, else on the first queue of q's hand-off chain that has one
// ("" when nobody is, or without an organisation). An alert raised as of
// its post's ingest time can sit on a queue whose team has just gone (route
// keeps it there so a redelivery decides the same); the team that took
// over is paged, not the one that left.
func (p *Policy) Pager(q string, t time.Time) string {
	if p.org == nil {
		return ""
	}
	if w := p.org.Worker(q, t); w != "" {
		return w
	}
	if queue := p.org.queues[q]; queue != nil {
		for _, h := range queue.Handoff {
			if w := p.org.Worker(h, t); w != "" {
				return w
			}
		}
	}
	return ""
}

// HasTeam reports whether the organisation defines the team.
func (p *Policy) HasTeam(name string) bool { return p.org != nil && p.org.teams[name] != nil }
