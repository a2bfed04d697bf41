// Package pipeline assembles the stages into a pipeline over one transport,
// from one configuration file: all stages in one process (earshot run), or
// one stage per process (earshot match, …).
package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/digest"
	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/notify"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
	"github.com/earshot-dev/earshot/strictyaml"
	"github.com/earshot-dev/earshot/webhook"
)

// Config is the whole configuration file.
type Config struct {
	Transport TransportConfig     `yaml:"transport"`
	Ingest    ingest.Config       `yaml:"ingest"`
	Match     match.Config        `yaml:"match"`
	Enrich    enrich.Config       `yaml:"enrich"`
	Route     route.Config        `yaml:"route"`
	Sink      sink.Config         `yaml:"sink"`
	Search    search.Config       `yaml:"search"`
	Webhook   webhook.Config      `yaml:"webhook"`
	Notify    notify.Config       `yaml:"notify"`
	Runner    stream.RunnerConfig `yaml:"runner"`
	Metrics   MetricsConfig       `yaml:"metrics"`
	API       api.Config          `yaml:"api"`
	Digests   []digest.Digest     `yaml:"digests"`
}

// TransportConfig chooses how stages talk.
type TransportConfig struct {
	Kind        string             `yaml:"kind"`         // memory (embedded) or kafka (distributed)
	TopicPrefix string             `yaml:"topic_prefix"` // topics are <prefix>.posts, <prefix>.alerts.<queue>, …
	QueueSize   int                `yaml:"queue_size"`   // records per in-memory queue
	Kafka       stream.KafkaConfig `yaml:"kafka"`
}

// MetricsConfig says where /metrics, /healthz and /readyz are served, and
// when /readyz calls a stage stalled.
type MetricsConfig struct {
	Addr         string        `yaml:"addr"`          // host:port; empty disables
	StalledAfter time.Duration `yaml:"stalled_after"` // /readyz is 503 while a stage's oldest batch in flight is older
}

// Bounds of metrics.stalled_after: below a second a busy sink's flush
// would look stalled; past a day it would never say anything.
const (
	minStalledAfter = time.Second
	maxStalledAfter = 24 * time.Hour
)

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		Transport: TransportConfig{Kind: "memory", TopicPrefix: "earshot", QueueSize: 8192, Kafka: stream.DefaultKafkaConfig()},
		Ingest:    ingest.DefaultConfig(),
		Match:     match.DefaultConfig(),
		Route:     route.DefaultConfig(),
		Sink:      sink.DefaultConfig(),
		Search:    search.DefaultConfig(),
		Runner:    stream.DefaultRunnerConfig(),
		API:       api.DefaultConfig(),
		Metrics:   MetricsConfig{StalledAfter: 2 * time.Minute},
	}
}

// MaxQueueSize bounds transport.queue_size: each in-memory queue is
// allocated at its size, and holds up to that many records in memory.
const MaxQueueSize = 1_000_000

