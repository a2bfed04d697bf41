// Package route turns enriched posts into alerts on responder queues,
// following an ordered list of rules.
package route

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Config says where the routing policy is.
type Config struct {
	Policy string `yaml:"policy"` // a routing.yaml file
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

	file string
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
	p := &Policy{file: path}
	if err := strictyaml.File(path, p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, err)
	}
	return p, nil
}

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
	names := map[string]bool{}
	for i, r := range p.Rules {
		where := fmt.Sprintf("rules[%d] (%s)", i, r.Name)
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
	}
	return errors.Join(errs...)
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

// Stage returns the route stage: items that a rule routes come out with
// their Alert set; suppressed and unrouted posts end here.
func (p *Policy) Stage(now func() time.Time) func(context.Context, post.Batch) (post.Batch, error) {
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		for _, it := range in.Items {
			r := p.Decide(it)
			if r == nil || r.Suppress != "" {
				continue
			}
			it.Alert = &post.Alert{
				ID:        AlertID(it.Key(), r.Queue),
				Queue:     r.Queue,
				Priority:  r.Priority,
				Rule:      r.Name,
				CreatedAt: now().UTC(),
			}
			out.Items = append(out.Items, it)
		}
		return out, nil
	}
}
