package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/internal/reload"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/notify"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
	"github.com/earshot-dev/earshot/webhook"
)

// Stage names, in pipeline order.
const (
	Ingest  = "ingest"
	Match   = "match"
	Enrich  = "enrich"
	Route   = "route"
	Sink    = "sink"
	Index   = "index" // the search index, beside the sink on the enriched topic
	Deliver = "webhook"
	Notify  = "notify" // Slack, Teams, PagerDuty, Alertmanager, beside webhook on the alert topics
)

// AllStages lists every stage; the sink and the search index are left out
// when they are disabled, webhook delivery when no queue has an endpoint,
// notification when no channel is configured.
var AllStages = []string{Ingest, Match, Enrich, Route, Sink, Index, Deliver, Notify}

// Taps are optional readers of the pipeline's outputs, for earshot run.
type Taps struct {
	Alert func(*post.Item)       // every alert, from every queue
	Dead  func(*post.DeadLetter) // every dead letter
	// Delete, when set, is given every delete of a post at its source
	// (off the enriched topic, under its own group), so that what shows
	// the deleted post in memory can drop it.
	Delete func(*post.Item)
	// Flush, when set, makes what Alert was given durable (written to
	// stdout); the alert tap calls it before it commits what it read, so a
	// file source's checkpoint never passes an alert still in a buffer.
	Flush func() error
}

// Pipeline is a set of stage runners over one transport.
type Pipeline struct {
	cfg     Config
	topics  Topics
	tr      stream.Transport
	mem     *stream.Memory  // set in embedded mode, and for the in-memory hops of a chain
	tracker *stream.Tracker // set with mem: what the source's checkpoint may cover
	kafka   *stream.Kafka   // set in distributed mode
	chain   bool            // the stages here are a chain, in-memory between them (NewChain)
	log     *slog.Logger
	policy  *route.Policy     // as loaded at start: its queues are the topics set up
	live    *route.Live       // the policy in force, reloaded when its files change
	owned   []match.Account   // the organisation's own accounts (route.org), for to:@owned
	markets map[string]string // country → market (route.org markets), for market: and the market tag
	// watchState is the watchlists directory's state before it was loaded,
	// so that the reload job recompiles only a changed set.
	watchState reload.Sum
	reloads    *reload.Metrics // of the watchlists and the routing files
	matcher    *match.Matcher
	search     *search.Index               // set when the index stage runs here
	push       *ingest.Push                // set when the source is the push endpoint
	follow     func(context.Context) error // keeps the matcher on the published watchlist set
	source     *stream.SourceRunner
	runners    map[string]*stream.Runner
	outputs    map[string][]string // topics each runner writes, closed after it in embedded mode
	out        stream.Producer
	metrics    *stream.Metrics
	taps       []func(context.Context) error
	jobs       []func(context.Context) // background work that lives as long as the stages
	notifier   *notify.Notifier        // set when the notify stage runs here (digests send through it)
	closers    []func() error
	// consumers are closed together, before the closers: each waits out
	// the fetch in progress (up to a second) to leave its group, so one
	// after another the sink's eight took seconds.
	consumers []stream.Consumer

	deskReaders map[string]bool // runners reading the desk topic, which no stage writes

	alerts, dead int64 // seen by the taps
	mu           sync.Mutex
	volume       atomic.Int64 // volume records the match stage here passed on
}

// New builds the given stages. In embedded mode (memory transport) stages
// must be all of them. In distributed mode it waits for Kafka, retrying,
// and creates the topics the stages use. Configuration problems (a policy
// or watchlist that does not load, stages that do not go together) are
// ErrConfig.
func New(ctx context.Context, cfg Config, stages []string, taps Taps, reg prometheus.Registerer, log *slog.Logger) (*Pipeline, error) {
	p, err := build(ctx, cfg, stages, false, taps, reg, log)
	return p, Classify(err)
}

// NewChain builds, in distributed mode, the source and the stages after
// it (Chain) as one process: the topics between them are in-memory
// queues, the chain's outputs go to Kafka as from separate processes. The
// source's checkpoint, if it keeps one, then moves only past posts whose
// records the chain's last stage has produced to Kafka.
func NewChain(ctx context.Context, cfg Config, with []string, reg prometheus.Registerer, log *slog.Logger) (*Pipeline, error) {
	stages, err := Chain(cfg, with)
	if err != nil {
		return nil, err
	}
	p, err := build(ctx, cfg, stages, true, Taps{}, reg, log)
	return p, Classify(err)
}

// Chainable are the stages that can run in the ingest process, in order:
// each one's input topic has no other reader, so it need not go through
// Kafka. Route's input, the enriched topic, is the sink's and the search
// index's too.
var Chainable = []string{Match, Enrich}

