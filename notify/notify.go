// Package notify tells people about alerts where they already are: Slack,
// Microsoft Teams, PagerDuty, Prometheus Alertmanager and email. Each channel takes
// the alerts of the queues it lists at or above a minimum priority, at most
// rate_limit.messages of them in any rate_limit.per; the rest are counted
// into one digest message per window ("14 more P3 alerts in care-emea in the
// last 10 min"). Delivery is at least once: retries with backoff, a dead
// letter after the last try, and a bounded memory of the alert ids already
// sent, so a redelivered alert is not sent twice.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"

	"github.com/earshot-dev/earshot/internal/redact"
	"github.com/earshot-dev/earshot/internal/retry"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
)

// Kinds of channel.
const (
	Slack        = "slack"
	Teams        = "teams"
	PagerDuty    = "pagerduty"
	Alertmanager = "alertmanager"
	Email        = "email"
	Opsgenie     = "opsgenie"
)

// PagerDutyURL is the Events API v2 endpoint, the default url of a
// pagerduty channel.
const PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// Bounds of the configuration.
const (
	MaxChannels      = 100
	MaxRateMessages  = 1000
	MaxDedupWindow   = 10_000_000
	DefaultDedup     = 100_000
	DefaultMessages  = 10
	DefaultPer       = 10 * time.Minute
	DefaultAttempts  = 5
	DefaultTimeout   = 5 * time.Second
	breakerFailures  = 3                // consecutive dead letters that open a channel's circuit
	breakerCoolDown  = 30 * time.Second // how long alerts to an open channel are dead-lettered at once
	digestFlushEvery = time.Second
	maxDeskURL       = 1000 // bytes; with /ui/desk?alert=<id>, well within Slack's 3,000 for a button URL
)

// Config is the notify section of the configuration.
type Config struct {
	// DeskURL is the base URL of earshot's API as responders reach it
	// (https://earshot.example.com); links go to DeskURL/ui/desk?alert=ID.
	DeskURL  string             `yaml:"desk_url"`
	Channels map[string]Channel `yaml:"channels"` // by name
	// StateFile keeps what the channels hold back (the rate limits'
	// digests, the alerts held in quiet hours) across a restart; "" keeps
	// it in memory only.
	StateFile string `yaml:"state_file"`
}

// Channel is one destination.
type Channel struct {
	Kind string `yaml:"kind"` // slack, teams, pagerduty, opsgenie, alertmanager or email
	// URL is where messages go. A Slack or Teams webhook URL is a
	// credential: give it with url_env or url_file instead. PagerDuty
	// defaults to the Events API v2; Alertmanager takes its base URL
	// (http://alertmanager:9093) and earshot posts to /api/v2/alerts.
	URL            string   `yaml:"url"`
	URLEnv         string   `yaml:"url_env"`
	URLFile        string   `yaml:"url_file"`
	RoutingKeyEnv  string   `yaml:"routing_key_env"`  // pagerduty: the integration's routing key
	RoutingKeyFile string   `yaml:"routing_key_file"` //
	TokenEnv       string   `yaml:"token_env"`        // slack with a bot token (xoxb-…), instead of a webhook
	TokenFile      string   `yaml:"token_file"`       //
	SlackChannel   string   `yaml:"channel"`          // slack with a bot token: the channel's id (C…)
	APIKeyEnv      string   `yaml:"api_key_env"`      // opsgenie: the API integration's key (GenieKey)
	APIKeyFile     string   `yaml:"api_key_file"`     //
	Queues         []string `yaml:"queues"`           // the queues whose alerts it takes; required
	MinPriority    string   `yaml:"min_priority"`     // P1 to P4; default P4 (every alert)
	Unstaffed      bool     `yaml:"unstaffed"`        // also take alerts nobody is on duty for, whatever their priority
	// Team makes a paging channel follow the sun: it takes an alert only
	// while this team (of the org file) is the one at work on the alert's
	// queue.
	Team        string        `yaml:"team"`
	QuietHours  *QuietHours   `yaml:"quiet_hours"`
	RateLimit   RateLimit     `yaml:"rate_limit"`
	MaxAttempts int           `yaml:"max_attempts"` // tries before a dead letter; default 5
	Timeout     time.Duration `yaml:"timeout"`      // per request; default 5s
	DedupWindow int           `yaml:"dedup_window"` // alert ids remembered as sent; default 100,000
	// Email: the sender, the recipients and the SMTP server.
	From string     `yaml:"from"`
	To   []string   `yaml:"to"`
	SMTP SMTPConfig `yaml:"smtp"`
}

