// Command earshot is the one binary: every stage in one process (earshot
// run), or one stage per process (earshot ingest|match|enrich|route|sink).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/strictyaml"
)

const usage = `earshot: social listening on a stream

usage:
  earshot run      [flags]   every stage in one process (embedded by default)
  earshot ingest   [flags]   one stage, distributed over Kafka
  earshot match    [flags]
  earshot enrich   [flags]
  earshot route    [flags]
  earshot sink     [flags]
  earshot index    [flags]   the search index (search.enabled), beside the sink
  earshot webhook  [flags]   deliver alerts to the queues' HTTP endpoints
  earshot migrate  [flags]   create or upgrade the ClickHouse schema
  earshot api      [flags]   the HTTP API alone (docs/api.md); earshot run serves it too when api.addr is set
  earshot token create|list|revoke               API tokens: earshot token create --name N --role R --by YOU [--teams T] [--expires 30d]
  earshot insights list | run NAME --param k=v   the analysts' cookbook (docs/analysts.md)

  earshot match --watchlists DIR --posts FILE   what the watchlists match in a file of posts
  earshot watchlist validate DIR [--config F]   check watchlist files
  earshot version                               the version, commit and Go toolchain of this binary
  earshot route validate --policy F [--org F]   check a routing policy and organisation
  earshot watchlist import powertrack|brandwatch RULE   convert a rule from another tool
  earshot watchlist list|show|apply|submit|approve|reject|pause|resume|import --store DIR
                                                the watchlist store: drafts, approval, history (docs/watchlists.md)
  earshot bench match --keywords N [--baseline] matcher throughput against cloudflare/ahocorasick
  earshot search "QUERY" [--watchlist W --region R --sentiment S --lang L --since 7d --json]   full-text search of recent posts (docs/search.md)

Run 'earshot <command> -h' for the flags. Exit codes: 0 done, 1 failed, 2 bad
usage or configuration.
`

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	report(err, os.Stderr)
	os.Exit(exitCode(err))
}

// report prints the error a command ended with, unless it was printed
// already: help asked for, or a flag the flag package refused (it prints
// the error with the command's usage).
func report(err error, stderr io.Writer) {
	if err == nil || errors.Is(err, flag.ErrHelp) || flagRefused(err) {
		return
	}
	fmt.Fprintln(stderr, "earshot:", printable(strings.TrimPrefix(err.Error(), strictyaml.ErrInvalid.Error()+"\n")))
}

