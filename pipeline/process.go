package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/search"
)

// API is the name of the process that serves the HTTP API alone (earshot
// api); Run is every stage in one process (earshot run).
const (
	API = "api"
	Run = "run"
)

// ProcessOptions say what one earshot process runs besides its Config.
type ProcessOptions struct {
	// Name is Run (every stage), a stage name (that stage alone), or API
	// (the HTTP API alone).
	Name string
	// With are the stages that run in the ingest process after it, with
	// in-memory queues between them (earshot ingest --with match,enrich;
	// NewChain). Empty: the stage Name alone.
	With []string
	// Alerts, when set, is where earshot run prints every alert, one JSON
	// line each, exactly as they are on the queue topics.
	Alerts io.Writer
	// Progress is the interval of a progress report on ProgressTo (0: none).
	Progress   time.Duration
	ProgressTo io.Writer
	Log        *slog.Logger
}

// Process is one earshot process, assembled from one Config: the metrics
// server, the stages, the HTTP API and the progress report. It is the one
// composition root; cmd/earshot only parses flags into a Config and
// ProcessOptions.
//
// Its parts run as a Group, started in this order and stopped in the
// reverse (docs/ARCHITECTURE.md):
//
//  1. metrics: /metrics and /healthz, so that a stop can be watched to the end;
//  2. pipeline: the stages; inside it the source stops first and each stage
//     drains its input before the next is told it is closed, the sink
//     flushes its batch, and the alert printer flushes what it printed
//     before the source's checkpoint passes it (Pipeline.Run);
//  3. api: the HTTP API, which stops accepting requests (pushed posts
//     among them; open requests get up to 5 s) before the pipeline is told
//     to stop, so that nothing is accepted that the source can no longer
//     hand on;
//  4. printer: flushes printed alerts to stdout every 200 ms;
//  5. progress: the progress report;
//
// and, where the notify stage runs with digests configured, after the
// pipeline: digests, which makes and sends them on their schedules.
//
// The stop starts when the context ends (a signal, --duration) or any part
// returns (a synthetic source reached --limit, a file source its end, the
// API's listener failed). It is bounded by twice runner.shutdown_timeout
// plus ten seconds; past that every part still running is cancelled at once.
type Process struct {
	opt     ProcessOptions
	cfg     Config
	reg     *prometheus.Registry
	metrics net.Listener
	api     *apiPart
	pipe    *Pipeline
	index   *search.Index // earshot api: the index opened read-side
	out     *bufio.Writer
	outMu   sync.Mutex
	started time.Time
	group   Group
	closers []func()
}