// RateLimit bounds the messages a channel gets in any window of Per.
type RateLimit struct {
	Messages int           `yaml:"messages"` // default 10
	Per      time.Duration `yaml:"per"`      // default 10m
}

var priorities = []string{"P1", "P2", "P3", "P4"}

// Validate reports every problem at once, the channels' secrets read with
// getenv (or from their files) among them: the check of the process that
// sends (earshot notify, earshot run).
func (c Config) Validate(getenv func(string) string) error { return c.validate(getenv, true) }

// ValidateShape is Validate without reading a secret (or the SMTP CA file):
// each channel names its secrets exactly one way, but neither the variables
// nor the files need be there. Every process checks this; only those that
// send need the secrets (docs/deploy.md).
func (c Config) ValidateShape() error { return c.validate(nil, false) }

func (c Config) validate(getenv func(string) string, read bool) error {
	var errs []error
	if len(c.Channels) > MaxChannels {
		errs = append(errs, fmt.Errorf("notify.channels: %d channels, at most %d", len(c.Channels), MaxChannels))
	}
	if c.DeskURL != "" {
		if u, err := url.Parse(c.DeskURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("notify.desk_url: %q is not an http(s) URL", truncate(c.DeskURL, 200)))
		} else if len(c.DeskURL) > maxDeskURL {
			// Slack refuses a button URL over 3,000 characters: every alert would be a dead letter.
			errs = append(errs, fmt.Errorf("notify.desk_url: %d bytes, at most %d", len(c.DeskURL), maxDeskURL))
		}
	}
	total := 0 // ids remembered by every channel: the dedup memory of the process
	for _, name := range slices.Sorted(maps.Keys(c.Channels)) {
		ch := c.Channels[name]
		key := "notify.channels." + name
		total += cmp(ch.DedupWindow, DefaultDedup)
		if _, err := ch.resolve(key, getenv, read); err != nil {
			errs = append(errs, err)
		}
		if len(ch.Queues) == 0 {
			errs = append(errs, fmt.Errorf("%s.queues: name the queues whose alerts the channel takes", key))
		}
		if _, err := ch.QuietHours.parse(key); err != nil {
			errs = append(errs, err)
		}
		if ch.Team != "" && ch.Kind != PagerDuty && ch.Kind != Opsgenie {
			errs = append(errs, fmt.Errorf("%s.team: only paging channels (pagerduty, opsgenie) follow the sun; %s channels take every alert of their queues", key, ch.Kind))
		}
		if ch.MinPriority != "" && !slices.Contains(priorities, ch.MinPriority) {
			errs = append(errs, fmt.Errorf("%s.min_priority: %q, want P1, P2, P3 or P4", key, ch.MinPriority))
		}
		if ch.RateLimit.Messages < 0 || ch.RateLimit.Messages > MaxRateMessages || ch.RateLimit.Per < 0 || ch.RateLimit.Per > 24*time.Hour || (ch.RateLimit.Per > 0 && ch.RateLimit.Per < time.Second) {
			errs = append(errs, fmt.Errorf("%s.rate_limit: messages 0 to %d (0: the default, 10) per 1s to 24h, please", key, MaxRateMessages))
		}
		if ch.MaxAttempts < 0 || ch.MaxAttempts > 20 || ch.Timeout < 0 || ch.Timeout > 5*time.Minute {
			errs = append(errs, fmt.Errorf("%s: max_attempts 0 to 20 and a timeout of 0 to 5m, please", key))
		}
		if ch.DedupWindow < 0 || ch.DedupWindow > MaxDedupWindow {
			errs = append(errs, fmt.Errorf("%s.dedup_window: %d, want 0 (the default, %d) to %d", key, ch.DedupWindow, DefaultDedup, MaxDedupWindow))
		}
	}
	if total > MaxDedupWindow {
		errs = append(errs, fmt.Errorf("notify.channels: the channels' dedup_window add up to %d ids (about 100 bytes each), at most %d", total, MaxDedupWindow))
	}
	return errors.Join(errs...)
}

// resolved is a channel's destination with its secrets read.
type resolved struct{ url, routingKey string }