// flagRefused reports whether err is one of the flag package's own parse
// errors, by the messages it makes (flag.FlagSet.failf): they carry no
// type to test for.
func flagRefused(err error) bool {
	msg := err.Error()
	for _, p := range []string{"flag provided but not defined: ", "invalid value ", "invalid boolean value ", "invalid boolean flag ", "bad flag syntax: ", "flag needs an argument: "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// printable bounds an error message for the terminal: its first
// strictyaml.MaxErrors lines, each cut at 1,000 bytes, then a count of the
// lines left out.
func printable(msg string) string {
	const maxLine = 1000
	var b strings.Builder
	lines := 0
	for line := range strings.Lines(msg) {
		lines++
		if lines > strictyaml.MaxErrors {
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		if len(line) > maxLine {
			cut := maxLine
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			line = line[:cut] + fmt.Sprintf("… (%d more bytes)", len(line)-cut)
		}
		if lines > 1 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	if more := lines - strictyaml.MaxErrors; more > 0 {
		fmt.Fprintf(&b, "\n… and %d more lines", more)
	}
	return b.String()
}

// exitCode is the exit code for what run returned: 2 for bad usage or
// configuration, 1 for a failure, 0 when done or when -h asked for help.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, strictyaml.ErrInvalid):
		return 2
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// lockedWriter serialises writers that share stderr: the logger and the
// progress report.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// helpWanted reports whether a command's arguments ask for its usage
// rather than name a subcommand: it is printed, and the exit code is 0.
func helpWanted(args []string) bool {
	return len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
}

func run(args []string, stdout, stderr io.Writer) error {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) || (len(args) > 0 && args[0] == "help") {
		// Help asked for is the answer, not a diagnostic: it goes to
		// stdout, so that `earshot watchlist -h | less` works.
		stderr = stdout
	}
	stderr = &lockedWriter{w: stderr}
	if len(args) == 0 || helpWanted(args) {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitError{2, errors.New("no command")}
		}
		return nil
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "version", "--version":
		return versionTool(args, stdout, stderr)
	case "run":
		return runPipeline(cmd, pipeline.AllStages, args, stdout, stderr)
	case "watchlist":
		return watchlistTool(args, stdout, stderr)
	case "bench":
		return benchTool(args, stdout, stderr)
	case pipeline.Ingest, pipeline.Match, pipeline.Enrich, pipeline.Route, pipeline.Sink, pipeline.Index, pipeline.Deliver:
		if cmd == pipeline.Match && helpWanted(args) {
			fmt.Fprintln(stderr, "usage: earshot match --watchlists DIR --posts FILE [--all]   what the watchlists match in a file of posts\n       earshot match [flags]                                the match stage, with these flags:")
		}
		if cmd == pipeline.Match && slices.ContainsFunc(args, func(a string) bool { return strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-") == "watchlists" }) {
			return matchTool(args, stdout, stderr)
		}
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			// earshot ingest file FILE --dry-run, earshot match --watchlists …: tools
			// of one stage that work without a pipeline.
			return stageTool(cmd, args, stdout, stderr)
		}
		if cmd == pipeline.Sink || cmd == pipeline.Index {
			batchWriterGC()
		}
		return runPipeline(cmd, []string{cmd}, args, stdout, stderr)
	case "migrate":
		return migrate(args, stdout, stderr)
	case "api":
		return apiTool(args, stdout, stderr)
	case "token":
		return tokenTool(args, stdout, stderr)
	case "insights":
		return insightsTool(args, stdout, stderr)
	case "eval":
		return evalTool(args, stdout, stderr)
	case "search":
		return searchTool(args, stdout, stderr)
	}
	if near := nearestCommand(cmd); near != "" {
		return exitError{2, fmt.Errorf("unknown command %q: did you mean %q? (earshot -h lists the commands)", cmd, near)}
	}
	return exitError{2, fmt.Errorf("unknown command %q (earshot -h lists the commands)", cmd)}
}

// commands are the names run dispatches on, for suggestions.
var commands = []string{"version", "run", "watchlist", "bench", pipeline.Ingest, pipeline.Match, pipeline.Enrich,
	pipeline.Route, pipeline.Sink, pipeline.Index, pipeline.Deliver, "migrate", "api", "token", "insights", "eval", "search"}

// nearestCommand is the command within two edits of typed (a typo, a
// swapped pair of letters), or "" when none is that close.
func nearestCommand(typed string) string {
	best, bestD := "", 3
	for _, c := range commands {
		if d := editDistance(typed, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance of a and b: the
// insertions, deletions, substitutions and swaps of two neighbours that
// turn one into the other. Command names are short; so is the work.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// batchWriterGC lets the garbage collector run less often in a process
// that only writes batches (earshot sink, earshot index), unless GOGC says
// otherwise: they allocate a batch's worth of short-lived garbage at a
// time, and at GOGC=400 the sink spends 25 % and the index 15–40 % less CPU
// a row, for 2–2.5× the peak heap (BENCHMARKS.md). earshot run keeps Go's
// default, since every stage shares its heap.
func batchWriterGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
}

type runFlags struct {
	config   string
	duration time.Duration
	rate     int
	seed     uint64
	limit    int64
	quiet    bool
	progress time.Duration
	logLevel string
	metrics  string
}

func parseFlags(cmd string, args []string, stderr io.Writer) (runFlags, *flag.FlagSet, error) {
	var f runFlags
	fs := flag.NewFlagSet("earshot "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "deploy/examples/embedded.yaml", "configuration file")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	if cmd != "migrate" {
		fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: run until interrupted)")
		f.rate, f.limit = -1, -1
		if cmd == "run" || cmd == pipeline.Ingest { // the commands that run the synthetic firehose
			fs.IntVar(&f.rate, "rate", -1, "synthetic posts per second, overriding the config (0: as fast as possible)")
			fs.Uint64Var(&f.seed, "seed", 0, "synthetic firehose seed, overriding the config")
			fs.Int64Var(&f.limit, "limit", -1, "stop the synthetic firehose after this many posts, overriding the config")
		}
		quiet := "do not print alerts"
		if cmd != "run" {
			quiet = "accepted for scripts; only earshot run prints alerts"
		}
		fs.BoolVar(&f.quiet, "quiet", false, quiet)
		fs.DurationVar(&f.progress, "progress", 2*time.Second, "progress report interval on stderr (0: none)")
		fs.StringVar(&f.metrics, "metrics-addr", "", "serve /metrics and /healthz here, overriding the config")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, fs, err
		}
		return f, fs, exitError{2, err}
	}
	if fs.NArg() > 0 {
		return f, fs, exitError{2, fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case set["rate"] && f.rate < 0:
		return f, fs, exitError{2, fmt.Errorf("--rate %d: want 0 (as fast as possible) or more posts per second", f.rate)}
	case set["limit"] && f.limit < 0:
		return f, fs, exitError{2, fmt.Errorf("--limit %d: want 0 (no limit) or more posts", f.limit)}
	case f.duration < 0:
		return f, fs, exitError{2, fmt.Errorf("--duration %v: want 0 (until interrupted) or more", f.duration)}
	case f.progress < 0:
		return f, fs, exitError{2, fmt.Errorf("--progress %v: want 0 (none) or more", f.progress)}
	}
	return f, fs, nil
}

func newLogger(level string, stderr io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, exitError{2, fmt.Errorf("--log-level: %w", err)}
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})), nil
}

