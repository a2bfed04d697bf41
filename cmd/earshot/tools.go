package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/digest/digestcli"
	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/search"
)

// addTools adds the commands that work without a pipeline: to the root,
// and to the stages whose tools they are (earshot route validate).
func addTools(root *cobra.Command, stages map[string]*cobra.Command, stdout, stderr io.Writer) {
	stages[pipeline.Ingest].AddCommand(ingestFileCommand(stdout, stderr, time.Now))
	stages[pipeline.Route].AddCommand(routeValidateCommand(stdout), routeSimulateCommand(stdout, stderr))
	addMatchTool(stages[pipeline.Match], stdout, stderr)
	root.AddCommand(watchlistCommands(stdout, stderr), tokenCommands(stdout, stderr), insightsCommands(stdout, stderr),
		evalCommands(stdout), searchCommand(stdout), benchCommands(stdout), filterCommand(stdout, stderr), alertsCommands(stdout), digestcli.Command(stdout, stderr))
}

// ingestFileCommand is `earshot ingest file FILE --dry-run`: an export
// checked before it is fed in.
func ingestFileCommand(stdout, stderr io.Writer, now func() time.Time) *cobra.Command {
	cfg := ingest.DefaultConfig()
	var format string
	var dry bool
	c := &cobra.Command{Use: "file FILE --dry-run", Short: "read a file as ingest.source: file would, sending nothing",
		Long: `Reads FILE (NDJSON, plain, gzip or zstd) as ingest.source: file would, prints
each canonical post as a JSON line on stdout and each dead letter with its
reason on stderr, sends nothing downstream, and ends with a summary line on
stdout. Exit code 1 when any line was refused.`,
		Args: nArgs(1, 1, "one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			if !dry {
				return usageError("ingest file: only --dry-run is supported; to feed a file in, set ingest.source: file and run 'earshot ingest --config FILE'")
			}
			cfg.Source, cfg.File.Path, cfg.File.Format = "file", args[0], format
			if err := cfg.Validate(); err != nil {
				return exitError{2, err}
			}
			if err := ingest.DryRun(cfg, stdout, stderr, now); err != nil {
				return exitError{1, err} // a refused line, or a read error after the summary
			}
			return nil
		}}
	c.Flags().StringVar(&format, "format", ingest.FormatAuto, "line format: auto, canonical, bluesky, mastodon, x, reddit or x-users")
	c.Flags().BoolVar(&dry, "dry-run", false, "print posts instead of sending them (required)")
	c.Flags().IntVar(&cfg.MaxPostBytes, "max-post-bytes", cfg.MaxPostBytes, "longer lines are dead letters")
	c.Flags().DurationVar(&cfg.MaxSkew, "max-skew", cfg.MaxSkew, "posts dated further in the future are dead letters")
	return c
}

// routeValidateCommand is `earshot route validate --policy FILE [--org
// FILE]`: errors (exit 2) and, as warnings, rules that overlap.
func routeValidateCommand(stdout io.Writer) *cobra.Command {
	var cfg route.Config
	c := &cobra.Command{Use: "validate", Short: "check a routing policy and organisation", Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return pipeline.ValidateRouting(cfg, stdout) }}
	c.Flags().StringVar(&cfg.Policy, "policy", "deploy/examples/routing.yaml", "routing policy")
	c.Flags().StringVar(&cfg.Org, "org", "", "organisation (teams, hours, queues)")
	return c
}