// resolve reads the channel's secrets with getenv, or, when !read, only
// checks that each is named exactly one way (the URL check then skips a
// URL that is a secret).
func (ch Channel) resolve(key string, getenv func(string) string, read bool) (resolved, error) {
	var r resolved
	var err error
	required := func(k, file, env string) (string, error) {
		if !read {
			return "", secret.CheckRequired(k, secret.String{}, file, env)
		}
		return secret.Required(k, secret.String{}, file, env, getenv)
	}
	switch ch.Kind {
	case Slack, Teams:
		if ch.Kind == Slack && (ch.TokenEnv != "" || ch.TokenFile != "") {
			switch {
			case ch.URLEnv != "" || ch.URLFile != "":
				return r, fmt.Errorf("%s: a Slack channel posts with an incoming webhook (url_env, url_file) or a bot token (token_env, token_file), not both", key)
			case !slackChannelID.MatchString(ch.SlackChannel):
				return r, fmt.Errorf("%s.channel: %q: with a bot token, give the id of the Slack channel (C0123ABCD), which the bot must be a member of", key, ch.SlackChannel)
			}
			r.url = cmp(ch.URL, SlackAPIURL) // Slack's Web API; not a credential
			if r.routingKey, err = required(key+".token", ch.TokenFile, ch.TokenEnv); err != nil {
				return r, err
			}
			break
		}
		if ch.URL != "" {
			return r, fmt.Errorf("%s.url: a %s webhook URL is a credential; give it with url_env or url_file", key, ch.Kind)
		}
		if r.url, err = required(key+".url", ch.URLFile, ch.URLEnv); err != nil {
			return r, err
		}
	case PagerDuty:
		r.url = ch.URL
		if r.url == "" {
			r.url = PagerDutyURL
		}
		if r.routingKey, err = required(key+".routing_key", ch.RoutingKeyFile, ch.RoutingKeyEnv); err != nil {
			return r, err
		}
	case Opsgenie:
		r.url = strings.TrimRight(cmp(ch.URL, OpsgenieURL), "/")
		if r.routingKey, err = required(key+".api_key", ch.APIKeyFile, ch.APIKeyEnv); err != nil {
			return r, err
		}
	case Email:
		return r, ch.SMTP.validate(key, ch.From, ch.To, getenv, read)
	case Alertmanager:
		if ch.URL == "" {
			return r, fmt.Errorf("%s.url: give Alertmanager's base URL (http://alertmanager:9093)", key)
		}
		r.url = strings.TrimRight(ch.URL, "/") + "/api/v2/alerts"
	default:
		return r, fmt.Errorf("%s.kind: %q, want slack, teams, pagerduty, opsgenie, alertmanager or email", key, ch.Kind)
	}
	if !read && r.url == "" { // a Slack or Teams URL from a variable or a file: not read here
		return r, nil
	}
	if u, perr := url.Parse(r.url); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return r, fmt.Errorf("%s.url: not an http(s) URL", key) // the URL may be a secret: not quoted
	}
	return r, nil
}

// Notifier holds every channel; its stages deliver one queue's alerts to
// one channel each, so a channel that is down holds back only itself.
type Notifier struct {
	desk     string
	channels map[string]*channel
	now      func() time.Time
	log      *slog.Logger
	m        metrics
	worker   func(queue string, t time.Time) string // the team at work on a queue; nil without an org

	state  string     // the state file, or ""
	saveMu sync.Mutex // one save at a time
	dirty  atomic.Bool
}

type metrics struct {
	sent, suppressed, held, duplicates, failed *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) metrics {
	f := promauto.With(reg)
	return metrics{
		sent:       f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_notify_messages_total", Help: "Messages delivered to notification channels, by channel and kind (alert, resolve, digest)."}, []string{"channel", "kind"}),
		suppressed: f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_notify_digested_total", Help: "Alerts held back by a channel's rate limit and counted into its digest."}, []string{"channel"}),
		held:       f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_notify_held_total", Help: "Alerts held back by a channel's quiet hours and counted into the digest sent when they end."}, []string{"channel"}),
		duplicates: f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_notify_duplicates_total", Help: "Redelivered alerts not sent again."}, []string{"channel"}),
		failed:     f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_notify_failures_total", Help: "Messages given up on after their last try (dead letters, or lost digests)."}, []string{"channel"}),
	}
}