// signalContext is cancelled on the first SIGINT or SIGTERM; a second one
// exits at once. That drops what is in flight, none of which has been
// committed or checkpointed: a restart reads it again (docs/guarantees.md).
func signalContext(log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			log.Info("stopping: finishing the work in hand (signal again to quit at once)", "signal", s.String())
			cancel()
		case <-ctx.Done():
			return
		}
		<-ch
		log.Error("second signal: quitting without draining; what was in flight is not committed or checkpointed and is read again on restart")
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func runPipeline(cmd string, stages []string, args []string, stdout, stderr io.Writer) error {
	f, _, err := parseFlags(cmd, args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(f.logLevel, stderr)
	if err != nil {
		return err
	}
	cfg, err := pipeline.Load(f.config)
	if err != nil {
		return err
	}
	if f.rate >= 0 {
		cfg.Ingest.Synthetic.Rate = f.rate
	}
	if f.seed != 0 {
		cfg.Ingest.Synthetic.Seed = f.seed
	}
	if f.limit >= 0 {
		cfg.Ingest.Synthetic.Limit = f.limit
	}
	if f.metrics != "" {
		cfg.Metrics.Addr = f.metrics
	}
	log = log.With("process", cmd)

	ctx, stop := signalContext(log)
	defer stop()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Metrics.Addr != "" {
		shutdown, err := serveMetrics(cfg.Metrics.Addr, reg, log)
		if err != nil {
			return err
		}
		defer shutdown()
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	var outMu sync.Mutex
	var taps pipeline.Taps
	if cmd == "run" {
		if !f.quiet {
			// Alerts are printed exactly as they are on the queue topics.
			var line []byte
			taps.Alert = func(it *post.Item) {
				outMu.Lock()
				defer outMu.Unlock()
				var err error
				if line, err = post.Encode(line[:0], it); err != nil {
					log.Error("printing alert", "err", err)
					return
				}
				out.Write(append(line, '\n'))
			}
			// A file source's checkpoint passes an alert only once it is
			// written out, not while it sits in this buffer.
			taps.Flush = func() error {
				outMu.Lock()
				defer outMu.Unlock()
				return out.Flush()
			}
		}
		taps.Dead = func(d *post.DeadLetter) {
			log.Warn("dead letter", "stage", d.Stage, "key", d.Key, "reason", d.Reason)
		}
	}
	var apiProc *apiProcess // the HTTP API, when api.addr is set (api_tool.go)
	// earshot run serves the API beside the pipeline; so does earshot ingest
	// when it takes pushed posts through the API (no ingest.push.addr).
	pushViaAPI := cmd == pipeline.Ingest && cfg.Ingest.Source == "push" && cfg.Ingest.Push.Addr == ""
	if (cmd == "run" || pushViaAPI) && cfg.API.Addr != "" {
		if apiProc, err = newAPIProcess(ctx, cfg, cmd == "run", reg, log); err != nil {
			return err
		}
		if cmd == "run" {
			taps.Alert = apiProc.Tap(taps.Alert)
		}
	}

	started := time.Now()
	p, err := pipeline.New(ctx, cfg, stages, taps, reg, log)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, strictyaml.ErrInvalid) {
			// Asked to stop while still waiting for Kafka: a clean stop.
			log.Info("stopped before the pipeline was ready", "err", err)
			return nil
		}
		return err
	}
	if apiProc != nil {
		apiCtx, stopAPI := context.WithCancel(ctx)
		wait := apiProc.Start(apiCtx, p.Search(), p.Push())
		defer func() { stopAPI(); wait() }()
	}
	if f.progress > 0 {
		stopProgress := reportProgress(p, f.progress, started, stderr)
		defer stopProgress()
	}
	// Flush printed alerts now and then, so a reader of stdout sees them live.
	flushDone := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				outMu.Lock()
				out.Flush()
				outMu.Unlock()
			case <-flushDone:
				return
			}
		}
	}()
	runErr := p.Run(ctx)
	close(flushDone)
	elapsed := time.Since(started)

	outMu.Lock()
	defer outMu.Unlock()
	if err := json.NewEncoder(out).Encode(summary(p.Stats(), elapsed)); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("writing stdout: %w", err)
	}
	return runErr
}