// routeSimulateCommand is `earshot route simulate`: posts replayed through
// the policy and the organisation; per queue and hour, volume, who is on
// duty, hand-offs and predicted SLA breaches.
func routeSimulateCommand(stdout, stderr io.Writer) *cobra.Command {
	var cfg route.Config
	var posts, watchlists, at string
	var asJSON bool
	c := &cobra.Command{Use: "simulate --posts FILE", Short: "replay posts through the routing policy: volume, duty, breaches per queue and hour", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if posts == "" {
				return usageError("route simulate: --posts is needed")
			}
			var start time.Time
			if at != "" {
				var err error
				if start, err = time.Parse(time.RFC3339, at); err != nil {
					return usageError("--at: %w", err)
				}
			}
			return pipeline.SimulateRouting(cfg, posts, watchlists, start, asJSON, stdout, stderr)
		}}
	c.Flags().StringVar(&cfg.Policy, "policy", "deploy/examples/routing.yaml", "routing policy")
	c.Flags().StringVar(&cfg.Org, "org", "deploy/examples/org.yaml", "organisation")
	c.Flags().StringVar(&posts, "posts", "", "NDJSON: wire items (already matched and enriched) or canonical posts (then --watchlists is needed)")
	c.Flags().StringVar(&watchlists, "watchlists", "", "match and enrich canonical posts with these watchlists first")
	c.Flags().StringVar(&at, "at", "", "replay as if the first post came at this time (RFC 3339, e.g. 2026-11-20T00:00:00Z)")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per queue and hour instead of a table")
	return c
}

// addMatchTool makes `earshot match --watchlists DIR --posts FILE` the
// match tool: every match of every post of a file, one JSON line each, so
// a gatherer sees what a rule does before it goes live.
func addMatchTool(c *cobra.Command, stdout, stderr io.Writer) {
	var dir, posts string
	var all bool
	c.Use = "match [--watchlists DIR --posts FILE [--all]]"
	c.Long = `earshot match --config F [flags]                      the match stage
earshot match --watchlists DIR --posts FILE [--all]   what the watchlists match in a file of posts`
	stage := c.RunE
	c.RunE = func(c *cobra.Command, args []string) error {
		if !c.Flags().Changed("watchlists") && !c.Flags().Changed("posts") {
			return stage(c, args)
		}
		if dir == "" || posts == "" {
			return usageError("match: --watchlists and --posts are both needed")
		}
		return pipeline.MatchFile(dir, posts, all, os.Stdin, stdout, stderr)
	}
	c.Flags().StringVar(&dir, "watchlists", "", "the match tool: directory of watchlist files")
	c.Flags().StringVar(&posts, "posts", "", "the match tool: NDJSON file of posts (- for stdin)")
	c.Flags().BoolVar(&all, "all", false, "the match tool: match draft and paused watchlists too")
}