// Chain is the ingest stage followed by with, which must be the first
// stages of Chainable (match, or match and enrich), in distributed mode.
func Chain(cfg Config, with []string) ([]string, error) {
	if cfg.Transport.Kind != "kafka" {
		return nil, ConfigError(fmt.Errorf("--with %s: a chain of stages is for distributed mode (transport.kind: kafka); embedded mode runs every stage in one process already", strings.Join(with, ",")))
	}
	if len(with) == 0 || len(with) > len(Chainable) || !slices.Equal(with, Chainable[:len(with)]) {
		return nil, ConfigError(fmt.Errorf("--with %s: want match or match,enrich, the stages after ingest in order (route's input is read by the sink and the index too, so it stays on Kafka)", strings.Join(with, ",")))
	}
	if q := cfg.Transport.QueueSize; q < 1 || q > MaxQueueSize {
		// Validate checks it in embedded mode only; a chain's queues are the same.
		return nil, ConfigError(fmt.Errorf("--with %s: transport.queue_size: %d, want 1 to %d (the chain's in-memory queues)", strings.Join(with, ","), q, MaxQueueSize))
	}
	return append([]string{Ingest}, with...), nil
}

// localTopics are the topics between the stages of a chain.
func (p *Pipeline) localTopics(has func(string) bool) []string {
	var local []string
	if has(Ingest) && has(Match) {
		local = append(local, p.topics.Posts())
	}
	if has(Match) && has(Enrich) {
		local = append(local, p.topics.Matched())
	}
	return local
}

// build is New in the order of its steps: what runs here, what it loads,
// the transport, then the runners from the last stage back to the source
// (an in-memory topic only delivers to groups that exist when a record is
// produced).
func build(ctx context.Context, cfg Config, stages []string, chain bool, taps Taps, reg prometheus.Registerer, log *slog.Logger) (_ *Pipeline, err error) {
	if cfg.Match.Store != "" && cfg.Match.Follow == "" && slices.Contains(stages, Match) {
		// The matcher reloads the store's live set, which approvals rewrite.
		dir, err := storeLiveDir(cfg, log)
		if err != nil {
			return nil, err
		}
		cfg.Match.Watchlists = dir
	}
	p := &Pipeline{cfg: cfg, topics: NewTopics(cfg.Transport.TopicPrefix), log: log, runners: map[string]*stream.Runner{}, outputs: map[string][]string{},
		reloads: reload.NewMetrics(reg), chain: chain}
	defer func() {
		if err != nil {
			p.release() // what was opened before the failure
		}
	}()
	stages, err = cfg.stagesHere(stages)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkSecrets(stages); err != nil {
		return nil, err // before waiting for Kafka: a missing secret is found at once
	}
	has := func(s string) bool { return slices.Contains(stages, s) }
	if err := p.load(has, taps.Alert != nil); err != nil {
		return nil, err
	}
	if err := p.openTransport(ctx, reg, has); err != nil {
		return nil, err
	}
	if has(Match) && cfg.Match.Follow == "kafka" {
		if _, err := p.followWatchlists(ctx); err != nil {
			return nil, err
		}
	}
	p.metrics = stream.NewMetrics(reg)
	if p.out, err = p.tr.Producer(); err != nil {
		return nil, err
	}
	p.closers = append(p.closers, p.out.Close)
	for _, add := range []func(context.Context, func(string) bool, prometheus.Registerer) error{p.addStages, p.addStores, p.addDelivery, p.addNotify} {
		if err := add(ctx, has, reg); err != nil {
			return nil, err
		}
	}
	if err := p.addTaps(taps); err != nil {
		return nil, err
	}
	if has(Ingest) {
		src, closer, err := ingest.OpenWith(cfg.Ingest, ingest.Options{Registerer: reg, Logger: log, OnPush: func(pu *ingest.Push) { p.push = pu }})
		if err != nil {
			return nil, err
		}
		p.closers = append(p.closers, closer.Close)
		p.source = &stream.SourceRunner{Name: Ingest, Src: src, Out: p.out, Topic: p.topics.Posts(), DeadTopic: p.topics.Dead(), BatchSize: cfg.Ingest.BatchSize, Log: log, Metrics: p.metrics, Tracker: p.tracker}
		if p.mem == nil {
			p.source.Pace = cfg.Transport.Kafka.BatchInterval // in-memory queues cost nothing per call
		}
	}
	return p, nil
}

