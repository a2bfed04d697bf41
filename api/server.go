package api

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/earshot-dev/earshot/dashboard"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/watchlist"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI document.
func OpenAPI() []byte { return slices.Clone(openAPI) }

// WatchlistStore is what the API needs of the watchlist store
// (*watchlist.Store). The API decides who may call what; the store
// enforces the transitions and the four-eyes rule.
type WatchlistStore interface {
	List(f watchlist.Filter) []watchlist.Record
	Get(id string) (watchlist.Record, error)
	Validate(spec watchlist.Spec) error
	Apply(ctx context.Context, actor string, spec watchlist.Spec, ifVersion int) (watchlist.Record, error)
	Submit(ctx context.Context, actor, id, note string) (watchlist.Record, error)
	// ApproveVersion approves the pending revision if it is version (the
	// one reviewed); another version is watchlist.ErrConflict.
	ApproveVersion(ctx context.Context, actor, id string, version int, note string) (watchlist.Record, error)
	Reject(ctx context.Context, actor, id, note string) (watchlist.Record, error)
	Pause(ctx context.Context, actor, id, note string) (watchlist.Record, error)
	Resume(ctx context.Context, actor, id, note string) (watchlist.Record, error)
	Delete(ctx context.Context, actor, id, note string) error
	History(id string) ([]watchlist.Change, error)
}

// PushTarget takes pushed posts for an authenticated tenant
// (*ingest.Push).
type PushTarget interface {
	ServeTenant(w http.ResponseWriter, r *http.Request, tenant string)
}

// Searcher runs a search (*search.Index). Query.Scope is set by the API.
type Searcher interface {
	Search(ctx context.Context, q search.Query) (*search.Result, error)
}

// Backtester runs a draft watchlist over the posts of the last since and
// reports what it would have matched.
type Backtester interface {
	Backtest(ctx context.Context, spec watchlist.Spec, since time.Duration) (any, error)
}

// Insights lists and runs the analysts' named queries; insights.Bound is one.
type Insights interface {
	List() []insights.Query
	Run(ctx context.Context, name string, params map[string]string) (*insights.Table, error)
}

// QueueInfo says who works a queue, for scopes.
type QueueInfo struct {
	Team   string `json:"team"`
	Region string `json:"region,omitempty"` // the team's region
	Market string `json:"market,omitempty"` // the market the team serves (org.yaml markets), if one
}

// Deps are what the server serves. Nil ones answer 503 not_configured.
type Deps struct {
	Tokens     *TokenStore
	OIDC       *OIDC // nil: JWTs are not accepted
	Audit      *Audit
	Watchlists WatchlistStore
	Searcher   Searcher
	Push       func() PushTarget // the push source of this process, or nil (none, or not yet open)
	// PushWait is how long a stop waits for pushes in flight to be
	// answered (ingest.push.ack_timeout); 0: as long as any request.
	PushWait   time.Duration
	Routing    *RoutingFiles // the routing files the API manages; nil: none
	Backtester Backtester
	Insights   Insights
	Digests    DigestArchive // the rendered stakeholder digests; nil: not served
	Themes     Themes        // nil: no ClickHouse
	Alerts     AlertStore
	Hub        *Hub
	// OnResolve, when set, is told each alert resolved on the desk (again
	// on a retry of the request): the pipeline passes it to the
	// notification channels. An error answers 503, for the client to retry
	// with the same Idempotency-Key.
	OnResolve func(ctx context.Context, a Alert) error
	// ResolveDue, when set, is the resolve target of an alert of queue
	// with priority raised at created (the org file's queues.resolve), or
	// zero: each alert's sla then carries resolve_due and resolve_breached.
	ResolveDue func(queue, priority string, created time.Time) time.Time
	// ResolveTargets are the same targets (queue → priority → target, in
	// calendar time): on ClickHouse, the metrics read the alerts that may
	// be near or past one of them (ResolveDue then decides).
	ResolveTargets map[string]map[string]time.Duration
	Queues         map[string]QueueInfo // the routing organisation's queues; nil: unknown (only unscoped callers see queues)
	// QueuesFrom, when set, reads the queues again (the organisation file
	// changes when a routing change is approved): at most every few
	// seconds, so that who may read a queue follows the organisation in
	// force, not the one at startup. Queues is then the first reading.
	QueuesFrom func() (map[string]QueueInfo, error)
	Ready      map[string]func(ctx context.Context) error // checked by /readyz, e.g. kafka, clickhouse
	Gatherer   prometheus.Gatherer                        // served on /metrics
	Registerer prometheus.Registerer
	Log        *slog.Logger
}