// filterCommand is `earshot filter (--watchlists DIR | --keywords FILE) FILE`.
func filterCommand(stdout, stderr io.Writer) *cobra.Command {
	o := pipeline.FilterOptions{Format: ingest.FormatAuto, MaxPostBytes: ingest.DefaultConfig().MaxPostBytes}
	c := &cobra.Command{Use: "filter (--watchlists DIR | --keywords FILE) FILE|-", Short: "the lines of a file whose post matches, unchanged (fast)",
		Long: `The lines of FILE (any format ingest reads; - for stdin) whose post matches, unchanged
and in order; refused lines and a summary on stderr, exit 1 if any (docs/rules.md).`,
		Args: nArgs(1, 1, "one FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			o.Path = args[0]
			return pipeline.Filter(c.Context(), o, os.Stdin, stdout, stderr)
		}}
	f := c.Flags()
	f.StringVar(&o.Dir, "watchlists", "", "directory of watchlist files")
	f.StringVar(&o.Keywords, "keywords", "", "file of keywords, one a line")
	f.BoolVar(&o.All, "all", false, "match draft and paused watchlists too")
	f.StringVar(&o.Format, "format", o.Format, "line format: auto, canonical, bluesky, mastodon, x, reddit or x-users")
	f.IntVar(&o.Workers, "workers", 0, "decoding and matching goroutines (0: one per core)")
	f.IntVar(&o.MaxPostBytes, "max-post-bytes", o.MaxPostBytes, "longer lines are refused")
	f.BoolVar(&o.Strict, "strict", false, "decode and check every line, also those that hold no keyword (slower)")
	return c
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Type() string   { return "list" }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// searchCommand is `earshot search "query" [filters]`.
func searchCommand(stdout io.Writer) *cobra.Command {
	var config, dir, since string
	var q search.Query
	var watchlists, regions, sentiments, langs listFlag
	var asJSON bool
	c := &cobra.Command{Use: `search "QUERY"`, Short: "full-text search of recent posts (docs/search.md)",
		Long: `QUERY is bleve query-string syntax: words, "a phrase", +must, -not, field:value,
pre*, /regexp/, word~1; * alone matches everything (docs/search.md).`,
		Args: nArgs(1, 1, `one query (quote it: earshot search "refund -acme")`),
		RunE: func(_ *cobra.Command, args []string) error {
			q.Text, q.Watchlists, q.Regions, q.Sentiments, q.Langs = args[0], watchlists, regions, sentiments, langs
			if since != "" {
				d, err := search.ParseAge(since)
				if err != nil {
					return usageError("--since %w", err)
				}
				q.Since = time.Now().Add(-d)
			}
			cfg, err := pipeline.Load(config)
			if err != nil {
				return err
			}
			err = pipeline.Search(cfg, dir, q, asJSON, stdout)
			if errors.Is(err, search.ErrBadQuery) {
				return exitError{2, err}
			}
			return err
		}}
	fs := c.Flags()
	fs.StringVar(&config, "config", "deploy/examples/embedded.yaml", "configuration file (its search: section)")
	fs.StringVar(&dir, "index", "", "index directory, overriding search.dir")
	fs.Var(&watchlists, "watchlist", "only posts of this watchlist (repeat or comma-separate for any of several)")
	fs.Var(&regions, "region", "only posts of this region")
	fs.Var(&sentiments, "sentiment", "negative, neutral or positive")
	fs.Var(&langs, "lang", "only posts in this language (ISO 639: en, el, …)")
	fs.StringVar(&since, "since", "", "only posts created this recently: 7d, 36h, … (default: the whole retention window)")
	fs.IntVar(&q.Size, "size", search.DefaultSize, fmt.Sprintf("hits to show, at most %d", search.MaxSize))
	fs.IntVar(&q.From, "from", 0, "offset of the first hit, for paging")
	fs.BoolVar(&q.Exhaustive, "exhaustive", false, "search every day of the window, even past search.hit_budget hits (slower for broad queries)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

// backtestCommand is `earshot watchlist backtest FILE --since 7d`.
func backtestCommand(stdout io.Writer) *cobra.Command {
	var config, dir, liveDir, since string
	var sample int
	var asJSON bool
	c := &cobra.Command{Use: "backtest FILE", Short: "run a draft watchlist over the indexed posts and compare it with the live ones",
		Args: nArgs(1, 1, "one watchlist file"),
		RunE: func(_ *cobra.Command, args []string) error {
			age, err := search.ParseAge(since)
			if err != nil {
				return usageError("--since %w", err)
			}
			if sample < 1 || sample > 1000 {
				return usageError("--sample %d: want 1 to 1000", sample)
			}
			cfg, err := pipeline.Load(config)
			if err != nil {
				return err
			}
			ctx, stop := pipeline.SignalContext(slog.New(slog.DiscardHandler))
			defer stop()
			rep, err := pipeline.Backtest(ctx, cfg, args[0], dir, liveDir, backtest.Options{Since: age, Sample: sample})
			if err != nil {
				return err
			} else if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.WriteText(stdout)
			return nil
		}}
	c.Flags().StringVar(&config, "config", "deploy/examples/embedded.yaml", "configuration file (its search: and match: sections, enrich.regions and route.org's markets)")
	c.Flags().StringVar(&dir, "index", "", "index directory, overriding search.dir")
	c.Flags().StringVar(&liveDir, "live", "", "directory of the live watchlists, overriding match.watchlists (or match.store's live set)")
	c.Flags().StringVar(&since, "since", "7d", "how far back: 7d, 36h, … (clamped to the index's retention)")
	c.Flags().IntVar(&sample, "sample", 10, "matched posts to show")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

// benchCommands is `earshot bench match --keywords N [--baseline]`.
func benchCommands(stdout io.Writer) *cobra.Command {
	var n int
	var baseline bool
	var d time.Duration
	c := &cobra.Command{Use: "match", Short: "matcher throughput against cloudflare/ahocorasick", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			r, err := bench.MatchBench(context.Background(), n, baseline, d)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(r)
		}}
	c.Flags().IntVar(&n, "keywords", 10_000, "keywords in the generated watchlist set")
	c.Flags().BoolVar(&baseline, "baseline", false, "also run cloudflare/ahocorasick on the same posts")
	c.Flags().DurationVar(&d, "duration", 5*time.Second, "how long to match with each engine")
	return group("bench", "benchmarks of this machine", c)
}

// evalCommands is `earshot eval sentiment|emotion|irony|intent|language
// [flags] FILE`: the enrich models measured on a labelled file.
func evalCommands(stdout io.Writer) *cobra.Command {
	g := group("eval", "measure the enrich models on a labelled file (lang TAB label TAB text)")
	for _, kind := range []string{"sentiment", "emotion", "irony", "intent"} {
		var o enrich.ModelEvalOptions
		var heldOut, asJSON, sweep bool
		c := &cobra.Command{Use: kind + " FILE", Short: kind + ": precision, recall and baselines per label", Args: nArgs(1, 1, "one FILE"),
			RunE: func(_ *cobra.Command, args []string) error {
				return enrich.New(enrich.Config{}).EvaluateFile(kind, args[0], stdout, o, asJSON, sweep)
			}}
		fs := c.Flags()
		fs.StringVar(&o.Lang, "lang", "", "the language of every row; the first column is then an id (VADER ground-truth files)")
		fs.BoolVar(&heldOut, "held-out", false, "accepted for scripts; earshot eval language --held-out is the Tatoeba split")
		fs.BoolVar(&o.Declared, "declared", false, "pass the first column to the detector as the platform's declared language")
		fs.StringVar(&o.Part, "part", "", "only the rows of this datasplit part (train, dev, test; intent also train+dev)")
		fs.BoolVar(&asJSON, "json", false, "the report as JSON")
		fs.BoolVar(&o.Polarity, "polarity", false, "sentiment on a pos/neg file: decide by positive against negative probability; only an unknown abstains")
		fs.BoolVar(&sweep, "sweep", false, "intent: precision and recall at thresholds 0.10-0.90 (choose on a part you do not report)")
		g.AddCommand(c)
	}
	var o enrich.LangEvalOptions
	var heldOut, asJSON bool
	lang := &cobra.Command{Use: "language FILE...", Short: "the language detector: precision, recall, close-pair confusion, abstention",
		Long: "FILE rows: lang TAB text, or lang TAB label TAB text (the first column is the language)", Args: nArgs(1, 1<<20, "at least one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			if heldOut {
				o.Split = "test"
			}
			return enrich.New(enrich.Config{}).EvaluateLanguageFiles(args, stdout, o, asJSON)
		}}
	lang.Flags().StringVar(&o.Split, "part", "", "only the rows of this datasplit part: train, dev or test (Tatoeba files: the LangIDTestRow fifth for test); default all")
	lang.Flags().StringVar(&o.Split, "split", "", "same as --part")
	lang.Flags().BoolVar(&heldOut, "held-out", false, "same as --part test (kept for the Tatoeba commands in BENCHMARKS.md)")
	lang.Flags().BoolVar(&o.Declared, "declared", false, "pass the gold language to the detector as the declared language")
	lang.Flags().BoolVar(&asJSON, "json", false, "write the report as JSON")
	g.AddCommand(lang)
	return g
}

// paramFlags collects repeated --param k=v.
type paramFlags map[string]string

func (p paramFlags) String() string { return fmt.Sprint(map[string]string(p)) }
func (p paramFlags) Type() string   { return "name=value" }
func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want name=value", s)
	}
	if _, dup := p[k]; dup {
		return fmt.Errorf("%s given twice", k)
	}
	p[k] = v
	return nil
}