// Summary is the last line earshot prints on stdout.
type Summary struct {
	Posts       int64                   `json:"posts"`
	Matched     int64                   `json:"matched"`
	Alerts      int64                   `json:"alerts"`
	DeadLetters int64                   `json:"dead_letters"`
	PostsPerSec float64                 `json:"posts_per_sec"`
	DurationSec float64                 `json:"duration_sec"`
	Stages      map[string]stageSummary `json:"stages"`
}

type stageSummary struct {
	In      int64 `json:"in"`
	Out     int64 `json:"out"`
	Dead    int64 `json:"dead_letters"`
	Retries int64 `json:"retries"`
}

func summary(s pipeline.Stats, elapsed time.Duration) Summary {
	sum := Summary{DeadLetters: s.DeadLetters, DurationSec: elapsed.Seconds(), Stages: map[string]stageSummary{}}
	for name, st := range s.Stages {
		sum.Stages[name] = stageSummary{In: st.In, Out: st.Out, Dead: st.Dead, Retries: st.Retries}
	}
	sum.Posts = s.Stages[pipeline.Ingest].Out
	sum.Matched = s.Stages[pipeline.Match].Out - s.Volume // match also passes on volume records, for the sink
	sum.Alerts = s.Stages[pipeline.Route].Out
	if _, ok := s.Stages[pipeline.Ingest]; !ok {
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

func reportProgress(p *pipeline.Pipeline, every time.Duration, started time.Time, w io.Writer) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		var prev int64
		last := started
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				io.WriteString(w, progressLine(p.Stats(), now.Sub(started), now.Sub(last), &prev))
				last = now
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// progressLine is one progress report: each stage's records in and out, and
// the rate of the ingest, or of the one stage of a stage process, since the
// last report; prev carries that stage's count between reports.
func progressLine(s pipeline.Stats, elapsed, since time.Duration, prev *int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "earshot %5.0fs", elapsed.Seconds())
	stages := 0 // the sink's runners of its other topics (sink.volume, …) are not stages here
	for _, name := range pipeline.AllStages {
		if _, ok := s.Stages[name]; ok {
			stages++
		}
	}
	for _, name := range pipeline.AllStages {
		st, ok := s.Stages[name]
		if !ok {
			continue
		}
		if name == pipeline.Ingest {
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

func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, exitError{1, fmt.Errorf("metrics: listening on %s: %w", addr, err)}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

func migrate(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "--print" {
		// The schema as SQL, one statement a line, then the sink's insert
		// column lists: for checking against another ClickHouse version.
		db := "earshot"
		if len(args) > 1 {
			db = args[1]
		}
		enc := json.NewEncoder(stdout)
		spec := sink.CheckSpec(db)
		queries, err := insightsDefaults(db) // the cookbook, for sqlcheck.py to run
		if err != nil {
			return err
		}
		spec["queries"] = queries
		return enc.Encode(spec)
	}
	f, _, err := parseFlags("migrate", args, stderr)
	if err != nil {
		return err
	}
	cfg, err := pipeline.Load(f.config)
	if err != nil {
		return err
	}
	if !cfg.Sink.Enabled {
		return exitError{2, fmt.Errorf("%s: sink.enabled is false; there is no ClickHouse to migrate", f.config)}
	}
	conn, err := sink.Open(cfg.Sink)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	applied, err := cfg.Sink.Schema().Migrate(ctx, conn, slog.New(slog.NewTextHandler(stderr, nil))) // with sink.cluster and sink.retention
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "schema of %s is up to date (version %d)\n", cfg.Sink.Database, sink.SchemaVersion())
	} else {
		fmt.Fprintf(stdout, "applied migrations %v to %s; schema version %d\n", applied, cfg.Sink.Database, slices.Max(applied))
	}
	return nil
}