// stagesHere are the stages this process runs: the sink, the search index
// and webhook delivery only when enabled.
func (c *Config) stagesHere(stages []string) ([]string, error) {
	if !c.Sink.Enabled {
		stages = slices.DeleteFunc(slices.Clone(stages), func(s string) bool { return s == Sink })
	}
	if !c.Search.Enabled {
		if slices.Equal(stages, []string{Index}) {
			return nil, ConfigError(errors.New("search.enabled is false: earshot index has nothing to do"))
		}
		stages = slices.DeleteFunc(slices.Clone(stages), func(s string) bool { return s == Index })
	}
	if len(c.Webhook.Endpoints) == 0 {
		stages = slices.DeleteFunc(slices.Clone(stages), func(s string) bool { return s == Deliver })
	}
	if len(c.Notify.Channels) == 0 {
		if slices.Equal(stages, []string{Notify}) {
			return nil, ConfigError(errors.New("notify.channels is empty: earshot notify has nothing to do"))
		}
		stages = slices.DeleteFunc(slices.Clone(stages), func(s string) bool { return s == Notify })
	}
	if c.Transport.Kind == "memory" {
		for _, s := range AllStages {
			if s != Sink && s != Index && s != Deliver && s != Notify && !slices.Contains(stages, s) {
				return nil, ConfigError(fmt.Errorf("embedded mode (transport.kind: memory) runs every stage in one process; use transport.kind: kafka to run %v alone", stages))
			}
		}
	}
	return stages, nil
}

// CheckSecrets reads the secrets the process named (Run, a stage name or
// API) reads when it starts, and only those, reporting each one missing
// with its key and its variable or file (ErrConfig): what a deployment
// must give that process (deploy/ops checks the chart and compose with
// it). Config.Validate, which every process runs, checks that each secret
// is named well but reads none. NewProcess calls it first. With are the
// stages an ingest process runs after it (ProcessOptions.With).
func (c *Config) CheckSecrets(process string, with ...string) error {
	stages := append([]string{process}, with...)
	switch process {
	case Run:
		stages = AllStages
	case API:
		stages = nil
	}
	errs := []error{c.checkSecrets(stages)}
	pushViaAPI := process == Ingest && c.Ingest.Source == "push" && c.Ingest.Push.Addr == ""
	if (process == Run || process == API || pushViaAPI) && c.API.Addr != "" {
		// the API's key pair, and ClickHouse, where its alerts and cookbook are
		errs = append(errs, c.API.ReadSecrets(), c.Sink.ReadSecrets())
	}
	return ConfigError(errors.Join(errs...))
}

// checkSecrets reads the secrets of the stages here, and only theirs: the
// source's tokens (ingest); the ClickHouse password and client certificate
// (sink, and route, whose escalations read the stored alerts); the
// endpoints' signing secrets (webhook) and the channels' secrets (notify).
func (c *Config) checkSecrets(stages []string) error {
	has := func(s string) bool { return slices.Contains(stages, s) }
	var errs []error
	if has(Ingest) {
		errs = append(errs, c.Ingest.ReadSecrets())
	}
	if has(Sink) || has(Route) {
		errs = append(errs, c.Sink.ReadSecrets())
	}
	if has(Deliver) {
		errs = append(errs, c.Webhook.Validate(os.Getenv))
	}
	if has(Notify) {
		errs = append(errs, c.Notify.Validate(os.Getenv))
	}
	return ConfigError(errors.Join(errs...))
}

// load reads the routing policy and organisation and the watchlists, as
// far as the stages here need them.
func (p *Pipeline) load(has func(string) bool, tapAlerts bool) error {
	cfg := p.cfg
	var err error
	if has(Route) || has(Deliver) || has(Notify) || has(Sink) || tapAlerts {
		if p.policy, err = route.Load(cfg.Route); err != nil {
			return err
		}
		p.live = route.NewLive(p.policy, cfg.Route)
	}
	if has(Match) || has(Enrich) {
		if p.owned, p.markets, err = orgFacts(cfg); err != nil {
			return err
		}
	}
	if has(Match) && cfg.Match.Follow == "" {
		// The state before the load: reloads start from it (WatchFrom).
		p.watchState, _ = match.DirState(cfg.Match.Watchlists)
		lists, err := match.LoadDir(cfg.Match.Watchlists)
		if err != nil {
			return err
		}
		if p.matcher, err = match.NewWith(lists, p.matchOptions()); err != nil {
			return ConfigError(err)
		}
		p.log.Info("watchlists loaded", "count", len(lists), "keywords", p.matcher.Engine().Keywords(), "dir", cfg.Match.Watchlists)
	}
	return nil
}

