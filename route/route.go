// Package route turns enriched posts into alerts on responder queues,
// following an ordered list of rules.
package route

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Config says where the routing policy and the organisation are.
type Config struct {
	Policy string `yaml:"policy"` // a routing.yaml file
	Org    string `yaml:"org"`    // an org.yaml file; without one, queues have no hours, SLAs or hand-offs
	// Linger is how long the route stage waits to fill a batch. Alerts are
	// bound by latency, not throughput, so it is shorter than the other
	// stages' (runner.linger).
	Linger time.Duration `yaml:"linger"`
	// EscalateEvery is how often overdue alerts are looked for (the
	// escalation job runs beside the route stage: with the ClickHouse sink
	// it reads alerts and acknowledgements from there, without it the
	// stage's in-memory timers).
	EscalateEvery time.Duration `yaml:"escalate_every"`
	// ReloadInterval is how often the policy and organisation files are
	// checked for changes, which apply without a restart; 0 turns it off.
	ReloadInterval time.Duration `yaml:"reload_interval"`
	// Regions is enrich.regions (set by the pipeline, not read from
	// route:): the org file's markets must agree with it.
	Regions map[string][]string `yaml:"-"`
}

// DefaultConfig returns the defaults: no policy yet.
func DefaultConfig() Config {
	return Config{Linger: time.Millisecond, EscalateEvery: 30 * time.Second, ReloadInterval: 5 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Policy == "" {
		errs = append(errs, errors.New("route.policy: a routing policy file is required"))
	}
	if c.Linger < 0 || c.Linger > 10*time.Second {
		errs = append(errs, fmt.Errorf("route.linger: %v, want 0 to 10s", c.Linger))
	}
	if c.ReloadInterval < 0 || c.ReloadInterval > 24*time.Hour {
		errs = append(errs, fmt.Errorf("route.reload_interval: %v, want 0 (off) to 24h", c.ReloadInterval))
	}
	if c.EscalateEvery < time.Second || c.EscalateEvery > time.Hour {
		errs = append(errs, fmt.Errorf("route.escalate_every: %v, want 1s to 1h", c.EscalateEvery))
	}
	return errors.Join(errs...)
}

// Policy is the triage plan: queues and the ordered rules that fill them.
// The first rule whose conditions all hold decides; a post no rule takes is
// not actionable and raises no alert.
type Policy struct {
	Queues []string `yaml:"queues"`
	Rules  []Rule   `yaml:"rules"`
	Spikes *Spikes  `yaml:"spikes"` // volume-spike alerts; none when absent

	file  string
	lines []int // line of each rule in the file
	org   *Org
}

// Rule sends the posts that meet When to Queue with Priority, or suppresses
// them with a reason ("do not respond"). A routing rule may also copy the
// alert to stakeholders' queues (Notify), set its own first-response
// deadline (SLA, instead of the queue's), and escalate it to another queue
// (at once, or when it is still unacknowledged After its creation).
type Rule struct {
	Name     string        `yaml:"name"`
	When     Condition     `yaml:"when"`
	Queue    string        `yaml:"queue"`
	Priority string        `yaml:"priority"`
	Suppress string        `yaml:"suppress"`
	SLA      time.Duration `yaml:"sla"`
	Notify   []string      `yaml:"notify"`
	Escalate *Escalation   `yaml:"escalate"`
	// Incident "story" makes the posts this rule takes in one watchlist,
	// with the same keywords, within one StoryWindow of creation time, one
	// incident alert updated as it grows, instead of an alert each.
	Incident    string        `yaml:"incident"`
	StoryWindow time.Duration `yaml:"story_window"` // default 1h
}

// Escalation names the queue that takes an alert over, and when: After 0
// is at once (a copy marked escalated goes there with the alert), else
// when the alert is still unacknowledged that long after it was raised.
type Escalation struct {
	To    string        `yaml:"to"`
	After time.Duration `yaml:"after"`
}

// Condition holds when every listed field matches; an empty list matches all.
type Condition struct {
	Watchlists     []string `yaml:"watchlists"`
	Brands         []string `yaml:"brands"`
	Tags           []string `yaml:"tags"`      // any tag of a matching watchlist
	Sentiment      []string `yaml:"sentiment"` // positive, neutral, negative, unknown (the model abstained)
	Intents        []string `yaml:"intents"`   // complaint, question, praise, feedback, purchase, crisis, job, spam, other
	Emotions       []string `yaml:"emotions"`  // anger, joy, optimism, sadness, irony (English posts)
	Regions        []string `yaml:"regions"`
	Countries      []string `yaml:"countries"` // ISO 3166 alpha-2
	Markets        []string `yaml:"markets"`   // the organisation's markets (org.yaml markets), e.g. DACH
	Languages      []string `yaml:"languages"`
	Keywords       []string `yaml:"keywords"` // any of the watchlist keywords that hit
	MinFollowers   int64    `yaml:"min_followers"`
	MinInfluence   float64  `yaml:"min_influence"`    // the enrichment's influence score, 0 to 100
	MinClusterSize int      `yaml:"min_cluster_size"` // copies of the post seen in the clustering window
	MinConfidence  float64  `yaml:"min_confidence"`   // each judgement tested (sentiment, intents, emotions, languages, regions, countries) at least this sure, 0 to 1
}

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	priorities  = []string{"P1", "P2", "P3", "P4"}
	sentiments  = []string{"positive", "neutral", "negative", "unknown"}
	emotions    = []string{"anger", "joy", "optimism", "sadness", "irony"}
	// maxEscalateAfter bounds escalation delays: the escalation job looks
	// back a month for overdue alerts.
	maxEscalateAfter = 30 * 24 * time.Hour
	intents          = []string{"complaint", "question", "praise", "feedback", "purchase", "crisis", "job", "spam", "other"}
	country          = regexp.MustCompile(`^[A-Z]{2}$`)
)