// channel is one destination's sender, rate limiter and memory.
type channel struct {
	name, kind   string
	dest         resolved
	queues       []string
	minPri       string
	unstaffed    bool
	team         string // follows the sun: only while this team works the queue
	quiet        *quiet
	attempts     int
	client       *http.Client
	backoff      func(attempt int) time.Duration
	email        *emailSender  // kind email
	bot          *slack.Client // slack with a bot token
	slackChannel string

	mu        sync.Mutex
	limit     int
	per       time.Duration
	sent      []time.Time // the last limit sends, oldest first
	pending   map[digestKey]int
	since     time.Time         // when the first alert of the pending digest was held back
	held      map[digestKey]int // alerts held back in quiet hours
	heldSince time.Time
	// sending and sendingHeld are the counts of the digests Flush is
	// sending (the rate limit's, quiet hours'), with their since: they
	// stay in the state file until the digest is delivered, so that a
	// kill -9 while its request hangs does not lose them.
	sending, sendingHeld           map[digestKey]int
	sendingSince, sendingHeldSince time.Time

	seen      *dedup
	posted    *memo[string] // slack with a bot token: the ts of the message of each alert id
	failures  int           // consecutive dead letters
	openUntil time.Time
}

type digestKey struct{ queue, priority string }

// New builds the channels of c, reading their secrets with getenv.
func New(c Config, getenv func(string) string, reg prometheus.Registerer, log *slog.Logger) (*Notifier, error) {
	if err := c.Validate(getenv); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{desk: c.DeskURL, channels: map[string]*channel{}, now: time.Now, log: log.With("component", "notify"), m: newMetrics(reg)}
	for name, ch := range c.Channels {
		dest, _ := ch.resolve("", getenv, true) // validated above
		q, _ := ch.QuietHours.parse("")         // validated above
		x := &channel{name: name, kind: ch.Kind, dest: dest, queues: ch.Queues, minPri: ch.MinPriority, unstaffed: ch.Unstaffed, team: ch.Team, quiet: q, held: map[digestKey]int{},
			attempts: cmp(ch.MaxAttempts, DefaultAttempts), limit: cmp(ch.RateLimit.Messages, DefaultMessages), per: cmp(ch.RateLimit.Per, DefaultPer),
			client:  retry.Client(cmp(ch.Timeout, DefaultTimeout)), // redirects are refused, not followed
			pending: map[digestKey]int{}, seen: newDedup(cmp(ch.DedupWindow, DefaultDedup))}
		if ch.Kind == Email {
			var err error
			if x.email, err = newEmailSender(ch, getenv); err != nil {
				return nil, fmt.Errorf("notify.channels.%s: %w", name, err)
			}
		}
		if ch.Kind == Slack && dest.routingKey != "" {
			x.bot = slack.New(dest.routingKey, slack.OptionAPIURL(strings.TrimRight(dest.url, "/")+"/"), slack.OptionHTTPClient(x.client))
			x.slackChannel, x.posted = ch.SlackChannel, newMemo[string](cmp(ch.DedupWindow, DefaultDedup))
		}
		if x.minPri == "" {
			x.minPri = "P4"
		}
		x.backoff = retry.Backoff
		n.channels[name] = x
	}
	if c.StateFile != "" {
		n.state = c.StateFile
		if err := n.restore(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// FollowTheSun gives the channels with a team the org's answer to "which
// team is at work on this queue now" ("" when nobody is).
func (n *Notifier) FollowTheSun(worker func(queue string, t time.Time) string) { n.worker = worker }

// Teams are the teams the channels follow the sun for, by channel.
func (n *Notifier) Teams() map[string]string {
	out := map[string]string{}
	for name, ch := range n.channels {
		if ch.team != "" {
			out[name] = ch.team
		}
	}
	return out
}

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Routes are the (channel, queue) pairs to deliver, sorted.
func (n *Notifier) Routes() [][2]string {
	var out [][2]string
	for name, ch := range n.channels {
		for _, q := range ch.queues {
			out = append(out, [2]string{name, q})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0]+"\x00"+out[i][1] < out[j][0]+"\x00"+out[j][1] })
	return out
}

// Stage delivers the alerts of queue to the channel named: alerts below
// its minimum priority are skipped, the rate limit's overflow is counted into
// the digest, and an alert that cannot be delivered becomes a dead letter
// with the reason.
func (n *Notifier) Stage(name, queue string) func(context.Context, post.Batch) (post.Batch, error) {
	ch := n.channels[name]
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		for _, it := range in.Items {
			reason := n.deliver(ctx, ch, queue, it)
			if ctx.Err() != nil {
				return post.Batch{}, ctx.Err() // stopping: the batch is redelivered, not dead-lettered
			}
			if reason != "" {
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: reason, Class: post.ClassDeliveryFailed})
			}
		}
		// What was held back is on disk before the batch is committed.
		if err := n.save(); err != nil {
			return post.Batch{}, err
		}
		return out, nil
	}
}