// insightsCommands is `earshot insights list|run`: the analysts' cookbook
// (docs/analysts.md) from the command line.
func insightsCommands(stdout, stderr io.Writer) *cobra.Command {
	var listFormat string
	list := &cobra.Command{Use: "list", Short: "the cookbook's queries and their parameters", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			cat, err := insights.Load()
			if err != nil {
				return err
			}
			switch listFormat {
			case "json":
				return json.NewEncoder(stdout).Encode(cat.List())
			case "table":
				return cat.WriteList(stdout)
			}
			return usageError("--format %q: want table or json", listFormat)
		}}
	list.Flags().StringVar(&listFormat, "format", "table", "table or json")
	return group("insights", "the analysts' cookbook (docs/analysts.md)", list, insightsRunCommand(stdout, stderr), insightsThemesCommand(stdout))
}

// insightsThemesCommand is `earshot insights themes`: what people talk
// about in a scope and period (docs/analysts.md#themes).
func insightsThemesCommand(stdout io.Writer) *cobra.Command {
	var srv pipeline.InsightServer
	var sc themes.Scope
	var since, until, format string
	var limit int
	c := &cobra.Command{Use: "themes", Short: "themes of a watchlist, team, region or market: posts grouped by the phrases they share", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if format != "table" && format != "json" {
				return usageError("--format %q: want table or json", format)
			}
			now := time.Now()
			from, err := insights.ParseDatetime(since, now)
			if err != nil {
				return usageError("--since: %v", err)
			}
			to, err := insights.ParseDatetime(until, now)
			if err != nil {
				return usageError("--until: %v", err)
			}
			res, err := pipeline.RunThemes(context.Background(), srv, sc, from, to, limit)
			if err != nil {
				return err
			}
			if format == "json" {
				return json.NewEncoder(stdout).Encode(res)
			}
			return themes.WriteText(stdout, res)
		}}
	fs := c.Flags()
	fs.StringSliceVar(&sc.Watchlists, "watchlist", nil, "watchlists (repeatable; default all)")
	fs.StringSliceVar(&sc.Teams, "team", nil, "teams (repeatable)")
	fs.StringSliceVar(&sc.Regions, "region", nil, "regions (repeatable)")
	fs.StringSliceVar(&sc.Markets, "market", nil, "markets of org.yaml, as spelt there (repeatable)")
	fs.StringVar(&since, "since", "7d", "start of the period (RFC 3339, a date, or back from now: 24h, 7d)")
	fs.StringVar(&until, "until", "now", "end of the period (exclusive)")
	fs.IntVar(&limit, "limit", 10, "themes at most (1 to 100)")
	fs.StringVar(&format, "format", "table", "table or json")
	fs.StringVar(&srv.Config, "config", "deploy/examples/distributed.yaml", "configuration file (its sink section gives the ClickHouse server); \"\" for the local defaults")
	fs.StringVar(&srv.User, "user", "", "ClickHouse user, overriding the config (e.g. analyst)")
	fs.StringVar(&srv.Password, "password", "", "ClickHouse password, overriding the config")
	fs.StringVar(&srv.Addr, "addr", "", "ClickHouse native address, overriding the config")
	fs.StringVar(&srv.Database, "database", "", "database, overriding the config")
	return c
}