var topicPrefix = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$`)

// Validate reports every problem at once. Every process runs it; of a
// secret it checks only the shape (one source, a variable's name, files
// named), reading none: CheckSecrets reads those of the parts a process
// runs.
func (c *Config) Validate() error {
	var errs []error
	switch c.Transport.Kind {
	case "memory":
		if c.Transport.QueueSize < 1 || c.Transport.QueueSize > MaxQueueSize {
			errs = append(errs, fmt.Errorf("transport.queue_size: %d, want 1 to %d", c.Transport.QueueSize, MaxQueueSize))
		}
	case "kafka":
		errs = append(errs, c.Transport.Kafka.Validate())
	default:
		errs = append(errs, fmt.Errorf("transport.kind: %q, want memory or kafka", c.Transport.Kind))
	}
	if c.Metrics.StalledAfter < minStalledAfter || c.Metrics.StalledAfter > maxStalledAfter {
		errs = append(errs, fmt.Errorf("metrics.stalled_after: %v, want %v to %v", c.Metrics.StalledAfter, minStalledAfter, maxStalledAfter))
	}
	if !topicPrefix.MatchString(c.Transport.TopicPrefix) {
		errs = append(errs, fmt.Errorf("transport.topic_prefix: %q, want letters, digits, '.', '_' or '-'", c.Transport.TopicPrefix))
	}
	if c.Ingest.Source == "push" && c.Ingest.Push.Addr == "" && c.API.Addr == "" {
		errs = append(errs, errors.New("ingest.push.addr: empty, so pushed posts come through the HTTP API, but api.addr is empty too"))
	}
	if c.Match.Follow == "kafka" && c.Transport.Kind != "kafka" {
		errs = append(errs, errors.New("match.follow: kafka needs transport.kind: kafka"))
	}
	errs = append(errs, c.Webhook.ValidateShape(), c.Notify.ValidateShape()) // their secrets: in the process that uses them (Config.CheckSecrets)
	errs = append(errs, c.Ingest.Validate(), c.Match.Validate(), c.Enrich.Validate(), c.Route.Validate(), c.Sink.Validate(), c.Search.Validate(), c.Runner.Validate("runner"), c.API.Validate())
	if len(c.Digests) > 0 {
		k, err := c.DigestNames()
		errs = append(errs, err)
		if err := digest.Validate(c.Digests, k); err != nil {
			errs = append(errs, err)
			// The watchlists name teams too: when they do not load, say so
			// beside an unknown team, which may be theirs.
			unknown := slices.ContainsFunc(c.Digests, func(d digest.Digest) bool {
				return slices.ContainsFunc(d.Scope.Teams, func(t string) bool { return !slices.Contains(k.Teams, t) })
			})
			if _, wlErr := c.watchlistTeams(); wlErr != nil && unknown {
				errs = append(errs, fmt.Errorf("digests: scope.teams are the org file's and the watchlists' teams, and the watchlists did not load: %w", wlErr))
			}
		}
		if !c.Sink.Enabled {
			errs = append(errs, errors.New("digests: made from ClickHouse, but sink.enabled is false"))
		}
	}
	return errors.Join(errs...)
}

// DigestNames are the names a digest may use: the org file's teams and
// markets, the enrichment's regions and intents, the notification channels.
func (c *Config) DigestNames() (digest.Known, error) {
	k := digest.Known{Regions: region.Names(region.Map(c.Enrich.Regions)), Intents: enrich.IntentNames(), Channels: map[string]string{}}
	for name, ch := range c.Notify.Channels {
		k.Channels[name] = ch.Kind
	}
	// Teams: the org file's, and those the watchlists name (a match
	// carries its watchlist's team).
	k.Teams, _ = c.watchlistTeams()
	if c.Route.Org != "" {
		org, err := route.LoadOrg(c.Route.Org)
		if err != nil {
			return k, fmt.Errorf("digests: the org file, which names the teams: %w", err)
		}
		for _, t := range org.Teams {
			if !slices.Contains(k.Teams, t.Name) {
				k.Teams = append(k.Teams, t.Name)
			}
		}
		for _, m := range org.Markets {
			k.Markets = append(k.Markets, m.Name)
		}
	}
	slices.Sort(k.Teams)
	return k, nil
}

// watchlistTeams are the teams the watchlists name. The configuration is
// checked without them when they do not load (the match stage reports
// that when it starts); the error says why.
func (c *Config) watchlistTeams() ([]string, error) {
	if c.Match.Watchlists == "" {
		return nil, nil
	}
	ws, err := match.LoadDir(c.Match.Watchlists)
	if err != nil {
		return nil, err
	}
	var teams []string
	for _, w := range ws {
		if w.Team != "" && !slices.Contains(teams, w.Team) {
			teams = append(teams, w.Team)
		}
	}
	return teams, nil
}

// Load reads a configuration file over the defaults. Relative paths in it
// are taken relative to the file's directory. A bad file yields an error
// is ErrConfig (and, when the file itself is at fault, strictyaml.ErrInvalid).
func Load(path string) (Config, error) {
	c, err := load(path)
	return c, ConfigError(err)
}

func load(path string) (Config, error) {
	c := Default()
	data, err := strictyaml.ReadFile(path)
	if err != nil {
		return c, err // a missing or unreadable configuration file is a configuration problem too
	}
	decodeErr := strictyaml.Decode(path, data, &c)
	if decodeErr != nil && !strictyaml.Partial(decodeErr) {
		return c, decodeErr
	}
	// After unknown keys or wrong types the rest of the file is decoded:
	// its other problems are reported with them, all at once.
	dir := filepath.Dir(path)
	for _, p := range c.paths() {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for q, e := range c.Webhook.Endpoints { // map values are not addressable
		if e.SecretFile != "" && !filepath.IsAbs(e.SecretFile) {
			e.SecretFile = filepath.Join(dir, e.SecretFile)
			c.Webhook.Endpoints[q] = e
		}
	}
	for name, ch := range c.Notify.Channels {
		for _, f := range []*string{&ch.URLFile, &ch.RoutingKeyFile, &ch.SMTP.PasswordFile, &ch.SMTP.CAFile} {
			if *f != "" && !filepath.IsAbs(*f) {
				*f = filepath.Join(dir, *f)
			}
		}
		c.Notify.Channels[name] = ch
	}
	c.Route.Regions = c.Enrich.Regions // the org file's markets are checked against them
	if err := c.Validate(); err != nil {
		err = strictyaml.Locate(path, data, err)
		if decodeErr != nil {
			return c, errors.Join(decodeErr, err)
		}
		return c, err
	}
	return c, decodeErr
}

// paths are the configuration's file and directory names, which Load takes
// relative to the configuration file.
func (c *Config) paths() []*string {
	ps := []*string{&c.Match.Watchlists, &c.Match.Store, &c.Route.Policy, &c.Route.Org,
		&c.Ingest.File.Path, &c.Ingest.File.Checkpoint, &c.Ingest.Bluesky.CursorFile, &c.Ingest.Bluesky.ZstdDictionary,
		&c.Search.Dir, &c.API.StateDir, &c.API.TokensFile, &c.API.OIDC.JWKSFile,
		&c.Transport.Kafka.TLS.CAFile, &c.Transport.Kafka.TLS.CertFile, &c.Transport.Kafka.TLS.KeyFile, &c.Transport.Kafka.SASL.PasswordFile,
		&c.Sink.TLS.CAFile, &c.Sink.TLS.CertFile, &c.Sink.TLS.KeyFile, &c.Sink.PasswordFile,
		&c.API.TLS.CertFile, &c.API.TLS.KeyFile}
	ps = append(ps, &c.Ingest.X.BearerTokenFile, &c.Ingest.Reddit.ClientSecretFile, &c.Ingest.Reddit.PasswordFile, &c.Ingest.Reddit.CursorFile)
	for i := range c.Ingest.Push.Tenants {
		ps = append(ps, &c.Ingest.Push.Tenants[i].TokenFile)
	}
	for i := range c.Ingest.Mastodon.Servers {
		ps = append(ps, &c.Ingest.Mastodon.Servers[i].TokenFile)
	}
	return ps
}

// Topics names the pipeline's topics.
type Topics struct{ prefix string }

// NewTopics returns the topic names under prefix.
func NewTopics(prefix string) Topics { return Topics{prefix} }

// Posts, Matched, Enriched and Dead name the topics between stages.
func (t Topics) Posts() string    { return t.prefix + ".posts" }
func (t Topics) Matched() string  { return t.prefix + ".matched" }
func (t Topics) Enriched() string { return t.prefix + ".enriched" }
func (t Topics) Dead() string     { return t.prefix + ".deadletter" }

// Batched are the topics only earshot's stages read, whose records carry
// up to transport.kafka.batch_items items each.
func (t Topics) Batched() []string {
	return []string{t.Posts(), t.Matched(), t.Enriched(), t.Volume(), t.Suppressed()}
}

// Watchlists names the compacted topic of the published watchlist set.
func (t Topics) Watchlists() string { return t.prefix + ".watchlists" }

// Desk names the topic of the alerts resolved on the desk, which the API
// writes and the notify stage reads (to close what the channels opened).
func (t Topics) Desk() string { return t.prefix + ".desk" }

// Alerts names a responder queue's topic.
func (t Topics) Alerts(queue string) string { return t.prefix + ".alerts." + queue }

// Group names a stage's consumer group.
func (t Topics) Group(stage string) string { return t.prefix + "." + stage }

// routeRunner is the runner config of the route stage: alerts want low
// latency more than big batches.
func (c *Config) routeRunner() stream.RunnerConfig {
	r := c.Runner
	r.Linger = c.Route.Linger
	return r
}

// sinkRunner is the runner config of the sink: ClickHouse wants big batches.
func (c *Config) sinkRunner() stream.RunnerConfig {
	r := c.Runner
	r.BatchSize, r.Linger = c.Sink.BatchSize, c.Sink.FlushInterval
	return r
}

// searchRunner is the runner config of the search index: big batches.
func (c *Config) searchRunner() stream.RunnerConfig {
	r := c.Runner
	r.BatchSize, r.Linger, r.Workers = c.Search.BatchSize, c.Search.Linger, 1
	return r
}