// ResolveStage tells the channel named of the alerts resolved on the desk
// (the desk topic, which carries every queue's resolves): PagerDuty resolves
// the incident, Opsgenie closes the alert, Alertmanager ends it, and Slack,
// Teams and email get a short "Resolved" message for an alert they showed
// on its own. A resolve of another queue's alert is not the channel's and
// is skipped.
func (n *Notifier) ResolveStage(name string) func(context.Context, post.Batch) (post.Batch, error) {
	ch := n.channels[name]
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		for _, it := range in.Items {
			reason, class := "", post.ClassDeliveryFailed
			switch a := it.Alert; {
			case a == nil || a.Resolved == nil:
				reason, class = "notify: a record of the desk topic without a resolve", post.ClassMisrouted
			case !slices.Contains(ch.queues, a.Queue):
				continue
			default:
				reason = n.deliver(ctx, ch, a.Queue, it)
			}
			if ctx.Err() != nil {
				return post.Batch{}, ctx.Err()
			}
			if reason != "" {
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: reason, Class: class})
			}
		}
		return out, nil
	}
}

func rank(p string) int {
	if i := slices.Index(priorities, p); i >= 0 {
		return i
	}
	return len(priorities) // unknown: least urgent
}

// deliver handles one alert on one channel and returns why it gave up, or "".
func (n *Notifier) deliver(ctx context.Context, ch *channel, queue string, it *post.Item) string {
	a := it.Alert
	switch {
	case a == nil:
		return "notify: the record carries no alert"
	case a.Queue != queue:
		// Never let one queue's (tenant's) alert reach another's channel.
		return fmt.Sprintf("notify %s: an alert of queue %q on queue %q's topic", ch.name, a.Queue, queue)
	case !slices.Contains(ch.queues, queue):
		return fmt.Sprintf("notify %s: queue %q is not one of the channel's", ch.name, queue)
	case rank(a.Priority) > rank(ch.minPri) && !(ch.unstaffed && a.Unstaffed):
		return ""
	}
	key := a.ID
	kind := "alert"
	closing := a.Retracted || a.Resolved != nil // retracted, or resolved on the desk
	if closing {
		key, kind = a.ID+"/resolve", "resolve"
		if ch.chat() && !ch.updates() {
			kind = "alert" // a new message, under the rate limit
		}
	}
	now := n.now()
	if ch.team != "" && !closing && n.onDuty(a, now) != ch.team {
		return "" // another team's pager: the one at work on the queue now
	}
	ch.mu.Lock()
	if _, dup := ch.seen.get(key); dup {
		ch.mu.Unlock()
		n.m.duplicates.WithLabelValues(ch.name).Inc()
		return ""
	}
	if closing && (ch.chat() || ch.team != "") {
		// A chat can only be told to forget what it was shown on its own,
		// and a team's pager resolves only what it paged.
		if shown, _ := ch.seen.get(a.ID); !shown {
			ch.mu.Unlock()
			return ""
		}
		if ch.chat() && !ch.updates() && ch.quiet.holds(a.Priority, now) {
			ch.mu.Unlock()
			return "" // no "Retracted" ping at night; the desk shows it closed
		}
	}
	if !closing && ch.quiet.holds(a.Priority, now) {
		if len(ch.held) == 0 {
			ch.heldSince = now
		}
		ch.held[digestKey{queue, a.Priority}]++
		ch.seen.add(key, false)
		ch.mu.Unlock()
		n.dirty.Store(true)
		n.m.held.WithLabelValues(ch.name).Inc()
		return ""
	}
	if now.Before(ch.openUntil) {
		until := ch.openUntil
		ch.mu.Unlock()
		n.m.failed.WithLabelValues(ch.name).Inc()
		return fmt.Sprintf("notify %s: the channel failed %d alerts in a row; not tried until %s", ch.name, breakerFailures, until.UTC().Format(time.RFC3339))
	}
	// Resolves go through: they close an incident rather than ping anyone.
	if kind == "alert" && !ch.admit(now) {
		if closing {
			// A chat's "Resolved"/"Retracted" over the limit is not a new
			// alert for the digest to count; the desk shows it closed, as
			// in quiet hours.
			ch.seen.add(key, false)
			ch.mu.Unlock()
			return ""
		}
		if len(ch.pending) == 0 {
			ch.since = now
		}
		ch.pending[digestKey{queue, a.Priority}]++
		ch.seen.add(key, false)
		ch.mu.Unlock()
		n.dirty.Store(true)
		n.m.suppressed.WithLabelValues(ch.name).Inc()
		return ""
	}
	ch.mu.Unlock()

	try, err := n.message(ch, viewOf(it, n.desk), now)
	if err != nil {
		return fmt.Sprintf("notify %s: %v", ch.name, err)
	}
	reason := n.send(ctx, ch, try)
	if ctx.Err() != nil {
		return reason
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if reason != "" {
		ch.failures++
		if ch.failures >= breakerFailures {
			ch.openUntil = n.now().Add(breakerCoolDown)
			ch.failures = 0
		}
		n.m.failed.WithLabelValues(ch.name).Inc()
		return reason
	}
	ch.failures = 0
	ch.seen.add(key, true)
	n.m.sent.WithLabelValues(ch.name, kind).Inc()
	return ""
}

// chat reports whether the channel shows messages to people (Slack, Teams,
// email) rather than keeping incidents (PagerDuty, Alertmanager).
func (ch *channel) chat() bool { return ch.kind == Slack || ch.kind == Teams || ch.kind == Email }

// admit reports whether a message may go now, and if so counts it.
func (ch *channel) admit(now time.Time) bool {
	for len(ch.sent) > 0 && now.Sub(ch.sent[0]) >= ch.per {
		ch.sent = ch.sent[1:]
	}
	if len(ch.sent) >= ch.limit {
		return false
	}
	ch.sent = append(ch.sent, now)
	return true
}

// message returns one attempt at sending the alert v on ch.
func (n *Notifier) message(ch *channel, v view, now time.Time) (func(context.Context) error, error) {
	var body []byte
	var err error
	switch ch.kind {
	case Email:
		subject, text, html, err := emailAlert(v)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return ch.email.send(ctx, subject, text, html) }, nil
	case Slack:
		if ch.bot != nil {
			text, blocks := slackBlocks(v)
			if v.Retracted {
				ch.mu.Lock()
				ts, ok := ch.posted.get(v.ID)
				ch.mu.Unlock()
				if ok {
					return ch.slackUpdate(ts, text, blocks), nil
				}
				return ch.slackPost("", text, blocks), nil
			}
			return ch.slackPost(v.ID, text, blocks), nil
		}
		body, err = slackAlert(v)
	case Teams:
		body, err = teamsAlert(v)
	case PagerDuty:
		body, err = pagerdutyEvent(v, ch.dest.routingKey)
	case Opsgenie:
		return ch.opsgenieAlert(v), nil
	default:
		body, err = alertmanagerAlerts(v, now)
	}
	return func(ctx context.Context) error { return ch.post(ctx, body) }, err
}