func insightsRunCommand(stdout, stderr io.Writer) *cobra.Command {
	params := paramFlags{}
	var config, format, user, password, addr, database string
	var printSQL bool
	limits := insights.DefaultConfig()
	c := &cobra.Command{Use: "run NAME", Short: "run a cookbook query on ClickHouse", Args: nArgs(1, 1, "one query name (earshot insights list shows them)"),
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usageError("--format %q: want table or json", format)
			}
			if err := limits.Validate(); err != nil {
				return exitError{2, err}
			}
			cat, err := insights.Load()
			if err != nil {
				return err
			}
			cat.Limits = limits
			srv := pipeline.InsightServer{Config: config, User: user, Password: password, Addr: addr, Database: database}
			if printSQL {
				sql, _, err := pipeline.InsightSQL(cat, srv, args[0], params)
				if err == nil {
					fmt.Fprintln(stdout, sql)
				}
				return err
			}
			t, err := pipeline.RunInsight(context.Background(), cat, srv, args[0], params)
			if err != nil {
				return err
			} else if format == "json" {
				return json.NewEncoder(stdout).Encode(t)
			}
			return t.WriteText(stdout, stderr)
		}}
	fs := c.Flags()
	fs.Var(params, "param", "a query parameter, name=value (repeatable)")
	fs.StringVar(&config, "config", "deploy/examples/distributed.yaml", "configuration file (its sink section gives the ClickHouse server); \"\" for the local defaults (127.0.0.1:9000, database earshot, user default)")
	fs.StringVar(&format, "format", "table", "table or json")
	fs.BoolVar(&printSQL, "sql", false, "print the bound SQL and do not run it")
	fs.StringVar(&user, "user", "", "ClickHouse user, overriding the config (e.g. analyst)")
	fs.StringVar(&password, "password", "", "ClickHouse password, overriding the config")
	fs.StringVar(&addr, "addr", "", "ClickHouse native address, overriding the config")
	fs.StringVar(&database, "database", "", "database, overriding the config")
	fs.IntVar(&limits.MaxRows, "max-rows", limits.MaxRows, "rows returned at most")
	fs.DurationVar(&limits.Timeout, "timeout", limits.Timeout, "query time limit")
	return c
}