// Server is the HTTP API.
type Server struct {
	cfg      Config
	d        Deps
	mux      *http.ServeMux
	routes   []string // registered patterns, "METHOD /path"
	metrics  *metrics
	now      func() time.Time
	limiters *limiters
	streams  chan struct{} // a slot per open live feed
	certs    *certReloader // api.tls; nil: plain HTTP

	queuesMu     sync.Mutex
	queues       map[string]QueueInfo // the last reading of d.QueuesFrom (or d.Queues)
	queuesAt     time.Time
	queuesMaxAge time.Duration

	slotsMu   sync.Mutex
	slots     map[string]int // requests in flight per kind and identity: "feed:tok_…", "query:tok_…"
	slotFreed chan struct{}  // closed (and replaced) whenever a slot is released

	readTimeout time.Duration // of a whole request (a live feed lifts it)
	// shutdownGrace is how long a stop waits for the requests in flight,
	// pushes aside (they wait for their batch, up to ingest.push.ack_timeout).
	shutdownGrace time.Duration
	authRecheck   time.Duration // how often a live feed checks its credentials again
	queryTimeout  time.Duration // of a search or a backtest
	queryWait     time.Duration // how long a query waits for one of its caller's slots
	writeTimeout  time.Duration // of writing an answer, from its first byte
}

type metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	authFail    *prometheus.CounterVec
	limited     prometheus.Counter
	auditErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, hub *Hub) *metrics {
	m := &metrics{
		requests:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_api_requests_total", Help: "API requests by route pattern and status code."}, []string{"route", "code"}),
		duration:    prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "earshot_api_request_duration_seconds", Help: "API request latency by route pattern (live feeds left out).", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9)}, []string{"route"}),
		authFail:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_api_auth_failures_total", Help: "Refused credentials by reason."}, []string{"reason"}),
		limited:     prometheus.NewCounter(prometheus.CounterOpts{Name: "earshot_api_rate_limited_total", Help: "Requests refused with 429."}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "earshot_api_audit_write_errors_total", Help: "Changes whose audit record could not be written."}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.authFail, m.limited, m.auditErrors)
		if hub != nil {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "earshot_api_live_feeds", Help: "Open server-sent event feeds."}, func() float64 { return float64(hub.Subscribers()) }))
		}
	}
	return m
}

// maxStreams bounds the open live feeds of one server, and
// maxStreamsPerIdentity those of one caller, so that one token cannot take
// every slot.
const (
	maxStreams            = 256
	maxStreamsPerIdentity = 16
)

// maxQueriesPerIdentity bounds the searches, backtests and insight queries
// one caller runs at once: each can read a month of posts, and the rate
// limit alone lets a caller start dozens before the first ends.
const maxQueriesPerIdentity = 4