// send makes attempts with backoff, and returns why it gave up, or "".
func (n *Notifier) send(ctx context.Context, ch *channel, try func(context.Context) error) string {
	f := retry.Do(ctx, ch.attempts, ch.backoff, try)
	switch {
	case f == nil:
		return ""
	case f.Stopped:
		return fmt.Sprintf("notify %s: stopped after %d attempts: %v", ch.name, f.Attempts, f.Last)
	case f.Refused:
		return fmt.Sprintf("notify %s (%s) refused the message: %v", ch.name, ch.kind, f.Last)
	}
	return fmt.Sprintf("notify %s (%s): %d attempts failed, the last with %v", ch.name, ch.kind, f.Attempts, f.Last)
}

func (ch *channel) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.dest.url, bytes.NewReader(body))
	if err != nil {
		return retry.Permanent{Err: errors.New("bad request")} // the URL may be a secret: not in the error
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "earshot-notify/1")
	res, err := ch.client.Do(req)
	if err != nil {
		return redact.RequestError(err, "") // drop the URL: for Slack and Teams it is the credential
	}
	// The body is read (a cut read at the timeout leaves what came) for
	// the errors some endpoints answer with 200.
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if err := retry.HTTPAnswer(res, time.Now()); err != nil {
		return err // a 429's Retry-After is waited for, up to retry.MaxWait
	}
	return answerError(ch.kind, answer)
}

// teamsFailed starts the body of a 200 with which Teams' connector
// webhooks say a message was not delivered ("… Microsoft Teams endpoint
// returned HTTP error 413 with ContextId …"; MicrosoftDocs/msteams-docs#1810).
const teamsFailed = "Webhook message delivery failed"

