package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
)

// apiPart is the HTTP API of a process: built before the pipeline (so
// its alert tap can be installed), served once the pipeline exists (for
// the search index and the push source), stopped before the pipeline
// (Process).
type apiPart struct {
	cfg     Config
	log     *slog.Logger
	srv     *api.Server
	mem     *api.MemAlerts
	hub     *api.Hub
	index   func() *search.Index
	mu      sync.Mutex
	idx     *search.Index
	push    *ingest.Push                            // the pipeline's push source, when it has no address of its own
	tell    func(context.Context, *post.Item) error // passes a desk resolve to the notify stage; nil: not yet
	closers []func()
	workers []func(context.Context) error
	ln      net.Listener
}

// newAPIPart builds the API of cfg.api. embedded: the alerts come from
// the pipeline's tap (Tap); otherwise from Kafka (live feed) and ClickHouse.
func newAPIPart(ctx context.Context, cfg Config, embedded bool, reg *prometheus.Registry, log *slog.Logger) (*apiPart, error) {
	a := &apiPart{cfg: cfg, log: log, hub: api.NewHub()}
	a.index = func() *search.Index { a.mu.Lock(); defer a.mu.Unlock(); return a.idx }
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()
	tokens, err := api.OpenTokens(cfg.API.Tokens(), nil)
	if err != nil {
		return nil, err
	}
	audit, err := api.OpenAudit(cfg.API.StateDir)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { audit.Close() })
	d := api.Deps{Tokens: tokens, Audit: audit, Hub: a.hub, Gatherer: reg, Registerer: reg, Log: log,
		Ready: map[string]func(context.Context) error{}, Digests: DigestArchive(cfg)}
	if names, err := ScopeNames(cfg); err != nil {
		log.Warn("the stored tokens' scopes are not checked", "err", err)
	} else if ts, err := tokens.List(); err == nil {
		for _, w := range api.UnknownScopes(ts, names, time.Now()) {
			log.Warn("a stored token sees nothing of part of its scope", "detail", w)
		}
	}
	if cfg.API.OIDC.Enabled() {
		if d.OIDC, err = api.NewOIDC(ctx, cfg.API.OIDC, log); err != nil {
			return nil, err
		}
		// Scope claims take the organisation's spelling; read again, for
		// an approved routing change may add a team.
		d.OIDC.SetScopeNames(func() (api.ScopeNames, error) { return ScopeNames(cfg) })
	}
	if d.Queues, err = apiQueues(cfg.Route); err != nil {
		return nil, err
	}
	// An approved routing change rewrites the organisation: who may read a
	// queue follows it (live feeds of queues added later need a restart).
	d.QueuesFrom = func() (map[string]api.QueueInfo, error) { return apiQueues(cfg.Route) }
	if cfg.Route.Policy != "" {
		// Approved routing changes are written to the files the route stage
		// reloads (route.reload_interval).
		d.Routing = &api.RoutingFiles{Policy: cfg.Route.Policy, Org: cfg.Route.Org, Proposal: filepath.Join(cfg.API.StateDir, "routing-proposal.json"), Regions: cfg.Enrich.Regions}
	}
	if err := a.addWatchlists(&d); err != nil {
		return nil, err
	}
	d.Searcher = lazySearcher(a.index)
	if cfg.Ingest.Source == "push" {
		d.PushWait = cfg.Ingest.Push.AckTimeout // a stop answers the pushes in flight
	}
	d.Push = func() api.PushTarget {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.push == nil {
			return nil // a nil *ingest.Push is not a nil PushTarget
		}
		return a.push
	}
	if cfg.Route.Org != "" {
		org, err := route.LoadOrg(cfg.Route.Org)
		if err != nil {
			return nil, err
		}
		d.ResolveDue = org.ResolveDue // as of the start: a changed target needs a restart of the API
		d.ResolveTargets = org.ResolveTargets()
	}
	// Desk resolves go to the notify stage: through the pipeline's
	// transport in earshot run, through Kafka from earshot api alone (with
	// no Kafka there is no notify process to tell).
	if len(cfg.Notify.Channels) > 0 && (embedded || cfg.Transport.Kind == "kafka") {
		d.OnResolve = func(ctx context.Context, al api.Alert) error {
			a.mu.Lock()
			tell := a.tell
			a.mu.Unlock()
			if tell == nil {
				return errors.New("the notify stage's desk topic is not open yet")
			}
			return tell(ctx, resolveItem(al))
		}
	}
	if err := a.addStores(ctx, &d, audit, embedded); err != nil {
		return nil, err
	}
	if err := a.addKafka(&d, embedded); err != nil {
		return nil, err
	}
	if a.srv, err = api.New(cfg.API, d); err != nil {
		return nil, err
	}
	if a.ln, err = listen("api", cfg.API.Addr, "api.addr in the config (earshot api: --addr)"); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// apiQueues reads who works each queue from the routing organisation (or