// NewProcess builds a process. Configuration problems are ErrConfig.
func NewProcess(ctx context.Context, cfg Config, opt ProcessOptions) (_ *Process, err error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	p := &Process{opt: opt, cfg: cfg, reg: prometheus.NewRegistry(), started: time.Now()}
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	stages := []string{opt.Name}
	switch {
	case opt.Name == Run:
		stages = AllStages
	case len(opt.With) > 0:
		if opt.Name != Ingest {
			return nil, ConfigError(fmt.Errorf("--with: only earshot ingest runs a chain of stages, not earshot %s", opt.Name))
		}
		if stages, err = Chain(cfg, opt.With); err != nil {
			return nil, err
		}
	}
	if err := cfg.CheckSecrets(opt.Name, opt.With...); err != nil {
		return nil, err // the secrets of the parts this process runs, before anything starts
	}
	log := opt.Log
	if opt.Name == Sink || opt.Name == Index {
		batchWriterGC()
	}
	if cfg.Metrics.Addr != "" && opt.Name != API {
		if p.metrics, err = listen("metrics", cfg.Metrics.Addr, "metrics.addr in the config or --metrics-addr (empty metrics.addr: no /metrics)"); err != nil {
			return nil, err
		}
		p.closers = append(p.closers, func() { p.metrics.Close() })
	}
	// earshot run serves the API beside the pipeline; so does earshot ingest
	// when it takes pushed posts through the API (no ingest.push.addr).
	pushViaAPI := opt.Name == Ingest && cfg.Ingest.Source == "push" && cfg.Ingest.Push.Addr == ""
	if (opt.Name == Run || opt.Name == API || pushViaAPI) && cfg.API.Addr != "" {
		if p.api, err = newAPIPart(ctx, cfg, opt.Name == Run, p.reg, log); err != nil {
			return nil, Classify(err)
		}
		p.closers = append(p.closers, p.api.close)
	}
	if opt.Name == API {
		if err := p.buildAPIAlone(); err != nil {
			return nil, err
		}
		return p, nil
	}
	if len(opt.With) > 0 {
		p.pipe, err = NewChain(ctx, cfg, opt.With, p.reg, log)
	} else {
		p.pipe, err = New(ctx, cfg, stages, p.taps(), p.reg, log)
	}
	if err != nil {
		return nil, err
	}
	p.group = Group{Grace: 2*cfg.Runner.ShutdownTimeout + 10*time.Second, Log: log}
	if cfg.Ingest.Source == "push" {
		p.group.Grace += cfg.Ingest.Push.AckTimeout // the API answers the pushes in flight before the pipeline stops
	}
	if p.metrics != nil {
		p.group.Add("metrics", p.serveMetrics)
	}
	p.group.Add("pipeline", p.pipe.Run)
	if p.api != nil && slices.Contains(stages, Notify) {
		p.api.setTell(p.pipe.TellResolve)
	}
	if err := p.addDigests(ctx, p.pipe.notifier, log); err != nil {
		return nil, err
	}
	if p.api != nil {
		p.group.Add("api", func(ctx context.Context) error { return p.api.Start(ctx, p.pipe.Search(), p.pipe.Push())() })
	}
	if p.out != nil {
		p.group.Add("printer", p.flushEvery)
	}
	if opt.Progress > 0 && opt.ProgressTo != nil {
		p.group.Add("progress", p.report)
	}
	return p, nil
}

// buildAPIAlone is the group of earshot api: the API, with the search
// index opened read-side when no index stage holds it.
func (p *Process) buildAPIAlone() error {
	if p.api == nil {
		return ConfigError(errors.New("api.addr is not set (or pass --addr)"))
	}
	if p.cfg.Search.Enabled && p.cfg.Search.Dir != "" {
		if x, err := search.OpenWith(p.cfg.Search, search.Options{Logger: p.opt.Log}); err == nil {
			p.index = x
			p.closers = append(p.closers, func() { x.Close() })
		} else {
			p.opt.Log.Warn("search and backtests are off in this process", "err", err)
		}
	}
	// The API alone ingests nothing: push runs in the ingest process.
	p.group.Add("api", func(ctx context.Context) error { return p.api.Start(ctx, p.index, nil)() })
	return nil
}

// MetricsAddr is the address /metrics is served on, or "" when it is not.
func (p *Process) MetricsAddr() string {
	if p.metrics == nil {
		return ""
	}
	return p.metrics.Addr().String()
}

// readyz answers 503 while a stage has held a batch longer than
// metrics.stalled_after without committing it (ClickHouse or Kafka down, a
// full queue that does not drain): no post moves through it. Liveness
// (/healthz) stays 200, as a restart would not bring a store back. In
// embedded mode a stalled stage holds up the ones before it, which are
// listed too; the stalled one is the last in pipeline order.
func (p *Process) readyz(w http.ResponseWriter, _ *http.Request) {
	var stalled []string
	if p.pipe != nil {
		stalled = p.pipe.Stalled(p.cfg.Metrics.StalledAfter)
	}
	if len(stalled) == 0 {
		io.WriteString(w, "ok\n")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "stalled (oldest batch in flight past metrics.stalled_after "+p.cfg.Metrics.StalledAfter.String()+"): "+strings.Join(stalled, ", ")+"\n")
}

// APIAddr is the address the API listens on, or "" when it is not served.
func (p *Process) APIAddr() string {
	if p.api == nil || p.api.ln == nil {
		return ""
	}
	return p.api.ln.Addr().String()
}