var (
	teamsFailedStatus = regexp.MustCompile(`returned HTTP error (\d{3})`)
	slackErrorCode    = regexp.MustCompile(`^[a-z][a-z_]{1,63}$`)
)

// answerError is the failure a successful status's body reports, or nil:
// Teams' connector webhooks answer 200 with a failure's text (its inner
// status decides whether to retry), and a Slack webhook's body is "ok",
// so a body that is one of Slack's error codes (invalid_blocks, no_text,
// …) means the message was not posted. Other bodies (Teams' "1", a
// Workflows 202's empty one, a Slack-compatible server's JSON) are
// successes.
func answerError(kind string, body []byte) error {
	switch kind {
	case Teams:
		if !bytes.HasPrefix(bytes.TrimSpace(body), []byte(teamsFailed)) {
			return nil
		}
		if m := teamsFailedStatus.FindSubmatch(body); m != nil {
			code, _ := strconv.Atoi(string(m[1]))
			err := fmt.Errorf("HTTP 200 saying delivery failed with HTTP %d", code)
			var p retry.Permanent
			if inner := retry.HTTPStatus(code); inner != nil && !errors.As(inner, &p) {
				return err // 408, 429, 5xx: worth another try
			}
			return retry.Permanent{Err: err}
		}
		return retry.Permanent{Err: errors.New("HTTP 200 saying delivery failed")}
	case Slack:
		code := string(bytes.TrimSpace(body))
		if code == "ok" || !slackErrorCode.MatchString(code) {
			return nil
		}
		if slices.Contains(slackRetryable, code) {
			return fmt.Errorf("slack: %s", code)
		}
		return retry.Permanent{Err: fmt.Errorf("slack: %s", code)}
	}
	return nil
}

// onDuty is the team to page for alert a at t: the team at work on its
// queue now (follow the sun), or, when nobody is, the team it was raised for.
func (n *Notifier) onDuty(a *post.Alert, t time.Time) string {
	if n.worker != nil {
		if w := n.worker(a.Queue, t); w != "" {
			return w
		}
	}
	return a.Team
}

// Flush sends the digests that are due: one message per channel counting,
// per queue and priority, the alerts its rate limit held back once the
// window that started with the first of them has ended, and one counting
// the alerts its quiet hours held back once they are over. Each channel
// sends its own at once, so that one that hangs (up to max_attempts ×
// timeout) holds back its digests only, not the other channels'.
func (n *Notifier) Flush(ctx context.Context) {
	now := n.now()
	var wg sync.WaitGroup
	for _, name := range slices.Sorted(maps.Keys(n.channels)) {
		ch := n.channels[name]
		ch.mu.Lock()
		type due struct {
			text, worst string
			counts      map[digestKey]int
			held        bool
		}
		var dues []due
		// A time ahead of the clock came from a state file written while
		// the clock ran ahead (or before it stepped back): waiting for the
		// clock to catch up would hold the counts for as long.
		ch.since, ch.heldSince = notAfter(ch.since, now), notAfter(ch.heldSince, now)
		if len(ch.pending) > 0 && now.Sub(ch.since) >= ch.per {
			text, worst := digestText(ch.pending, ch.per)
			dues = append(dues, due{text, worst, ch.pending, false})
			ch.sending, ch.sendingSince = ch.pending, ch.since
			ch.pending = map[digestKey]int{}
		}
		if len(ch.held) > 0 && (ch.quiet == nil || !ch.quiet.at(now)) { // nil: quiet hours taken off since
			text, worst := heldText(ch.held, ch.quiet, ch.heldSince)
			dues = append(dues, due{text, worst, ch.held, true})
			ch.sendingHeld, ch.sendingHeldSince = ch.held, ch.heldSince
			ch.held = map[digestKey]int{}
		}
		ch.mu.Unlock()
		if len(dues) == 0 {
			continue
		}
		wg.Go(func() {
			for _, d := range dues {
				text := d.text
				reason := n.digest(ctx, ch, text, d.worst, now)
				if reason != "" && ctx.Err() != nil {
					n.putBack(ch, d.counts, d.held, now)
					continue
				}
				ch.settle(d.held)
				if reason != "" {
					n.m.failed.WithLabelValues(name).Inc()
					n.log.Warn("digest not delivered", "channel", name, "digest", text, "err", reason)
				} else {
					n.m.sent.WithLabelValues(name, "digest").Inc()
				}
				n.dirty.Store(true)
			}
		})
	}
	wg.Wait()
	if err := n.save(); err != nil {
		n.log.Warn("notify state not saved", "err", err)
	}
}