// openTransport opens the in-memory queues, or waits for Kafka and creates
// the topics, with in-memory queues between the stages of a chain. A Kafka
// transport counts its requests to the brokers on reg.
func (p *Pipeline) openTransport(ctx context.Context, reg prometheus.Registerer, has func(string) bool) error {
	switch p.cfg.Transport.Kind {
	case "memory":
		p.mem = stream.NewMemory(p.cfg.Transport.QueueSize)
		p.tracker = stream.NewTracker()
		p.mem.Track(p.tracker) // before any consumer exists
		p.tr = p.mem
		p.closers = append(p.closers, p.tr.Close)
	case "kafka":
		k, err := stream.NewKafka(p.cfg.Transport.Kafka, p.topics.Dead(), p.log)
		if err != nil {
			return err
		}
		// The topics between stages carry up to batch_items items per
		// record; the alert queues, which other programs read, one each.
		k.BatchTopics(p.topics.Batched()...)
		k.Register(reg)
		p.tr, p.kafka = k, k
		if p.chain {
			p.mem = stream.NewMemory(p.cfg.Transport.QueueSize)
			p.tracker = stream.NewTracker()
			p.mem.Track(p.tracker) // before any consumer exists
			// Its hops end a batch as the Kafka ones do, not at runner.linger.
			p.mem.Pace(p.cfg.Transport.Kafka.FetchIdle, p.cfg.Transport.Kafka.BatchInterval)
			p.tr = stream.NewSplit(p.mem, k, p.localTopics(has)...)
		}
		p.closers = append(p.closers, p.tr.Close)
		if err := k.WaitReady(ctx); err != nil {
			return err
		}
		// Every topic, the chain's in-memory ones too: a process of one
		// stage may read them on another run.
		return k.EnsureTopics(ctx, p.allTopics()...)
	}
	return nil
}

// addRunner adds a stage runner reading in under its own consumer group.
func (p *Pipeline) addRunner(name, in string, stage stream.Stage, topic func(*post.Item) string, rc stream.RunnerConfig, outputs ...string) error {
	c, err := p.tr.Consumer(p.topics.Group(name), in)
	if err != nil {
		return fmt.Errorf("%s: consuming %s: %w", name, in, err)
	}
	p.consumers = append(p.consumers, c)
	p.outputs[name] = outputs
	p.runners[name] = &stream.Runner{Name: name, In: c, Out: p.out, Stage: stage, Topic: topic, DeadTopic: p.topics.Dead(), Config: rc, Log: p.log, Metrics: p.metrics}
	return nil
}

// addStoreRunner adds a runner of a store — the sink, the search index —
// whose batches end at its linger (sink.flush_interval, search.linger) or
// its batch size, never at a pause of transport.kafka.fetch_idle: at a
// moderate rate that pause comes every few milliseconds, and each batch is
// an insert per table, a part ClickHouse writes and then merges (a segment
// bleve writes and merges, for the index). Rows (alerts on the desk too)
// reach ClickHouse up to flush_interval later, posts the index up to
// search.linger; the alert topics, which responders are notified from, do
// not wait for either.
func (p *Pipeline) addStoreRunner(name, in string, stage stream.Stage, topic func(*post.Item) string, rc stream.RunnerConfig, outputs ...string) error {
	if err := p.addRunner(name, in, stage, topic, rc, outputs...); err != nil {
		return err
	}
	stream.WaitOutLinger(p.runners[name].In)
	return nil
}

func to(topic string) func(*post.Item) string { return func(*post.Item) string { return topic } }

// addStages adds match, enrich and route.
func (p *Pipeline) addStages(_ context.Context, has func(string) bool, reg prometheus.Registerer) error {
	cfg := p.cfg
	if has(Match) {
		if err := p.addRunner(Match, p.topics.Posts(), p.matchStage(p.matcher.Stage(), has(Sink)), p.topics.matchTopic, cfg.Runner, p.topics.Matched(), p.topics.Volume()); err != nil {
			return err
		}
	}
	if has(Enrich) {
		if err := p.addRunner(Enrich, p.topics.Matched(), enrich.New(p.enrichConfig()).Stage(), to(p.topics.Enriched()), cfg.Runner, p.topics.Enriched()); err != nil {
			return err
		}
	}
	if !has(Route) {
		return nil
	}
	var timers *route.Timers
	if !cfg.Sink.Enabled {
		// No ClickHouse holds the alerts: the stage keeps its timed
		// escalations in memory for the escalation job.
		timers = p.live.KeepTimers()
	}
	queues := []string{p.topics.Suppressed()}
	for _, q := range p.policy.AllQueues() {
		queues = append(queues, p.topics.Alerts(q))
	}
	p.live.RecordSuppressions()
	if err := p.addRunner(Route, p.topics.Enriched(), observeAlertLatency(countSuppressed(p.live.Stage(time.Now), reg), reg), p.topics.routeTopic, cfg.routeRunner(), queues...); err != nil {
		return err
	}
	if cfg.Route.ReloadInterval > 0 {
		log := p.log.With("component", "routing")
		w := p.live.Watcher(cfg.Route, cfg.Route.ReloadInterval, log)
		w.Metrics = p.reloads
		p.jobs = append(p.jobs, func(ctx context.Context) { w.Run(ctx, p.live.State()) })
	}
	return p.addEscalation(p.out, timers)
}