// Parts are the names of the parts in start order; they stop in the reverse.
func (p *Process) Parts() []string { return p.group.Names() }

// Run runs the process until ctx ends or a part returns, stops it in order,
// and returns its summary.
func (p *Process) Run(ctx context.Context) (Summary, error) {
	defer p.close()
	err := p.group.Run(ctx)
	var sum Summary
	if p.pipe != nil {
		sum = summary(p.pipe.Stats(), time.Since(p.started))
	}
	if p.out != nil {
		p.outMu.Lock()
		defer p.outMu.Unlock()
		if ferr := p.out.Flush(); ferr != nil {
			err = errors.Join(err, fmt.Errorf("writing stdout: %w", ferr))
		}
	}
	return sum, err
}

// RunProcess builds the process and runs it until ctx ends or d has passed
// (0: no limit; the wait for Kafka counts), then writes its summary as one
// JSON line to summary. A stop asked for while it still starts (waits for
// Kafka, say) is a clean stop; a start that failed for another reason is
// that error, whether or not a stop came meanwhile.
func RunProcess(ctx context.Context, cfg Config, opt ProcessOptions, d time.Duration, summary io.Writer) error {
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	p, err := NewProcess(ctx, cfg, opt)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) && !errors.Is(err, ErrConfig) {
			opt.Log.Info("stopped before the pipeline was ready", "err", err)
			return nil
		}
		return err
	}
	sum, runErr := p.Run(ctx)
	if err := json.NewEncoder(summary).Encode(sum); err != nil {
		return errors.Join(runErr, fmt.Errorf("writing the summary: %w", err))
	}
	return runErr
}

// NewLogger is a text logger to w at level (debug, info, warn or error; any
// other is ErrConfig).
func NewLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, ConfigError(fmt.Errorf("log level: %w", err))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// listen opens a listener of the process before any stage starts, so a
// second `earshot run` beside the first (make run twice) stops at once:
// the error names the address taken and the setting that moves it
// ("127.0.0.1:0" takes any free port).
func listen(what, addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s (is another earshot running there? set %s to a free address, 127.0.0.1:0 for any): %w", what, addr, setting, err)
	}
	return ln, nil
}

func (p *Process) close() {
	for _, c := range slices.Backward(p.closers) {
		c()
	}
	p.closers = nil
}

// taps are the pipeline's readers in earshot run: alerts printed (and
// handed to the API), dead letters logged.
func (p *Process) taps() Taps {
	var taps Taps
	if p.opt.Name != Run {
		return taps // the API of an ingest process takes pushed posts only
	}
	if p.opt.Alerts != nil {
		p.out = bufio.NewWriterSize(p.opt.Alerts, 64<<10)
		var line []byte
		taps.Alert = func(it *post.Item) {
			p.outMu.Lock()
			defer p.outMu.Unlock()
			var err error
			if line, err = post.Encode(line[:0], it); err != nil {
				p.opt.Log.Error("printing alert", "err", err)
				return
			}
			p.out.Write(append(line, '\n'))
		}
		// A file source's checkpoint passes an alert only once it is
		// written out, not while it sits in this buffer.
		taps.Flush = func() error {
			p.outMu.Lock()
			defer p.outMu.Unlock()
			return p.out.Flush()
		}
	}
	taps.Dead = func(d *post.DeadLetter) {
		p.opt.Log.Warn("dead letter", "stage", d.Stage, "class", d.Class.Known(), "key", d.Key, "reason", d.Reason)
	}
	if p.api != nil {
		taps.Alert = p.api.Tap(taps.Alert)
		taps.Delete = p.api.DeleteTap()
	}
	return taps
}

// flushEvery flushes printed alerts now and then, so that a reader of
// stdout sees them live.
func (p *Process) flushEvery(ctx context.Context) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.outMu.Lock()
			p.out.Flush()
			p.outMu.Unlock()
		case <-ctx.Done():
			return nil
		}
	}
}