// notAfter is t, or now if t is after it.
func notAfter(t, now time.Time) time.Time {
	if t.After(now) {
		return now
	}
	return t
}

// settle forgets the counts of a digest Flush sent, or gave up on.
func (ch *channel) settle(held bool) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if held {
		ch.sendingHeld = nil
	} else {
		ch.sending = nil
	}
}

// putBack returns counts taken for a digest that stopping interrupted, so
// the state file keeps them for the next start.
func (n *Notifier) putBack(ch *channel, counts map[digestKey]int, held bool, now time.Time) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if held {
		ch.sendingHeld = nil
	} else {
		ch.sending = nil
	}
	into := ch.pending
	if held {
		into = ch.held
		if len(into) == 0 {
			ch.heldSince = now
		}
	} else if len(into) == 0 {
		ch.since = now
	}
	for k, v := range counts {
		into[k] += v
	}
}

// digest sends one digest message on ch and returns why it gave up, or "".
func (n *Notifier) digest(ctx context.Context, ch *channel, text, worst string, now time.Time) string {
	var body []byte
	var err error
	try := func(ctx context.Context) error { return ch.post(ctx, body) }
	switch ch.kind {
	case Email:
		try = func(ctx context.Context) error {
			return ch.email.send(ctx, truncate(oneLine("[earshot] "+text), 200), text+"\n", "")
		}
	case Slack:
		if ch.bot != nil {
			fallback, blocks := slackTextBlocks(text)
			try = ch.slackPost("", fallback, blocks)
			break
		}
		body, err = slackText(text)
	case Teams:
		body, err = teamsText(text)
	case PagerDuty:
		body, err = pagerdutyText(text, "earshot-digest-"+ch.name+"-"+now.UTC().Format(time.RFC3339), pdSeverity(worst), ch.dest.routingKey, now)
	case Opsgenie:
		try = ch.opsgenieText(text, worst, now)
	default:
		body, err = alertmanagerText(text, ch.name, now)
	}
	if err != nil {
		return err.Error()
	}
	return n.send(ctx, ch, try)
}

// digestText says what a digest counts, most urgent first, and the most
// urgent priority in it.
func digestText(pending map[digestKey]int, per time.Duration) (string, string) {
	text, worst := counts(pending, "more ")
	return text + " in the last " + span(per), worst
}

// span writes a window as people say it: "10 min", "1 h", "30 s".
func span(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

// Run sends digests as they fall due, until ctx is done. A digest still
// pending then is kept in the state file for the next start, or, without
// one, logged and not sent.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(digestFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := n.save(); err != nil {
				n.log.Warn("notify state not saved", "err", err)
			}
			for _, name := range slices.Sorted(maps.Keys(n.channels)) {
				ch := n.channels[name]
				ch.mu.Lock()
				for _, c := range []map[digestKey]int{ch.pending, ch.held} {
					if len(c) == 0 {
						continue
					}
					text, _ := counts(c, "")
					if n.state != "" {
						n.log.Info("digest not sent yet: kept for the next start", "channel", name, "digest", text, "state_file", n.state)
					} else {
						n.log.Info("digest not sent: stopping", "channel", name, "digest", text)
					}
				}
				ch.mu.Unlock()
			}
			return
		case <-t.C:
			n.Flush(ctx)
		}
	}
}

// dedup remembers the last n alert keys, and whether each was sent on its
// own (rather than counted into a digest); older ones are forgotten, so a
// redelivery of an alert older than that is sent again (at least once).
type dedup = memo[bool]

func newDedup(n int) *dedup { return newMemo[bool](n) }

// memo remembers a value for each of the last n keys added.
type memo[V any] struct {
	set  map[string]V
	ring []string
	max  int
	next int // the oldest key, once the ring is full
}

func newMemo[V any](n int) *memo[V] { return &memo[V]{set: map[string]V{}, max: n} }

// get returns k's value, and whether k is known.
func (d *memo[V]) get(k string) (v V, ok bool) { v, ok = d.set[k]; return }

// add remembers v for k, unless k is known.
func (d *memo[V]) add(k string, v V) {
	if _, ok := d.set[k]; ok {
		return
	}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, k)
	} else {
		delete(d.set, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % d.max
	}
	d.set[k] = v
}