// addStores adds the sink and the search index.
func (p *Pipeline) addStores(ctx context.Context, has func(string) bool, reg prometheus.Registerer) error {
	cfg := p.cfg
	if has(Sink) {
		conn, err := sink.Open(cfg.Sink)
		if err != nil {
			return err
		}
		p.closers = append(p.closers, conn.Close)
		if err := sink.Check(ctx, conn); err != nil {
			return err // an untrusted certificate or a refused password: retrying cannot help
		}
		s := sink.NewWith(conn, cfg.Sink, sink.Options{Registerer: reg, Logger: p.log})
		if err := p.addStoreRunner(Sink, p.topics.Enriched(), s.Stage(), to(""), cfg.sinkRunner()); err != nil {
			return err
		}
		if err := p.addSinkRunners(s, p.addStoreRunner); err != nil {
			return err
		}
	}
	if has(Index) {
		// Its own consumer group on the enriched topic: a slow or failing
		// index never holds up the sink (its stage dead-letters what it
		// cannot write instead of retrying).
		idx, err := search.OpenWith(cfg.Search, search.Options{Logger: p.log, Registerer: reg})
		if err != nil {
			return err
		}
		p.closers = append(p.closers, idx.Close)
		p.search = idx
		return p.addStoreRunner(Index, p.topics.Enriched(), idx.Stage(), to(""), cfg.searchRunner())
	}
	return nil
}

// addDelivery adds a webhook runner for each queue with an endpoint.
func (p *Pipeline) addDelivery(_ context.Context, has func(string) bool, _ prometheus.Registerer) error {
	if !has(Deliver) {
		return nil
	}
	queues := p.policy.AllQueues()
	for q, e := range p.cfg.Webhook.Endpoints {
		if !slices.Contains(queues, q) {
			return ConfigError(fmt.Errorf("webhook.endpoints.%s: %q is not a queue of the routing policy", q, q))
		}
		rc := p.cfg.Runner
		rc.BatchSize, rc.Linger, rc.Workers = 50, 0, 1 // one HTTP call per alert: small batches commit often
		sender, err := webhook.NewSenderFromEnv(e)
		if err != nil {
			return ConfigError(fmt.Errorf("webhook.endpoints.%s: %w", q, err))
		}
		if err := p.addRunner(Deliver+"."+q, p.topics.Alerts(q), sender.Stage(), to(""), rc); err != nil {
			return err
		}
	}
	return nil
}

// addNotify adds a runner for each (channel, queue) pair of the notify
// channels, so that a channel that is down holds back only itself, and the
// job that sends the rate limits' digests.
func (p *Pipeline) addNotify(_ context.Context, has func(string) bool, reg prometheus.Registerer) error {
	if !has(Notify) {
		return nil
	}
	n, err := notify.New(p.cfg.Notify, os.Getenv, reg, p.log)
	if err != nil {
		return ConfigError(err)
	}
	for _, ch := range slices.Sorted(maps.Keys(n.Teams())) {
		if team := n.Teams()[ch]; !p.policy.HasTeam(team) {
			return ConfigError(fmt.Errorf("notify.channels.%s.team: %q is not a team of route.org (a channel with a team pages while that team works the queue)", ch, team))
		}
	}
	live := p.live
	n.FollowTheSun(func(q string, t time.Time) string { return live.Policy().Pager(q, t) })
	queues := p.policy.AllQueues()
	for _, r := range n.Routes() {
		channel, q := r[0], r[1]
		if !slices.Contains(queues, q) {
			return ConfigError(fmt.Errorf("notify.channels.%s.queues: %q is not a queue of the routing policy", channel, q))
		}
		rc := p.cfg.Runner
		rc.BatchSize, rc.Linger, rc.Workers = 50, 0, 1 // one HTTP call per alert: small batches commit often
		if err := p.addRunner(Notify+"."+channel+"."+q, p.topics.Alerts(q), n.Stage(channel, q), to(""), rc); err != nil {
			return err
		}
	}
	// The desk's resolves, one runner per channel, so a channel that is
	// down holds back only itself here too.
	for _, channel := range slices.Sorted(maps.Keys(p.cfg.Notify.Channels)) {
		rc := p.cfg.Runner
		rc.BatchSize, rc.Linger, rc.Workers = 50, 0, 1
		name := Notify + "." + channel + ".desk"
		if err := p.addRunner(name, p.topics.Desk(), n.ResolveStage(channel), to(""), rc); err != nil {
			return err
		}
		if p.deskReaders == nil {
			p.deskReaders = map[string]bool{}
		}
		p.deskReaders[name] = true
	}
	p.jobs = append(p.jobs, n.Run)
	p.notifier = n
	return nil
}