// the policy's queues, of no team, when there is none).
func apiQueues(rc route.Config) (map[string]api.QueueInfo, error) {
	out := map[string]api.QueueInfo{}
	if rc.Org != "" {
		org, err := route.LoadOrgIn(rc.Org, region.Map(rc.Regions))
		if err != nil {
			return nil, err
		}
		regionOf := map[string]string{}
		for _, t := range org.Teams {
			regionOf[t.Name] = t.Region
		}
		for _, q := range org.Queues {
			out[q.Name] = api.QueueInfo{Team: q.Team, Region: regionOf[q.Team], Market: org.MarketOf(q.Team)}
		}
	}
	if rc.Policy != "" {
		p, err := route.LoadPolicy(rc.Policy)
		if err != nil {
			return nil, err
		}
		for _, q := range p.Queues {
			if _, ok := out[q]; !ok {
				out[q] = api.QueueInfo{}
			}
		}
	}
	return out, nil
}

type lazySearcher func() *search.Index

func (l lazySearcher) Search(ctx context.Context, q search.Query) (*search.Result, error) {
	x := l()
	if x == nil {
		// 503 not_configured (docs/api.md), not an internal error
		return nil, &api.Error{Status: http.StatusServiceUnavailable, Code: api.CodeNotConfigured,
			Message: "the search index is not open in this process (search.enabled, and the index stage here, or earshot run)"}
	}
	return x.Search(ctx, q)
}

// Tap wraps the pipeline's alert tap so the API sees every alert too.
func (a *apiPart) Tap(next func(*post.Item)) func(*post.Item) {
	tap := api.Tap(a.mem, a.hub, a.log)
	return func(it *post.Item) {
		tap(it)
		if next != nil {
			next(it)
		}
	}
}

// DeleteTap is the pipeline's delete tap of the embedded API: a deleted
// post leaves the alerts held in memory (nil: no in-memory store).
func (a *apiPart) DeleteTap() func(*post.Item) {
	if a.mem == nil {
		return nil
	}
	return api.DeleteTap(a.mem, a.hub)
}

// setTell sets where desk resolves go: the desk topic, through the
// pipeline's producer (embedded) or the API's own (distributed).
func (a *apiPart) setTell(tell func(context.Context, *post.Item) error) {
	a.mu.Lock()
	a.tell = tell
	a.mu.Unlock()
}

// resolveItem is the desk topic's record of an alert resolved on the desk:
// the alert's item as stored (its post, for the messages), with the
// resolve on its alert.
func resolveItem(al api.Alert) *post.Item {
	it := &post.Item{}
	if len(al.Item) > 0 {
		if dec, err := post.Decode(al.Item); err == nil {
			it = dec
		}
	}
	if it.Post == nil {
		platform, id, _ := strings.Cut(al.PostKey, ":")
		it.Post = &post.Post{Platform: platform, ID: id}
	}
	a := post.Alert{ID: al.ID, Queue: al.Queue, Priority: al.Priority, Rule: al.Rule, Team: al.Team, CreatedAt: al.CreatedAt, Unstaffed: al.Unstaffed}
	a.Resolved = &post.Resolution{By: al.Desk.ResolvedBy, Outcome: al.Desk.Outcome, At: al.Desk.ResolvedAt}
	it.Alert = &a
	return it
}

// Start serves until ctx ends; the returned function waits for the end.
func (a *apiPart) Start(ctx context.Context, idx *search.Index, push *ingest.Push) func() error {
	a.mu.Lock()
	a.idx, a.push = idx, push
	a.mu.Unlock()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	run := func(f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		})
	}
	for _, w := range a.workers {
		run(w)
	}
	run(func(ctx context.Context) error { return a.srv.Serve(ctx, a.ln) })
	a.log.Info("serving the API", "addr", a.ln.Addr().String())
	return func() error {
		wg.Wait()
		a.close()
		return errors.Join(errs...)
	}
}