// MaxRules bounds the rules of a policy: each is checked against every
// earlier one (can it ever apply?), and each post tries them in turn. Real
// policies have tens.
const MaxRules = 1_000

// LoadPolicy reads and validates a policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := strictyaml.ReadFile(path)
	if err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, fmt.Errorf("route.policy: %w", err))
	}
	p := &Policy{file: path}
	if err := strictyaml.Decode(path, data, p); err != nil {
		return nil, err
	}
	p.lines = ruleLines(data)
	if err := p.Validate(); err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, err)
	}
	return p, nil
}

// Load reads the policy and, if cfg names one, the organisation, and checks
// that they agree.
func Load(cfg Config) (*Policy, error) {
	p, err := LoadPolicy(cfg.Policy)
	if err != nil {
		return nil, err
	}
	if cfg.Org == "" {
		for i := range p.Rules {
			if len(p.Rules[i].When.Markets) > 0 {
				return nil, errors.Join(strictyaml.ErrInvalid, fmt.Errorf("%s: %s: markets: names markets of the org file, and there is none (route.org)", p.file, p.ref(i)))
			}
		}
		return p, nil
	}
	o, err := LoadOrgIn(cfg.Org, region.Map(cfg.Regions))
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, q := range p.Queues {
		if o.queues[q] == nil {
			errs = append(errs, fmt.Errorf("%s: queue %q is not among the queues of %s", p.file, q, o.file))
		}
	}
	for i := range p.Rules {
		errs = append(errs, p.reach(o, i)...)
		for _, m := range p.Rules[i].When.Markets {
			if !slices.ContainsFunc(o.Markets, func(x *Market) bool { return x.Name == m }) {
				errs = append(errs, fmt.Errorf("%s: %s: market %q is not among the markets of %s", p.file, p.ref(i), m, o.file))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, err)
	}
	p.org = o
	return p, nil
}

// reach reports the times of rule i (its own sla, its escalate.after) that
// the deadline search cannot reach on the business clock of a queue its
// alert may land on (its queue, or one of the hand-off chain): the alert
// would get no deadline, or an escalate_at of the zero time, long past, so
// that it escalated the moment it was raised.
func (p *Policy) reach(o *Org, i int) []error {
	r := &p.Rules[i]
	q := o.queues[r.Queue]
	if q == nil {
		return nil // reported above
	}
	var errs []error
	for _, name := range append([]string{q.Name}, q.Handoff...) {
		for _, t := range []struct {
			key string
			d   time.Duration
		}{{"sla", r.SLA}, {"escalate.after", escalateAfter(r.Escalate)}} {
			if t.d > 0 && o.DueAfter(name, t.d, o.loadedAt).IsZero() {
				errs = append(errs, fmt.Errorf("%s: %s: %s %v of business time on queue %s is not reached within %d spans of its team's hours: shorten it or widen the hours", p.file, p.ref(i), t.key, t.d, name, maxSpans))
			}
		}
	}
	return errs
}

// escalateAfter is e's delay, 0 without one.
func escalateAfter(e *Escalation) time.Duration {
	if e == nil {
		return 0
	}
	return e.After
}

// AllQueues lists every queue an alert can land on: the policy's and, with
// an organisation, every queue of its hand-off chains.
func (p *Policy) AllQueues() []string {
	qs := slices.Clone(p.Queues)
	if p.org != nil {
		for _, q := range p.org.Queues {
			if !slices.Contains(qs, q.Name) {
				qs = append(qs, q.Name)
			}
		}
	}
	return qs
}

// ruleLines finds the line of each item of the top-level rules list.
func ruleLines(data []byte) []int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "rules" {
			var lines []int
			for _, r := range m.Content[i+1].Content {
				lines = append(lines, r.Line)
			}
			return lines
		}
	}
	return nil
}