func (p *Pipeline) allTopics() []string {
	ts := []string{p.topics.Posts(), p.topics.Matched(), p.topics.Enriched(), p.topics.Dead(), p.topics.Volume()}
	if p.policy != nil {
		ts = append(ts, p.topics.Suppressed())
		for _, q := range p.policy.AllQueues() {
			ts = append(ts, p.topics.Alerts(q))
		}
	}
	if len(p.cfg.Notify.Channels) > 0 {
		ts = append(ts, p.topics.Desk())
	}
	return ts
}

// TellResolve passes an alert resolved on the desk to the notify stage
// (the desk topic), and returns once the transport has it.
func (p *Pipeline) TellResolve(ctx context.Context, it *post.Item) error {
	return p.out.Produce(ctx, []stream.Out{{Topic: p.topics.Desk(), Key: it.Key(), Item: it}})
}

func (p *Pipeline) addTaps(taps Taps) error {
	tap := func(topic, group string, fn func(stream.Delivery), flush func() error) error {
		c, err := p.tr.Consumer(group, topic)
		if err != nil {
			return fmt.Errorf("tapping %s: %w", topic, err)
		}
		p.consumers = append(p.consumers, c)
		log := p.log.With("component", "tap", "topic", topic)
		p.taps = append(p.taps, func(ctx context.Context) error { return stream.DrainFlush(ctx, c, log, fn, flush) })
		return nil
	}
	if taps.Alert != nil {
		for _, q := range p.policy.AllQueues() {
			err := tap(p.topics.Alerts(q), p.topics.Group("printer"), func(d stream.Delivery) {
				if d.Item != nil && d.Item.Alert != nil {
					p.count(&p.alerts)
					taps.Alert(d.Item)
				}
			}, taps.Flush)
			if err != nil {
				return err
			}
		}
	}
	if taps.Delete != nil {
		err := tap(p.topics.Enriched(), p.topics.Group("deletes"), func(d stream.Delivery) {
			if d.Item != nil && d.Item.Post != nil && d.Item.Post.Kind == post.KindDelete {
				taps.Delete(d.Item)
			}
		}, nil)
		if err != nil {
			return err
		}
	}
	if taps.Dead != nil {
		return tap(p.topics.Dead(), p.topics.Group("deadletter-log"), func(d stream.Delivery) {
			p.count(&p.dead)
			if d.Dead == nil {
				d.Dead = &post.DeadLetter{Stage: "deadletter", Reason: fmt.Sprintf("unreadable dead letter: %v", d.Err), Class: post.ClassDecode, Raw: post.Cut(d.Raw)}
			}
			taps.Dead(d.Dead)
		}, nil)
	}
	return nil
}

func (p *Pipeline) count(n *int64) {
	p.mu.Lock()
	*n++
	p.mu.Unlock()
}

// Stats are the totals of every stage in this process.
type Stats struct {
	Stages      map[string]stream.Stats
	AlertsSeen  int64 // by the alert tap
	DeadSeen    int64 // by the dead-letter tap
	DeadLetters int64 // produced by the stages here
	Volume      int64 // volume records among the match stage's output, for the sink: not matched posts
}

// Stats returns the totals so far.
func (p *Pipeline) Stats() Stats {
	s := Stats{Stages: map[string]stream.Stats{}}
	if p.source != nil {
		s.Stages[Ingest] = p.source.Stats()
	}
	for name, r := range p.runners {
		s.Stages[name] = r.Stats()
	}
	for _, st := range s.Stages {
		s.DeadLetters += st.Dead
	}
	p.mu.Lock()
	s.AlertsSeen, s.DeadSeen = p.alerts, p.dead
	p.mu.Unlock()
	s.Volume = p.volume.Load()
	return s
}

// Stalled names the stages whose oldest batch in flight is older than
// after, each with that age, in pipeline order.
func (p *Pipeline) Stalled(after time.Duration) []string {
	ages := map[string]time.Duration{}
	if p.source != nil {
		ages[Ingest] = p.source.Stats().Oldest
	}
	for name, r := range p.runners {
		ages[name] = r.Oldest()
	}
	names := slices.Sorted(maps.Keys(ages))
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(stageOrder(a), stageOrder(b)) })
	var out []string
	for _, name := range names {
		if ages[name] > after {
			out = append(out, name+" "+ages[name].Round(time.Second).String())
		}
	}
	return out
}

// stageOrder is a stage's place in AllStages; the sink's other runners
// (sink.volume, sink.alerts.<queue>) sort with the sink.
func stageOrder(name string) int {
	base, _, _ := strings.Cut(name, ".")
	if i := slices.Index(AllStages, base); i >= 0 {
		return i
	}
	return len(AllStages)
}