// alertsCommands is `earshot alerts list|claim|resolve|note`: the desk over
// the API, as the token's identity (docs/desk.md).
func alertsCommands(stdout io.Writer) *cobra.Command {
	var t api.AlertsTool
	sub := func(use, short string, n int) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: nArgs(n, n, use),
			RunE: func(c *cobra.Command, args []string) error { return t.Run(c.Context(), c.Name(), args, stdout) }}
	}
	list, resolve := sub("list QUEUE", "the newest alerts of a queue and their desk state", 1), sub("resolve QUEUE ID --outcome O", "resolve an alert", 2)
	list.Flags().StringVar(&t.State, "state", "", "only alerts in this state: new, claimed or resolved")
	list.Flags().IntVar(&t.Limit, "limit", 50, "alerts to show")
	resolve.Flags().StringVar(&t.Outcome, "outcome", "", "replied, escalated, no_action, spam or duplicate")
	resolve.PreRunE = func(*cobra.Command, []string) error { // bad usage (exit 2), not a refusal from the API
		if t.Outcome == "" {
			return usageError("resolve: --outcome is required: replied, escalated, no_action, spam or duplicate")
		}
		return nil
	}
	g := group("alerts", "the responders' desk over the API: list, claim, resolve, note (docs/desk.md)",
		list, sub("claim QUEUE ID", "claim an alert", 2), resolve, sub(`note QUEUE ID "TEXT"`, "add a note to an alert's thread", 3))
	g.PersistentFlags().StringVar(&t.URL, "api", cmp.Or(os.Getenv("EARSHOT_API"), "http://127.0.0.1:8080"), "the API's address (env EARSHOT_API)")
	g.PersistentFlags().StringVar(&t.Token, "token", "", "an API token (default: env EARSHOT_TOKEN)")
	g.PersistentFlags().BoolVar(&t.JSON, "json", false, "print the alerts as JSON lines")
	g.PersistentFlags().StringVar(&t.Key, "idempotency-key", "", "the Idempotency-Key of claim, resolve or note (default: a fresh one); give the one an error named to retry that request")
	return g
}