// New builds the server.
func New(cfg Config, d Deps) (*Server, error) {
	if d.Tokens == nil {
		return nil, errors.New("api: a token store is required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Log = d.Log.With("component", "api")
	if d.Hub == nil {
		d.Hub = NewHub()
	}
	s := &Server{cfg: cfg, d: d, mux: http.NewServeMux(), metrics: newMetrics(d.Registerer, d.Hub), now: time.Now,
		limiters: newLimiters(rate.Limit(cfg.Rate), cfg.Burst), streams: make(chan struct{}, maxStreams),
		slots: map[string]int{}, slotFreed: make(chan struct{}), readTimeout: time.Minute, shutdownGrace: 5 * time.Second, authRecheck: 5 * time.Second,
		queryTimeout: time.Minute, queryWait: 20 * time.Second, writeTimeout: 2 * time.Minute, queues: d.Queues, queuesMaxAge: 5 * time.Second}
	if cfg.TLS.Enabled() {
		var err error
		if s.certs, err = newCertReloader(cfg.TLS, d.Log); err != nil {
			return nil, err
		}
	}
	if m, ok := d.Alerts.(*MemAlerts); ok && d.Registerer != nil {
		m.countClocks(time.Now(), d.ResolveDue)
		d.Registerer.MustRegister(deskCollector{m: m, now: time.Now})
	}
	if c, ok := d.Alerts.(*CHAlerts); ok && d.Registerer != nil {
		if dc, ok := c.Table.(DeskCounter); ok {
			c := newCHDeskCollector(dc, d.Log)
			c.start, c.resolveDue, c.targets = time.Now(), d.ResolveDue, d.ResolveTargets
			d.Registerer.MustRegister(c)
		}
	}
	s.register()
	return s, nil
}

// Routes lists the registered routes as "METHOD /path" patterns.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// handler is a route's work; an *Error it returns is the answer.
type handler func(c *call) error

// call is one request in the hands of a route.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	id    Identity
	reqID string
	s     *Server
}

func (c *call) json(status int, v any) error { writeJSON(c.w, status, v); return nil }

// public marks routes anyone may call; authenticated, routes any caller
// with valid credentials may call.
const (
	public        Action = ""
	authenticated Action = "authenticated"
)

func (s *Server) handle(pattern string, action Action, h handler) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, reqID: w.Header().Get("X-Request-Id"), s: s}
		if action != public {
			// What a token reads (or is refused) is nobody else's: no
			// browser or proxy cache keeps it for the next user.
			w.Header().Set("Cache-Control", "no-store")
			id, e := s.authenticate(r)
			if e != nil {
				if e.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="earshot"`)
					if !s.allow(w, "ip:"+clientIP(r)) {
						return
					}
				}
				writeError(w, e)
				return
			}
			c.id = id
			if !s.allow(w, "id:"+id.ID) {
				return
			}
			if action != authenticated && !id.Role.Can(action) {
				writeError(w, errorf(http.StatusForbidden, CodeForbidden, "role %s may not %s", id.Role, action))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if err := h(c); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				s.d.Log.Error("request failed", "route", pattern, "request_id", c.reqID, "err", err)
				e = errorf(http.StatusInternalServerError, CodeInternal, "internal error (request id %s)", c.reqID)
			}
			writeError(w, e)
		}
	}))
}

// allow takes a request from key's rate limit, or answers 429.
func (s *Server) allow(w http.ResponseWriter, key string) bool {
	ok, wait := s.limiters.take(key, s.now())
	if ok {
		return true
	}
	s.metrics.limited.Inc()
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeError(w, errorf(http.StatusTooManyRequests, CodeRateLimited, "rate limit of %g requests per second (burst %d); retry after %v", s.cfg.Rate, s.cfg.Burst, wait.Round(time.Millisecond)))
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate reads the bearer credentials: an earshot token (es_…) or,
// with OIDC configured, a JWT.
func (s *Server) authenticate(r *http.Request) (Identity, *Error) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" { // the scheme is case-insensitive (RFC 9110)
		s.metrics.authFail.WithLabelValues("missing").Inc()
		return Identity{}, errorf(http.StatusUnauthorized, CodeUnauthorized, "an Authorization: Bearer token is required")
	}
	var id Identity
	var err error
	switch {
	case strings.HasPrefix(tok, TokenPrefix):
		id, err = s.d.Tokens.Authenticate(tok)
	case s.d.OIDC != nil && strings.Count(tok, ".") == 2:
		id, err = s.d.OIDC.Authenticate(r.Context(), tok)
	default:
		err = ErrTokenUnknown
	}
	if err == nil {
		return id, nil
	}
	reason := "invalid"
	switch {
	case errors.Is(err, ErrTokenExpired):
		reason = "expired"
	case errors.Is(err, ErrTokenRevoked):
		reason = "revoked"
	case errors.Is(err, ErrTokenUnknown):
		reason = "unknown"
	}
	s.metrics.authFail.WithLabelValues(reason).Inc()
	if reason == "invalid" && !strings.HasPrefix(err.Error(), "oidc token") {
		s.d.Log.Error("authenticating", "err", err)
		return Identity{}, errorf(http.StatusServiceUnavailable, CodeUnavailable, "credentials could not be checked")
	}
	s.d.Log.Info("refused credentials", "reason", reason, "err", err)
	return Identity{}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "the bearer token is " + reason, Details: map[string]string{"reason": reason}}
}

var requestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ServeHTTP gives every request an id (the caller's X-Request-Id when it is
// sane), counts it, and answers unknown routes and methods in JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !requestID.MatchString(id) {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set("X-Request-Id", id)
	// A deadline left on a kept-alive connection by its previous answer
	// must not cut this one (it gets its own when it starts writing).
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, writeTimeout: s.writeTimeout}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		pattern = "unmatched"
		s.notFound(rec, r)
	} else {
		s.mux.ServeHTTP(rec, r) // sets the path values
	}
	s.metrics.requests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
	if !strings.HasSuffix(pattern, "/stream") {
		s.metrics.duration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	}
}

// notFound answers a path no route has (404) or a method the path's
// routes do not take (405, with Allow).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 && r.URL.Path == cleanPath(r.URL.Path) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, CodeMethod, "%s is not allowed here; allowed: %s", r.Method, strings.Join(allow, ", ")))
		return
	}
	writeError(w, errorf(http.StatusNotFound, CodeNotFound, "no such route: %s %s", r.Method, r.URL.Path))
}

func cleanPath(p string) string {
	if strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") {
		return ""
	}
	return p
}

// statusRecorder notes the status of an answer, and gives the writing of
// the answer writeTimeout from its first byte: a client that stops reading
// a large answer does not hold its handler (and the answer in memory) for
// ever. A live feed sets its own deadline before each event.
type statusRecorder struct {
	http.ResponseWriter
	status       int
	wrote        bool
	writeTimeout time.Duration
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote && s.writeTimeout > 0 {
		http.NewResponseController(s.ResponseWriter).SetWriteDeadline(time.Now().Add(s.writeTimeout))
	}
	s.status, s.wrote = code, true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// limiters are token buckets per key (a token id, or an address while
// unauthenticated), bounded in number.
type limiters struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*limiterEntry
}

type limiterEntry struct {
	l    *rate.Limiter
	seen time.Time
}

const maxLimiters = 10_000

func newLimiters(l rate.Limit, burst int) *limiters {
	return &limiters{limit: l, burst: burst, m: map[string]*limiterEntry{}}
}

func (ls *limiters) take(key string, now time.Time) (bool, time.Duration) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	e := ls.m[key]
	if e == nil {
		if len(ls.m) >= maxLimiters {
			// Forget the buckets idle long enough to be full again; failing
			// that, any one (a full bucket is what a new one starts as).
			full := time.Duration(float64(ls.burst)/float64(ls.limit)*float64(time.Second)) + time.Second
			for k, v := range ls.m {
				if now.Sub(v.seen) > full {
					delete(ls.m, k)
				}
			}
			for k := range ls.m {
				if len(ls.m) < maxLimiters {
					break
				}
				delete(ls.m, k)
			}
		}
		e = &limiterEntry{l: rate.NewLimiter(ls.limit, ls.burst)}
		ls.m[key] = e
	}
	e.seen = now
	r := e.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Serve serves on ln until ctx ends, then shuts down, giving requests in
// flight up to 5 s (their contexts end at once: live feeds end). A push
// (POST /v1/posts) in flight keeps its context and is waited for up to
// Deps.PushWait: the pipeline stops after the API, so the push is answered
// (202 once its posts are handed on, or 503 at ingest.push.ack_timeout)
// rather than cut or answered with nothing. With api.tls it serves HTTPS
// (HTTP/2 and HTTP/1.1), picking up a renewed certificate without a restart.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	var pushing atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/posts" {
			pushing.Add(1)
			defer pushing.Add(-1)
			s.ServeHTTP(w, r)
			return
		}
		rctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(ctx, cancel)()
		s.ServeHTTP(w, r.WithContext(rctx))
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: s.readTimeout, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return base }}
	done := make(chan error, 1)
	if s.certs != nil {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.GetCertificate}
		go func() { done <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { done <- srv.Serve(ln) }()
	}
	select {
	case err := <-done:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	grace := s.shutdownGrace
	if pushing.Load() > 0 {
		grace = max(grace, s.d.PushWait)
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	cancelBase() // what is still running past the grace is told to stop
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func (s *Server) register() {
	// The built-in dashboard: static assets, public; its data comes from
	// the API with the user's token. Not an API route, so not in the
	// OpenAPI document.
	s.mux.Handle("GET /ui/", http.StripPrefix("/ui", dashboard.Handler()))
	s.mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	s.handle("GET /healthz", public, func(c *call) error { return c.json(200, map[string]string{"status": "ok"}) })
	s.handle("GET /readyz", public, s.readyz)
	s.handle("GET /metrics", public, s.metricsHandler)
	s.handle("GET /v1/openapi.json", public, func(c *call) error {
		c.w.Header().Set("Content-Type", "application/json")
		c.w.Write(openAPI)
		return nil
	})
	s.handle("GET /v1/whoami", authenticated, func(c *call) error { return c.json(200, whoami{c.id, c.id.Role.Actions()}) })

	s.handle("GET /v1/watchlists", ReadWatchlists, s.listWatchlists)
	s.handle("POST /v1/watchlists", EditWatchlists, s.createWatchlist)
	s.handle("POST /v1/watchlists/validate", EditWatchlists, s.validateWatchlist)
	s.handle("POST /v1/watchlists/backtest", Backtest, s.backtestSpec)
	s.handle("GET /v1/watchlists/{id}", ReadWatchlists, s.getWatchlist)
	s.handle("PUT /v1/watchlists/{id}", EditWatchlists, s.putWatchlist)
	s.handle("DELETE /v1/watchlists/{id}", EditWatchlists, s.deleteWatchlist)
	s.handle("GET /v1/watchlists/{id}/history", ReadWatchlists, s.watchlistHistory)
	s.handle("POST /v1/watchlists/{id}/backtest", Backtest, s.backtestWatchlist)
	s.handle("POST /v1/watchlists/{id}/submit", EditWatchlists, s.transition("submit"))
	for _, t := range []string{"approve", "reject", "pause", "resume"} {
		s.handle("POST /v1/watchlists/{id}/"+t, ReviewWatchlists, s.transition(t))
	}

	s.handle("GET /v1/queues", ReadAlerts, s.listQueues)
	s.handle("GET /v1/queues/{queue}/alerts", ReadAlerts, s.listAlerts)
	s.handle("POST /v1/queues/{queue}/alerts/{id}/ack", AckAlerts, s.ackAlert)
	for _, action := range DeskActions {
		s.handle("POST /v1/queues/{queue}/alerts/{id}/"+deskRoutes[action], DeskAlerts, s.deskAction(action))
	}
	s.handle("GET /v1/queues/{queue}/stream", ReadAlerts, s.streamAlerts)
	s.handle("GET /v1/stream", ReadAlerts, s.streamQueues)
	s.handle("GET /v1/queues/{queue}/alerts/{id}", ReadAlerts, s.getAlert)

	s.handle("GET /v1/routing", ReadRouting, s.getRouting)
	s.handle("POST /v1/routing/validate", ProposeRouting, s.validateRouting)
	s.handle("PUT /v1/routing/proposal", ProposeRouting, s.proposeRouting)
	s.handle("POST /v1/routing/proposal/approve", ReviewRouting, s.decideRouting(true))
	s.handle("POST /v1/routing/proposal/reject", ReviewRouting, s.decideRouting(false))
	s.handle("POST /v1/posts", PushPosts, s.pushPosts)
	s.handle("POST /v1/search", Search, s.search)
	s.handle("GET /v1/insights", ReadInsights, s.listInsights)
	s.handle("GET /v1/insights/themes", ReadInsights, s.findThemes)
	s.handle("POST /v1/insights/{name}", ReadInsights, s.runInsight)
	s.handle("GET /v1/digests", ReadDigests, s.listDigests)
	s.handle("GET /v1/digests/{slug}/{period}/{file}", ReadDigests, s.getDigestFile)
	s.handle("GET /v1/audit", ReadAudit, s.readAudit)
}

func (s *Server) readyz(c *call) error {
	ctx, cancel := context.WithTimeout(c.r.Context(), 3*time.Second)
	defer cancel()
	type check struct {
		name string
		err  error
	}
	results := make(chan check, len(s.d.Ready))
	for name, f := range s.d.Ready {
		go func() { results <- check{name, f(ctx)} }()
	}
	status, out := http.StatusOK, map[string]string{}
	for range s.d.Ready {
		r := <-results
		out[r.name] = "ok"
		if r.err != nil {
			// /readyz needs no token: the error (addresses, user names of
			// the backends) goes to the log, not to whoever asks.
			s.d.Log.Warn("not ready", "check", r.name, "err", r.err)
			out[r.name], status = "failing", http.StatusServiceUnavailable
		}
	}
	if status != http.StatusOK {
		return &Error{Status: status, Code: CodeUnavailable, Message: "not ready", Details: out}
	}
	return c.json(status, map[string]any{"status": "ready", "checks": out})
}

func (s *Server) metricsHandler(c *call) error {
	if s.d.Gatherer == nil {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no metrics registry")
	}
	promhttp.HandlerFor(s.d.Gatherer, promhttp.HandlerOpts{}).ServeHTTP(c.w, c.r)
	return nil
}

// audit writes a change to the audit log. The change is made already; a
// failure to record it is an error answer, logged and counted, so it is
// never silent.
func (c *call) audit(action, objectType, objectID string, before, after any) error {
	if c.s.d.Audit == nil {
		return nil
	}
	rec := AuditRecord{At: c.s.now(), Actor: c.id.Name, Role: string(c.id.Role), Action: action, ObjectType: objectType, ObjectID: objectID, RequestID: c.reqID}
	rec.Before, rec.After = rawJSON(before), rawJSON(after)
	if err := c.s.d.Audit.Write(rec); err != nil {
		c.s.metrics.auditErrors.Inc()
		c.s.d.Log.Error("audit record lost", "action", action, "object", objectType+"/"+objectID, "actor", c.id.Name, "err", err)
		return errorf(http.StatusInternalServerError, CodeInternal, "the change was made but its audit record could not be written (request id %s)", c.reqID)
	}
	return nil
}