// Run runs the stages until ctx ends. In distributed mode every stage then
// stops fetching, finishes and commits what it holds, and returns. In
// embedded mode only the source stops; each stage drains its queue before the
// next one is told its input is closed, so nothing accepted is dropped.
// Draining is bounded by the runner's shutdown timeout.
func (p *Pipeline) Run(ctx context.Context) error {
	stageCtx := ctx
	if p.mem != nil {
		var cancel context.CancelFunc
		stageCtx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		stop := context.AfterFunc(ctx, func() { time.AfterFunc(p.cfg.Runner.ShutdownTimeout, cancel) })
		defer stop()
	}
	closeTopic := func(topics ...string) {
		if p.mem != nil {
			for _, t := range topics {
				p.mem.CloseTopic(t)
			}
		}
	}
	var (
		wg     sync.WaitGroup
		errMu  sync.Mutex
		errs   []error
		stages sync.WaitGroup // everything that may produce dead letters
		// upstream is every stage but the desk topic's readers: no stage
		// writes that topic (the API does), so in embedded mode it is
		// closed once they are done, for its readers to drain and stop.
		upstream sync.WaitGroup
	)
	fail := func(name string, err error) {
		if err != nil {
			errMu.Lock()
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			errMu.Unlock()
		}
	}
	start := func(name string, run func() error, then ...string) {
		wg.Add(1)
		stages.Add(1)
		desk := p.deskReaders[name]
		if !desk {
			upstream.Add(1)
		}
		go func() {
			defer wg.Done()
			defer stages.Done()
			if !desk {
				defer upstream.Done()
			}
			fail(name, run())
			closeTopic(then...)
		}()
	}
	if p.source != nil {
		start(Ingest, func() error { return p.source.Run(ctx, p.cfg.Runner.ShutdownTimeout) }, p.topics.Posts())
	}
	for name, r := range p.runners {
		start(name, func() error { return r.Run(stageCtx) }, p.outputs[name]...)
	}
	for _, tap := range p.taps {
		wg.Go(func() { fail("tap", tap(stageCtx)) })
	}
	watchCtx, stopWatch := context.WithCancel(stageCtx)
	defer stopWatch()
	cp := p.startJobs(watchCtx, &wg, fail)
	if len(p.deskReaders) > 0 {
		wg.Go(func() {
			upstream.Wait()
			closeTopic(p.topics.Desk())
		})
	}
	wg.Go(func() {
		stages.Wait()
		stopWatch()
		closeTopic(p.topics.Dead())
	})
	wg.Wait()
	if cp != nil {
		// Everything drained has been handled; what was abandoned (the
		// shutdown timeout) holds the checkpoint back, to be read again.
		fail(Ingest, p.saveCheckpoint(cp))
	}
	if p.push != nil {
		// What is still waiting will not be handed on by this run: its
		// senders are told so (503) rather than left to their timeout.
		p.push.Abandon()
	}
	p.release()
	return errors.Join(errs...)
}

// release closes the consumers, then everything else the pipeline opened,
// in the reverse order of opening.
func (p *Pipeline) release() {
	p.closeConsumers()
	for _, c := range slices.Backward(p.closers) {
		if err := c(); err != nil {
			p.log.Debug("closing", "err", err)
		}
	}
}

// startJobs starts the background work that lives as long as the stages:
// the jobs, the watchlists' reload or follow, and the source's checkpoint
// tracker, whose checkpointer it returns (nil: none).
func (p *Pipeline) startJobs(ctx context.Context, wg *sync.WaitGroup, fail func(string, error)) stream.Checkpointer {
	for _, job := range p.jobs {
		wg.Go(func() { job(ctx) })
	}
	if p.follow != nil {
		wg.Go(func() { fail("watchlists", p.follow(ctx)) })
	} else if p.matcher != nil && p.cfg.Match.ReloadInterval > 0 {
		w := match.Watcher(p.cfg.Match.Watchlists, p.cfg.Match.ReloadInterval, p.matcher, p.log)
		w.Metrics = p.reloads
		wg.Go(func() { w.Run(ctx, p.watchState) })
	}
	cp, _ := p.sourceCheckpointer()
	if cp != nil {
		every := p.cfg.Ingest.Live.CursorEvery
		if p.cfg.Ingest.Source == "file" {
			every = p.cfg.Ingest.File.CheckpointEvery
		}
		every = max(every, 10*time.Millisecond)
		if p.cfg.Ingest.Source == "push" {
			every = 0 // its senders wait for their 202: at once, without a ticker
		}
		wg.Go(func() { p.tracker.Run(ctx, cp, every, p.log) })
	}
	return cp
}

// saveCheckpoint saves the source's checkpoint as far as every batch was
// handled, when the stages have stopped.
func (p *Pipeline) saveCheckpoint(cp stream.Checkpointer) error {
	err := p.tracker.Save(cp, true)
	if n := p.tracker.Pending(); n > 0 {
		p.log.Warn("stopped with source batches not fully processed; a restart reads them again", "component", "tracker", "batches", n)
	}
	return err
}