// loc is "file:line" of rule i (just the file when the line is unknown).
func (p *Policy) loc(i int) string {
	if l := p.line(i); l > 0 {
		return fmt.Sprintf("%s:%d", p.file, l)
	}
	return p.file
}

// line is the line of rule i, or 0 when unknown.
func (p *Policy) line(i int) int {
	if i < len(p.lines) {
		return p.lines[i]
	}
	return 0
}

// ref names rule i: "rules[i] (name)".
func (p *Policy) ref(i int) string { return fmt.Sprintf("rules[%d] (%s)", i, p.Rules[i].Name) }

// Validate reports every problem at once, naming the file and rule.
func (p *Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", p.file, fmt.Sprintf(format, args...)))
	}
	if len(p.Queues) == 0 {
		bad("queues: at least one queue is needed")
	}
	for _, q := range p.Queues {
		if !namePattern.MatchString(q) {
			bad("queue %q: use lower-case letters, digits, - or _ (it becomes part of a topic name)", q)
		}
	}
	if len(p.Rules) == 0 {
		bad("rules: at least one rule is needed")
	}
	if len(p.Rules) > MaxRules {
		bad("rules: %d rules; the limit is %d: a policy this long is a mistake (or split the watchlists it routes)", len(p.Rules), MaxRules)
		return errors.Join(errs...) // checking each rule against the earlier ones would take minutes
	}
	if p.Spikes != nil {
		for _, m := range p.Spikes.validate(p.Queues) {
			bad("%s", m)
		}
	}
	names := map[string]bool{}
	for i, r := range p.Rules {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", p.loc(i), fmt.Sprintf(format, args...)))
		}
		where := p.ref(i)
		if r.Name == "" {
			bad("rules[%d]: name is required", i)
		} else if names[r.Name] {
			bad("%s: the name is used twice", where)
		}
		names[r.Name] = true
		switch {
		case r.Suppress != "" && r.Queue != "":
			bad("%s: set queue or suppress, not both", where)
		case r.Suppress == "" && r.Queue == "":
			bad("%s: set queue (route) or suppress (with a reason)", where)
		case r.Queue != "" && !slices.Contains(p.Queues, r.Queue):
			bad("%s: queue %q is not among queues %v", where, r.Queue, p.Queues)
		}
		if r.Queue != "" && !slices.Contains(priorities, r.Priority) {
			bad("%s: priority %q, want one of %v", where, r.Priority, priorities)
		}
		for _, s := range r.When.Sentiment {
			if !slices.Contains(sentiments, s) {
				bad("%s: sentiment %q, want one of %v", where, s, sentiments)
			}
		}
		for _, v := range r.When.Intents {
			if !slices.Contains(intents, v) {
				bad("%s: intent %q, want one of %v", where, v, intents)
			}
		}
		for _, v := range r.When.Emotions {
			if !slices.Contains(emotions, v) {
				bad("%s: emotion %q, want one of %v", where, v, emotions)
			}
		}
		if !(r.When.MinConfidence >= 0 && r.When.MinConfidence <= 1) {
			bad("%s: min_confidence %v, want 0 to 1", where, r.When.MinConfidence)
		}
		for _, v := range r.When.Countries {
			if !country.MatchString(v) {
				bad("%s: country %q, want an ISO 3166 code of two capital letters", where, v)
			}
		}
		for _, v := range r.When.Markets {
			if !marketName.MatchString(v) {
				bad("%s: market %q, want a market name of org.yaml such as DACH", where, v)
			}
		}
		if r.When.MinFollowers < 0 || r.When.MinClusterSize < 0 {
			bad("%s: min_followers and min_cluster_size must not be negative", where)
		}
		switch mi := r.When.MinInfluence; {
		case mi < 0 || mi > 100:
			bad("%s: min_influence %v, want 0 to 100 (the enrichment's influence score)", where, mi)
		case mi > 0 && mi < 1:
			// Written for the 0–1 reading of earlier versions: on the 0–100
			// scale it would take almost every author.
			bad("%s: min_influence %v: the influence score is 0 to 100; write %v for what %v meant on the old 0–1 scale", where, mi, math.Round(mi*1000)/10, mi)
		}
		if r.Suppress != "" && (r.SLA != 0 || len(r.Notify) > 0 || r.Escalate != nil) {
			bad("%s: a suppressing rule raises no alert, so sla, notify and escalate do not apply", where)
		}
		if r.SLA < 0 || r.SLA > maxResolve {
			bad("%s: sla %v, want 0 to %v", where, r.SLA, maxResolve)
		}
		if r.Incident != "" && r.Incident != "story" {
			bad("%s: incident %q, want story (or nothing: copies of one post are always one incident)", where, r.Incident)
		}
		if r.StoryWindow < 0 || r.StoryWindow > 7*24*time.Hour || r.StoryWindow != 0 && r.Incident != "story" {
			bad("%s: story_window %v, want up to 168h, with incident: story", where, r.StoryWindow)
		}
		for _, q := range r.Notify {
			if !slices.Contains(p.Queues, q) {
				bad("%s: notify queue %q is not among queues %v", where, q, p.Queues)
			} else if q == r.Queue {
				bad("%s: notify queue %q is the rule's own queue", where, q)
			}
		}
		if e := r.Escalate; e != nil {
			switch {
			case !slices.Contains(p.Queues, e.To):
				bad("%s: escalate.to %q is not among queues %v", where, e.To, p.Queues)
			case e.To == r.Queue:
				bad("%s: escalate.to %q is the rule's own queue", where, e.To)
			}
			if e.After < 0 || e.After > maxEscalateAfter {
				bad("%s: escalate.after %v, want 0 (at once) to %v", where, e.After, maxEscalateAfter)
			}
		}
		for j := range p.Rules[:i] {
			if p.Rules[j].When.covers(&r.When) {
				bad("%s can never apply: %s at line %d, earlier, takes every post it would", where, p.ref(j), p.line(j))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// covers reports whether every post that meets d also meets c.
func (c *Condition) covers(d *Condition) bool {
	sub := func(a, b []string) bool { // every value b allows, a allows
		if len(a) == 0 {
			return true
		}
		if len(b) == 0 {
			return false
		}
		for _, v := range b {
			if !slices.Contains(a, v) {
				return false
			}
		}
		return true
	}
	return sub(c.Watchlists, d.Watchlists) && sub(c.Brands, d.Brands) && sub(c.Tags, d.Tags) && sub(c.Sentiment, d.Sentiment) &&
		sub(c.Intents, d.Intents) && sub(c.Emotions, d.Emotions) && c.MinConfidence <= d.MinConfidence && sub(c.Regions, d.Regions) && sub(c.Countries, d.Countries) && sub(c.Markets, d.Markets) &&
		sub(c.Languages, d.Languages) && sub(c.Keywords, d.Keywords) &&
		c.MinFollowers <= d.MinFollowers && c.MinInfluence <= d.MinInfluence && c.MinClusterSize <= d.MinClusterSize
}

// Overlaps lists pairs of rules to different destinations that can both
// take one post: the earlier wins, which is often meant but worth a look.
func (p *Policy) Overlaps() []string {
	meet := func(a, b []string) bool {
		return len(a) == 0 || len(b) == 0 || slices.ContainsFunc(a, func(v string) bool { return slices.Contains(b, v) })
	}
	var out []string
	for i := range p.Rules {
		for j := i + 1; j < len(p.Rules); j++ {
			a, b := &p.Rules[i], &p.Rules[j]
			if a.Queue == b.Queue && a.Suppress == b.Suppress {
				continue
			}
			c, d := &a.When, &b.When
			if meet(c.Watchlists, d.Watchlists) && meet(c.Brands, d.Brands) && meet(c.Tags, d.Tags) && meet(c.Sentiment, d.Sentiment) &&
				meet(c.Intents, d.Intents) && meet(c.Emotions, d.Emotions) && meet(c.Regions, d.Regions) && meet(c.Countries, d.Countries) && meet(c.Markets, d.Markets) &&
				meet(c.Languages, d.Languages) && meet(c.Keywords, d.Keywords) {
				out = append(out, fmt.Sprintf("%s: %s and %s (line %d) overlap: posts meeting both go to %s", p.loc(i), p.ref(i), p.ref(j), p.line(j), a.dest()))
			}
		}
	}
	return out
}

func (r *Rule) dest() string {
	if r.Suppress != "" {
		return "suppression (" + r.Suppress + ")"
	}
	return "queue " + r.Queue
}

func (c *Condition) holds(it *post.Item) bool {
	en := it.Enrichment
	if en == nil {
		en = &post.Enrichment{}
	}
	if len(c.Watchlists) > 0 && !slices.ContainsFunc(it.Matches, func(m post.Match) bool { return slices.Contains(c.Watchlists, m.Watchlist) }) {
		return false
	}
	if len(c.Brands) > 0 && !slices.ContainsFunc(it.Matches, func(m post.Match) bool { return slices.Contains(c.Brands, m.Brand) }) {
		return false
	}
	if len(c.Keywords) > 0 && !slices.ContainsFunc(it.Matches, func(m post.Match) bool {
		return slices.ContainsFunc(m.Keywords, func(k string) bool { return slices.Contains(c.Keywords, k) })
	}) {
		return false
	}
	if len(c.Tags) > 0 && !slices.ContainsFunc(it.Matches, func(m post.Match) bool {
		return slices.ContainsFunc(m.Tags, func(t string) bool { return slices.Contains(c.Tags, t) })
	}) {
		return false
	}
	if len(c.Intents) > 0 && !slices.ContainsFunc(en.Intents, func(v string) bool { return slices.Contains(c.Intents, v) }) {
		return false
	}
	if !c.confident(en) {
		return false
	}
	return (len(c.Sentiment) == 0 || slices.Contains(c.Sentiment, en.SentimentLabel)) &&
		(len(c.Regions) == 0 || slices.Contains(c.Regions, en.Region)) &&
		(len(c.Countries) == 0 || slices.Contains(c.Countries, en.Country)) &&
		(len(c.Markets) == 0 || slices.Contains(c.Markets, en.Market)) &&
		(len(c.Languages) == 0 || slices.Contains(c.Languages, en.Lang)) &&
		it.Post.Author.Followers >= c.MinFollowers && en.Influence >= c.MinInfluence && en.ClusterSize >= c.MinClusterSize
}

// confident: the post has one of the condition's emotions, and every
// judgement the condition tests carries at least MinConfidence.
func (c *Condition) confident(en *post.Enrichment) bool {
	if len(c.Emotions) > 0 {
		ok := false
		for _, e := range c.Emotions {
			switch {
			case e == "irony" && en.Irony && en.IronyConfidence >= c.MinConfidence:
				ok = true
			case e != "irony" && e == en.Emotion && en.EmotionConfidence >= c.MinConfidence:
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if c.MinConfidence == 0 {
		return true
	}
	m := c.MinConfidence
	return (len(c.Sentiment) == 0 || en.SentimentConfidence >= m) &&
		(len(c.Intents) == 0 || en.IntentConfidence >= m) &&
		(len(c.Languages) == 0 || en.LangConfidence >= m) &&
		(len(c.Regions) == 0 && len(c.Countries) == 0 && len(c.Markets) == 0 || en.RegionConfidence >= m)
}

// Decide returns the rule that takes it, or nil.
func (p *Policy) Decide(it *post.Item) *Rule {
	for i := range p.Rules {
		if p.Rules[i].When.holds(it) {
			return &p.Rules[i]
		}
	}
	return nil
}

// AlertID is deterministic in the post and queue, so a redelivered post
// never raises a second alert.
func AlertID(postKey, queue string) string {
	sum := sha256.Sum256([]byte(postKey + "\x00" + queue))
	return hex.EncodeToString(sum[:16])
}

// alert returns the alert it raises at t, or nil when no rule routes it
// (or a rule suppresses it, or it is an incident update not worth sending).
func (p *Policy) alert(it *post.Item, t time.Time) *post.Alert {
	as, _ := p.alerts(it, t, newCounts(1, 1))
	if len(as) == 0 {
		return nil
	}
	return as[0]
}

// alerts returns the alert it raises at t followed by the copies its rule
// asks for: one per stakeholder queue to notify, and one on the escalation
// queue when the rule escalates at once. Copies have ids derived from the
// alert's, so they are as stable under redelivery as it is. When the post
// is one of an incident's (a cluster's or a story's), m names the incident,
// also when its post raises no update.
func (p *Policy) alerts(it *post.Item, t time.Time, c counts) (as []*post.Alert, m member) {
	return p.alertsBy(p.Decide(it), it, t, c)
}

// alertsBy is alerts for the rule r that Decide chose for it.
func (p *Policy) alertsBy(r *Rule, it *post.Item, t time.Time, c counts) (as []*post.Alert, m member) {
	if r == nil || r.Suppress != "" {
		return nil, m
	}
	a := p.raise(r.Queue, r.Priority, r.Name, t)
	if r.SLA > 0 {
		a.DueAt = p.dueAfter(a.Queue, r.SLA, t)
	}
	// The id depends on the rule's queue, not the hand-off, so a
	// redelivery after the shift changed still names the same alert.
	a.ID = AlertID(it.Key(), r.Queue)
	if en := it.Enrichment; en != nil && en.ClusterID != "" {
		// Copies of one post are one incident: one alert id, updated as
		// the cluster grows, but only at sizes 1, 2, 4, 8, … and every
		// 100, so a thousand copies page once and update a few times
		// instead of a thousand. The route process counts the cluster's
		// posts itself and updates at its own count: enrich processes
		// sharing the stream each count only their own partitions' copies
		// (docs/enrichment.md), and the route's count does not depend on
		// the order posts reach it. The size told is the larger of its
		// count and enrichment's, which knows more after a route restart.
		seen := c.clusters.add(en.ClusterID, it.Key())
		n := max(en.ClusterSize, seen)
		a.ID = AlertID("cluster:"+en.ClusterID, r.Queue)
		m = member{a.ID, n}
		if !worthUpdate(seen) {
			return nil, m
		}
		if n > 1 { // the first post is an alert like any; copies make it an incident
			a.Incident, a.IncidentSize = en.ClusterID, n
		}
	} else if r.Incident == "story" {
		// Posts of one story are one incident, keyed on what the rule saw
		// (watchlist and keywords) and the creation time's window, so a
		// redelivery lands in the same one.
		story := storyKey(it, r)
		n := c.stories.add(story, it.Key())
		a.ID = AlertID("story:"+story, r.Queue)
		m = member{a.ID, n}
		if !worthUpdate(n) {
			return nil, m
		}
		if n > 1 {
			a.Incident, a.IncidentSize = story, n
		}
	}
	out := []*post.Alert{a}
	cp := func(queue, reason string) *post.Alert {
		c := p.raise(queue, a.Priority, r.Name, t)
		c.ID, c.Of, c.Reason = AlertID(a.ID, reason+":"+queue), a.ID, reason
		c.Incident, c.IncidentSize = a.Incident, a.IncidentSize
		return c
	}
	for _, q := range r.Notify {
		c := cp(q, "notify")
		c.DueAt = time.Time{} // for their information: nothing to answer
		out = append(out, c)
	}
	if e := r.Escalate; e != nil {
		if e.After == 0 {
			out = append(out, cp(e.To, "escalation"))
		} else {
			at := p.dueAfter(a.Queue, e.After, t)
			if at.IsZero() {
				// No business hours ahead to count the delay in (an org
				// whose hours ran out since it was loaded): the zero time
				// is long past, and the alert would escalate at once.
				at = t.Add(e.After)
			}
			a.EscalateTo, a.EscalateAt = e.To, at.UTC()
		}
	}
	return out, m
}

// raise makes an alert on queue at t, handed off to whoever is on duty,
// with the queue's deadline for the priority.
func (p *Policy) raise(queue, priority, rule string, t time.Time) *post.Alert {
	a := &post.Alert{Queue: queue, Priority: priority, Rule: rule, CreatedAt: t}
	p.staff(a, t)
	return a
}

// staff hands alert a to whoever is on duty at t in its queue's hand-off
// chain and sets the team and the deadline.
func (p *Policy) staff(a *post.Alert, t time.Time) {
	if p.org == nil {
		return
	}
	queue := a.Queue
	q, staffed := p.org.Handle(queue, t)
	if q != queue {
		a.Queue, a.HandedOffFrom = q, queue
	}
	a.Unstaffed = !staffed
	a.Team = p.org.Team(a.Queue, t)
	a.DueAt = p.org.Due(a.Queue, a.Priority, t)
}

// dueAfter is d after t on queue's clock.
func (p *Policy) dueAfter(queue string, d time.Duration, t time.Time) time.Time {
	if p.org == nil {
		return t.Add(d)
	}
	return p.org.DueAfter(queue, d, t)
}

// Stage returns the route stage: items that a rule routes come out with
// their Alert set; suppressed and unrouted posts end here.
//
// Deletes, and edits that no longer match (they come without matches),
// retract the alert their post raised: a record with the same id, on the
// same queue, with retracted set.
//
// With spikes configured the stage also counts posts per watchlist and
// region; the spike alerts of windows that have closed come out with the
// batch that closes them. That state is the stage's own: each route process
// watches the partitions it reads.
func (p *Policy) Stage(now func() time.Time) func(context.Context, post.Batch) (post.Batch, error) {
	return stage(func() *Policy { return p }, now, stageOptions{})
}

// stageOptions are what the pipeline's route stage does beyond raising
// alerts.
type stageOptions struct {
	// timers, if set, keeps the alerts with a timed escalation for an
	// in-memory escalation job, and forgets them when their post is deleted.
	timers *Timers
	// suppressions makes the stage pass on a record of each suppressed
	// post (an item with Suppression set and no Alert).
	suppressions bool
}

// stage is the route stage over the policy current() returns at each batch,
// so a reloaded policy applies from the next batch on, keeping what the
// stage remembers (raised alerts, stories, and the spike windows unless the
// spike settings changed).
func stage(current func() *Policy, now func() time.Time, opts stageOptions) func(context.Context, post.Batch) (post.Batch, error) {
	// The runner calls the stage from its workers at once (stream.Stage):
	// seen and incidents lock themselves, the spike detector locks its
	// windows, and mu guards which detector is in force.
	var (
		mu        sync.Mutex
		spikes    *spikeDetector
		spikesCfg Spikes
	)
	seen := newRecent(recentCapacity)
	incidents := newCounts(storiesCapacity, clustersCapacity)
	detector := func(p *Policy) *spikeDetector {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case p.Spikes == nil:
			spikes = nil
		case spikes == nil || *p.Spikes != spikesCfg:
			spikes, spikesCfg = newSpikeDetector(*p.Spikes), *p.Spikes
		}
		return spikes
	}
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		p := current()
		spikes := detector(p)
		var out post.Batch
		t := now().UTC()
		// Items given are shared with the other readers of the topic and
		// never modified: alerts go out on shallow copies (withAlert).
		// retract withdraws the alert r and its copies; it is the delete or
		// edit that ends it.
		retract := func(it *post.Item, r *raised) {
			if opts.timers != nil {
				opts.timers.cancel(r.id)
			}
			out.Items = append(out.Items, withAlert(it, &post.Alert{ID: r.id, Queue: r.queue, Priority: r.priority, Rule: "retract", CreatedAt: t, Retracted: true}))
			for _, c := range r.copies {
				out.Items = append(out.Items, withAlert(it, &post.Alert{ID: c.id, Queue: c.queue, Priority: r.priority, Rule: "retract", CreatedAt: t, Retracted: true, Of: r.id}))
			}
		}
		for _, it := range in.Items {
			if len(it.Matches) == 0 {
				// A delete, or an edit that no longer matches: retract the
				// alert its post raised, if this process raised one.
				r, ok, origin := seen.take(it.Key(), it.Post.Source)
				if origin != "" {
					out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: fmt.Sprintf("%s of %s from source %q refused: the post came from %q, and only the source that delivered a post may retract its alert", it.Post.Kind, it.Key(), it.Post.Source, origin), Class: post.ClassForeignSource})
				}
				if ok {
					retract(it, r)
				}
				continue
			}
			at := raisedAt(it, t)
			r := p.Decide(it)
			if r != nil && r.Suppress != "" {
				if opts.suppressions {
					cp := *it
					cp.Suppression = &post.Suppression{Rule: r.Name, Reason: r.Suppress, At: at}
					out.Items = append(out.Items, &cp)
				}
				continue
			}
			as, m := p.alertsBy(r, it, at, incidents)
			var copies []copyRef
			for i, c := range as {
				if i > 0 {
					copies = append(copies, copyRef{c.ID, c.Queue})
				}
			}
			if m.id != "" {
				// One post of an incident: the incident's alert is
				// retracted when none of its posts is left, so every post
				// is remembered, also one that raises no update.
				var a *post.Alert
				if len(as) > 0 {
					a = as[0]
				}
				if gone := seen.putMember(it.Key(), it.Post.Source, m, a, copies); gone != nil {
					retract(it, gone) // an edit moved its last post out of another incident
				}
			}
			if len(as) == 0 {
				continue
			}
			a := as[0]
			withA := withAlert(it, a)
			out.Items = append(out.Items, withA)
			if opts.timers != nil && a.EscalateTo != "" {
				opts.timers.add(withA)
			}
			if m.id == "" {
				if gone := seen.put(it.Key(), it.Post.Source, a.ID, a.Queue, a.Priority, copies...); gone != nil {
					retract(it, gone)
				}
			}
			for _, c := range as[1:] {
				out.Items = append(out.Items, withAlert(it, c))
			}
		}
		if spikes != nil {
			for _, sp := range spikes.observe(in.Items, t) {
				// Follow-the-sun and SLAs as for any alert, as of the
				// window's end, so that a night-time spike is not left on
				// a queue nobody works.
				p.staff(sp.Alert, asOf(sp.Alert.CreatedAt, t))
				out.Items = append(out.Items, sp)
			}
		}
		return out, nil
	}
}

// maxRaiseLag is how late after its ingestion a post is still raised as of
// its ingest time.
const maxRaiseLag = time.Hour

// raisedAt is the time an alert for it is raised as of: the post's ingest
// time, so that a redelivery (after a crash or a rebalance) decides the same
// queue, team and deadlines even when a shift changed in between. A post
// that reaches the route stage more than maxRaiseLag after it was ingested
// (a backlog after an outage, a replay), or whose ingest time is unknown or
// ahead of now, is raised as of now: the team on duty now takes it.
func raisedAt(it *post.Item, now time.Time) time.Time {
	return asOf(it.Post.IngestedAt, now)
}

// asOf is ref, when it is known and at most maxRaiseLag before now, else now.
func asOf(ref, now time.Time) time.Time {
	ref = ref.UTC()
	if ref.IsZero() || ref.After(now) || now.Sub(ref) > maxRaiseLag {
		return now
	}
	return ref
}

// withAlert is a shallow copy of it carrying alert a: the same post on
// another queue (a stakeholder copy, an escalation, a retraction).
func withAlert(it *post.Item, a *post.Alert) *post.Item {
	cp := *it
	cp.Alert = a
	return &cp
}

// worthUpdate reports whether an incident of size n gets a (new or updated)
// alert: the first post, each doubling, and every hundredth.
func worthUpdate(n int) bool {
	return n <= 1 || n&(n-1) == 0 || n%100 == 0
}