func (a *apiPart) close() {
	if a.ln != nil {
		a.ln.Close()
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// addWatchlists gives the API the watchlist store of match.store, when
// set, and the backtester over the search index.
func (a *apiPart) addWatchlists(d *api.Deps) error {
	_, markets, err := orgFacts(a.cfg)
	if err != nil {
		return err
	}
	if a.cfg.Match.Store != "" {
		st, closeStore, err := OpenWatchlistStore(a.cfg, nil, a.log) // the API writes its own audit records, with role and request id
		if err != nil {
			return err
		}
		a.closers = append(a.closers, closeStore)
		d.Watchlists = st
		d.Backtester = api.IndexBacktester{Index: a.index, Live: st.LiveSet, Regions: region.Map(a.cfg.Enrich.Regions), Markets: markets}
	} else {
		d.Backtester = api.IndexBacktester{Index: a.index, Live: func() ([]*match.Watchlist, error) { return nil, nil }, Regions: region.Map(a.cfg.Enrich.Regions), Markets: markets}
	}
	return nil
}

// addStores gives the API what it reads from ClickHouse (alerts, the
// cookbook) and ships the audit log there; without the sink, an embedded
// process keeps the alerts in memory.
func (a *apiPart) addStores(ctx context.Context, d *api.Deps, audit *api.Audit, embedded bool) error {
	if a.cfg.Sink.Enabled {
		conn, err := sink.Open(a.cfg.Sink)
		if err != nil {
			return err
		}
		a.closers = append(a.closers, func() { conn.Close() })
		if err := sink.Check(ctx, conn); err != nil {
			return err // an untrusted certificate or a refused password: retrying cannot help
		}
		d.Ready["clickhouse"] = func(ctx context.Context) error { return conn.Ping(ctx) }
		tables := &sink.AlertTables{Conn: conn, DB: a.cfg.Sink.Database, Cluster: a.cfg.Sink.Cluster != ""}
		chAlerts := &api.CHAlerts{Table: tables}
		d.Alerts = chAlerts
		// The desk changes made through every API process (this one's too)
		// reach this one's live feeds.
		deskFeed := &api.DeskFeed{Events: tables, Alerts: chAlerts, Hub: a.hub, Log: a.log.With("component", "api.deskfeed")}
		a.workers = append(a.workers, deskFeed.Run)
		cat, err := insights.Load()
		if err != nil {
			return err
		}
		cat.Limits = insights.DefaultConfig()
		d.Insights = insights.Bound{Catalog: cat, Conn: conn, DB: a.cfg.Sink.Database}
		d.Themes = themes.Bound{Reader: themes.ClickHouse{Conn: conn, DB: a.cfg.Sink.Database, Cluster: a.cfg.Sink.Cluster != ""}, Options: themes.DefaultOptions()}
		shipper := &api.Shipper{Table: &sink.AuditTable{Conn: conn, DB: a.cfg.Sink.Database}, Path: audit.Path(), Interval: a.cfg.API.AuditShip, Log: a.log.With("component", "api.audit")}
		a.workers = append(a.workers, shipper.Run)
	} else if embedded {
		a.mem = api.NewMemAlerts(a.cfg.API.AlertsPerQueue)
		d.Alerts = a.mem
	}
	return nil
}

// addKafka adds the Kafka readiness check and, in a process without the
// pipeline, the live feed of the queues' topics.
func (a *apiPart) addKafka(d *api.Deps, embedded bool) error {
	if a.cfg.Transport.Kind == "kafka" {
		brokers := a.cfg.Transport.Kafka.Brokers
		d.Ready["kafka"] = func(ctx context.Context) error {
			var dl net.Dialer
			var errs []error
			for _, b := range brokers {
				c, err := dl.DialContext(ctx, "tcp", b)
				if err == nil {
					c.Close()
					return nil
				}
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		}
		if !embedded {
			topics := NewTopics(a.cfg.Transport.TopicPrefix)
			k, err := stream.NewKafka(a.cfg.Transport.Kafka, topics.Dead(), a.log)
			if err != nil {
				return err
			}
			a.closers = append(a.closers, func() { k.Close() })
			if len(a.cfg.Notify.Channels) > 0 {
				prod, err := k.Producer()
				if err != nil {
					return err
				}
				a.closers = append(a.closers, func() { prod.Close() })
				a.setTell(func(ctx context.Context, it *post.Item) error {
					return prod.Produce(ctx, []stream.Out{{Topic: topics.Desk(), Key: it.Key(), Item: it}})
				})
			}
			feed := &api.LiveFeed{Source: k, Topics: map[string]string{}, Hub: a.hub, Log: a.log}
			for q := range d.Queues {
				feed.Topics[q] = topics.Alerts(q)
			}
			a.workers = append(a.workers, feed.Run)
		}
	}
	return nil
}