// sourceCheckpointer is the source when it keeps a checkpoint that this
// process's tracker moves (embedded mode).
func (p *Pipeline) sourceCheckpointer() (stream.Checkpointer, bool) {
	if p.source == nil || p.tracker == nil {
		return nil, false
	}
	cp, ok := p.source.Src.(stream.Checkpointer)
	return cp, ok
}

// closeConsumers closes every consumer at once.
func (p *Pipeline) closeConsumers() {
	var wg sync.WaitGroup
	for _, c := range p.consumers {
		wg.Go(func() {
			if err := c.Close(); err != nil {
				p.log.Debug("closing a consumer", "err", err)
			}
		})
	}
	wg.Wait()
}

// followWatchlists builds the matcher from the watchlist set published on
// Kafka and prepares to follow its changes.
func (p *Pipeline) followWatchlists(ctx context.Context) (*match.Matcher, error) {
	k := p.kafka
	if k == nil {
		return nil, errors.New("match.follow: kafka needs transport.kind: kafka")
	}
	topic := p.topics.Watchlists()
	if err := k.EnsureTable(ctx, topic); err != nil {
		return nil, err
	}
	table, next, err := k.ReadTable(ctx, topic)
	if err != nil {
		return nil, err
	}
	source := "kafka:" + topic
	lists, err := match.ParseTable(source, table)
	if err != nil {
		return nil, ConfigError(err)
	}
	if len(lists) == 0 {
		return nil, fmt.Errorf("no watchlists are published on %s: publish them with `earshot watchlist publish`", topic)
	}
	m, err := match.NewWith(lists, p.matchOptions())
	if err != nil {
		return nil, ConfigError(err)
	}
	p.log.Info("watchlists loaded", "count", len(lists), "keywords", m.Engine().Keywords(), "topic", topic)
	p.matcher = m
	log := p.log.With("component", "watchlists", "topic", topic)
	p.follow = func(ctx context.Context) error {
		return k.FollowTable(ctx, topic, table, next, time.Second, func(t map[string][]byte) {
			lists, err := match.ParseTable(source, t)
			if err == nil {
				err = m.Swap(lists)
			}
			p.reloads.Observe("watchlists", err)
			if err != nil {
				log.Error("published watchlists do not load; keeping the live set", "err", err)
				return
			}
			log.Info("watchlists reloaded", "watchlists", len(lists), "keywords", m.Engine().Keywords())
		})
	}
	return m, nil
}

// matchOptions gives the matcher the team quota and the same regions as
// enrichment, so region: in a rule and the region tag agree.
func (p *Pipeline) matchOptions() match.Options {
	return match.Options{TeamQuota: p.cfg.Match.TeamQuota, Regions: region.Map(p.cfg.Enrich.Regions), Owned: p.owned, Markets: p.markets}
}

// enrichConfig is enrich's configuration with the markets of the org file.
func (p *Pipeline) enrichConfig() enrich.Config {
	c := p.cfg.Enrich
	c.Markets = p.markets
	return c
}

// MatchOptions are the options watchlists compile with under cfg: the
// team quota, the regions of enrich.regions, and the organisation's own
// accounts from route.org (for to:@owned), so that a watchlist checked
// outside the matcher (the store, watchlist validate) is checked alike.
func MatchOptions(cfg Config) (match.Options, error) {
	o := match.Options{TeamQuota: cfg.Match.TeamQuota, Regions: region.Map(cfg.Enrich.Regions)}
	var err error
	o.Owned, o.Markets, err = orgFacts(cfg)
	return o, err
}

// orgFacts reads what matching and enrichment take from route.org ("" is
// none): the organisation's own accounts (those of its markets too) and
// its markets, country → market.
func orgFacts(cfg Config) ([]match.Account, map[string]string, error) {
	if cfg.Route.Org == "" {
		return nil, nil, nil
	}
	o, err := route.LoadOrgIn(cfg.Route.Org, region.Map(cfg.Enrich.Regions))
	if err != nil {
		return nil, nil, err
	}
	var out []match.Account
	for _, a := range o.OwnedAccounts() {
		out = append(out, match.Account{Platform: a.Platform, Handle: a.Handle})
	}
	return out, region.MarketMap(o.MarketList()), nil
}

// Search is the search index this process writes, or nil: an API in the
// same process searches it (a second process cannot open it while it is
// held here).
func (p *Pipeline) Search() *search.Index { return p.search }

// Push is the push endpoint this process ingests from, or nil: an API in
// the same process serves it at POST /v1/posts when it has no address of
// its own.
func (p *Pipeline) Push() *ingest.Push { return p.push }
