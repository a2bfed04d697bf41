// Package route turns enriched posts into alerts on responder queues,
// following an ordered list of rules.
package route

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Config says where the routing policy and the organisation are.
type Config struct {
	Policy string `yaml:"policy"` // a routing.yaml file
	Org    string `yaml:"org"`    // an org.yaml file; without one, queues have no hours, SLAs or hand-offs
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	if c.Policy == "" {
		return errors.New("route.policy: a routing policy file is required")
	}
	return nil
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
// them with a reason ("do not respond").
type Rule struct {
	Name     string    `yaml:"name"`
	When     Condition `yaml:"when"`
	Queue    string    `yaml:"queue"`
	Priority string    `yaml:"priority"`
	Suppress string    `yaml:"suppress"`
}

// Condition holds when every listed field matches; an empty list matches all.
type Condition struct {
	Watchlists   []string `yaml:"watchlists"`
	Brands       []string `yaml:"brands"`
	Sentiment    []string `yaml:"sentiment"` // positive, neutral, negative
	Regions      []string `yaml:"regions"`
	Languages    []string `yaml:"languages"`
	Keywords     []string `yaml:"keywords"` // any of the watchlist keywords that hit
	MinFollowers int64    `yaml:"min_followers"`
}

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	priorities  = []string{"P1", "P2", "P3", "P4"}
	sentiments  = []string{"positive", "neutral", "negative"}
)

// LoadPolicy reads and validates a policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
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
		return p, nil
	}
	o, err := LoadOrg(cfg.Org)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, q := range p.Queues {
		if o.queues[q] == nil {
			errs = append(errs, fmt.Errorf("%s: queue %q is not among the queues of %s", p.file, q, o.file))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, err)
	}
	p.org = o
	return p, nil
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
		if r.When.MinFollowers < 0 {
			bad("%s: min_followers must not be negative", where)
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
	return sub(c.Watchlists, d.Watchlists) && sub(c.Brands, d.Brands) && sub(c.Sentiment, d.Sentiment) &&
		sub(c.Regions, d.Regions) && sub(c.Languages, d.Languages) && sub(c.Keywords, d.Keywords) &&
		c.MinFollowers <= d.MinFollowers
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
			if meet(c.Watchlists, d.Watchlists) && meet(c.Brands, d.Brands) && meet(c.Sentiment, d.Sentiment) &&
				meet(c.Regions, d.Regions) && meet(c.Languages, d.Languages) && meet(c.Keywords, d.Keywords) {
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
	return (len(c.Sentiment) == 0 || slices.Contains(c.Sentiment, en.SentimentLabel)) &&
		(len(c.Regions) == 0 || slices.Contains(c.Regions, en.Region)) &&
		(len(c.Languages) == 0 || slices.Contains(c.Languages, en.Lang)) &&
		it.Post.Author.Followers >= c.MinFollowers
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
	r := p.Decide(it)
	if r == nil || r.Suppress != "" {
		return nil
	}
	a := &post.Alert{Queue: r.Queue, Priority: r.Priority, Rule: r.Name, CreatedAt: t}
	if p.org != nil {
		q, staffed := p.org.Handle(r.Queue, t)
		if q != r.Queue {
			a.Queue, a.HandedOffFrom = q, r.Queue
		}
		a.Unstaffed = !staffed
		a.Team = p.org.Team(a.Queue, t)
		a.DueAt = p.org.Due(a.Queue, a.Priority, t)
	}
	// The id depends on the rule's queue, not the hand-off, so a
	// redelivery after the shift changed still names the same alert.
	a.ID = AlertID(it.Key(), r.Queue)
	if en := it.Enrichment; en != nil && en.ClusterID != "" {
		// Copies of one post are one incident: one alert id, updated as
		// the cluster grows, but only at sizes 1, 2, 4, 8, … and every
		// 100, so a thousand copies page once and update a few times
		// instead of a thousand.
		if !worthUpdate(en.ClusterSize) {
			return nil
		}
		a.ID = AlertID("cluster:"+en.ClusterID, r.Queue)
		if en.ClusterSize > 1 { // the first post is an alert like any; copies make it an incident
			a.Incident, a.IncidentSize = en.ClusterID, en.ClusterSize
		}
	}
	return a
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
	var spikes *spikeDetector
	if p.Spikes != nil {
		spikes = newSpikeDetector(*p.Spikes)
	}
	seen := newRecent(recentCapacity)
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		t := now().UTC()
		for _, it := range in.Items {
			if len(it.Matches) == 0 {
				// A delete, or an edit that no longer matches: retract the
				// alert its post raised, if this process raised one.
				if r, ok := seen.take(it.Key()); ok {
					it.Alert = &post.Alert{ID: r.id, Queue: r.queue, Priority: r.priority, Rule: "retract", CreatedAt: t, Retracted: true}
					out.Items = append(out.Items, it)
				}
				continue
			}
			if a := p.alert(it, t); a != nil {
				it.Alert = a
				out.Items = append(out.Items, it)
				if a.Incident == "" {
					seen.put(it.Key(), a.ID, a.Queue, a.Priority)
				} else {
					seen.forgetID(a.ID) // an incident stands for many posts; one deleted copy does not end it
				}
			}
		}
		if spikes != nil {
			out.Items = append(out.Items, spikes.observe(in.Items, t)...)
		}
		return out, nil
	}
}

// worthUpdate reports whether an incident of size n gets a (new or updated)
// alert: the first post, each doubling, and every hundredth.
func worthUpdate(n int) bool {
	return n <= 1 || n&(n-1) == 0 || n%100 == 0
}