func (p *Process) serveMetrics(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", p.readyz)
	if os.Getenv("EARSHOT_PPROF") == "1" {
		// Go's profiler, for profiling a stage under load (bench/distributed
		// -profile); off by default, as it shows internals to whoever reaches
		// the metrics address.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(p.metrics) }()
	p.opt.Log.Info("serving metrics", "addr", p.metrics.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

func (p *Process) report(ctx context.Context) error {
	t := time.NewTicker(p.opt.Progress)
	defer t.Stop()
	var prev int64
	last := p.started
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			io.WriteString(p.opt.ProgressTo, ProgressLine(p.pipe.Stats(), now.Sub(p.started), now.Sub(last), &prev))
			last = now
		}
	}
}

// Summary is the last line earshot prints on stdout.
type Summary struct {
	Posts       int64                   `json:"posts"`
	Matched     int64                   `json:"matched"`
	Alerts      int64                   `json:"alerts"`
	DeadLetters int64                   `json:"dead_letters"`
	PostsPerSec float64                 `json:"posts_per_sec"`
	DurationSec float64                 `json:"duration_sec"`
	Stages      map[string]StageSummary `json:"stages"`
}

// StageSummary is one stage's line of the summary.
type StageSummary struct {
	In      int64 `json:"in"`
	Out     int64 `json:"out"`
	Dead    int64 `json:"dead_letters"`
	Retries int64 `json:"retries"`
}

func summary(s Stats, elapsed time.Duration) Summary {
	sum := Summary{DeadLetters: s.DeadLetters, DurationSec: elapsed.Seconds(), Stages: map[string]StageSummary{}}
	for name, st := range s.Stages {
		sum.Stages[name] = StageSummary{In: st.In, Out: st.Out, Dead: st.Dead, Retries: st.Retries}
	}
	sum.Posts = s.Stages[Ingest].Out
	sum.Matched = s.Stages[Match].Out - s.Volume // match also passes on volume records, for the sink
	sum.Alerts = s.Stages[Route].Out
	if _, ok := s.Stages[Ingest]; !ok {
		// A single stage process: report what it took in.
		for _, st := range s.Stages {
			sum.Posts = max(sum.Posts, st.In)
		}
	}
	if elapsed > 0 {
		sum.PostsPerSec = float64(sum.Posts) / elapsed.Seconds()
	}
	return sum
}

// ProgressLine is one progress report: each stage's records in and out,
// and the rate of the ingest, or of the one stage of a stage process, since
// the last report; prev carries that stage's count between reports.
func ProgressLine(s Stats, elapsed, since time.Duration, prev *int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "earshot %5.0fs", elapsed.Seconds())
	stages := 0 // the sink's runners of its other topics (sink.volume, …) are not stages here
	for _, name := range AllStages {
		if _, ok := s.Stages[name]; ok {
			stages++
		}
	}
	for _, name := range AllStages {
		st, ok := s.Stages[name]
		if !ok {
			continue
		}
		if name == Ingest {
			fmt.Fprintf(&b, " | %s %d (%.0f/s)", name, st.Out, rate(st.Out, prev, since))
			continue
		}
		fmt.Fprintf(&b, " | %s %d→%d", name, st.In, st.Out)
		if stages == 1 {
			fmt.Fprintf(&b, " (%.0f/s)", rate(st.In, prev, since))
		}
		if st.Lag > 0 {
			fmt.Fprintf(&b, " lag %d", st.Lag)
		}
	}
	fmt.Fprintf(&b, " | dead %d\n", s.DeadLetters)
	return b.String()
}

// rate is the records per second from *prev to n over since; it moves *prev to n.
func rate(n int64, prev *int64, since time.Duration) float64 {
	r := float64(n-*prev) / since.Seconds()
	*prev = n
	return r
}

// batchWriterGC lets the garbage collector run less often in a process
// that only writes batches (earshot sink, earshot index), unless GOGC says
// otherwise: they allocate a batch's worth of short-lived garbage at a
// time, and at GOGC=400 the sink spends 25 % and the index 15–40 % less CPU
// a row, for 2–2.5× the peak heap (BENCHMARKS.md). A process of every stage
// keeps Go's default, since every stage shares its heap.
func batchWriterGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
}
