package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/earshot-dev/earshot/pipeline"
)

// runFlags are the flags of the commands that run a process.
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
	with     []string
}

// add declares the flags on fs; firehose adds the synthetic source's
// (earshot run and earshot ingest, the commands that run it).
func (f *runFlags) add(fs *pflag.FlagSet, name string, firehose bool) {
	fs.StringVar(&f.config, "config", "deploy/examples/embedded.yaml", "configuration file")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	f.rate, f.limit = -1, -1
	if firehose {
		fs.IntVar(&f.rate, "rate", -1, "synthetic posts per second, overriding the config (0: as fast as possible)")
		fs.Uint64Var(&f.seed, "seed", 0, "synthetic firehose seed, overriding the config")
		fs.Int64Var(&f.limit, "limit", -1, "stop the synthetic firehose after this many posts, overriding the config")
	}
	quiet := "do not print alerts"
	if name != pipeline.Run {
		quiet = "accepted for scripts; only earshot run prints alerts"
	}
	fs.BoolVar(&f.quiet, "quiet", false, quiet)
	fs.DurationVar(&f.progress, "progress", 2*time.Second, "progress report interval on stderr (0: none)")
	fs.StringVar(&f.metrics, "metrics-addr", "", "serve /metrics and /healthz here, overriding the config")
	if name == pipeline.Ingest {
		fs.StringSliceVar(&f.with, "with", nil, "run these stages in this process too, in memory after ingest: match, or match,enrich (distributed mode; no match or enrich process then)")
	}
}

func (f *runFlags) check(fs *pflag.FlagSet) error {
	switch {
	case fs.Changed("rate") && f.rate < 0:
		return usageError("--rate %d: want 0 (as fast as possible) or more posts per second", f.rate)
	case fs.Changed("limit") && f.limit < 0:
		return usageError("--limit %d: want 0 (no limit) or more posts", f.limit)
	case f.duration < 0:
		return usageError("--duration %v: want 0 (until interrupted) or more", f.duration)
	case f.progress < 0:
		return usageError("--progress %v: want 0 (none) or more", f.progress)
	}
	return nil
}

// stageUse are the process commands and what each runs.
var stageUse = map[string]string{
	pipeline.Run:     "every stage in one process (embedded by default)",
	pipeline.Ingest:  "the ingest stage, distributed over Kafka; ingest file: check an export",
	pipeline.Match:   "the match stage, distributed over Kafka; match --watchlists: what a file's posts match",
	pipeline.Enrich:  "the enrich stage, distributed over Kafka",
	pipeline.Route:   "the route stage, distributed over Kafka; route validate|simulate: the policy's tools",
	pipeline.Sink:    "the ClickHouse sink, distributed over Kafka",
	pipeline.Index:   "the search index (search.enabled), beside the sink",
	pipeline.Deliver: "deliver alerts to the queues' HTTP endpoints",
	pipeline.Notify:  "notify Slack, Teams, PagerDuty, Opsgenie, Alertmanager and email of the queues' alerts",
}

// stageCommands are earshot run and one command per stage; tools of a
// stage (earshot route validate) are added to them.
func addStageCommands(root *cobra.Command, stdout, stderr io.Writer) map[string]*cobra.Command {
	cmds := map[string]*cobra.Command{}
	for _, name := range append([]string{pipeline.Run}, pipeline.AllStages...) {
		var f runFlags
		c := &cobra.Command{Use: name, Short: stageUse[name], Args: noArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				if err := f.check(c.Flags()); err != nil {
					return err
				}
				return runProcess(name, f, stdout, stderr)
			}}
		f.add(c.Flags(), name, name == pipeline.Run || name == pipeline.Ingest)
		cmds[name] = c
		root.AddCommand(c)
	}
	root.AddCommand(migrateCommand(stdout, stderr), apiCommand(stdout, stderr))
	return cmds
}

// runProcess runs the process name (a stage, run) with the flags' overrides
// of its configuration, and prints the summary on stdout.
func runProcess(name string, f runFlags, stdout, stderr io.Writer) error {
	log, err := pipeline.NewLogger(f.logLevel, stderr)
	if err != nil {
		return err
	}
	cfg, err := pipeline.Load(f.config)
	if err != nil {
		return err
	}
	pipeline.Overrides{Rate: f.rate, Seed: f.seed, Limit: f.limit, MetricsAddr: f.metrics}.Apply(&cfg)
	log = log.With("process", name)
	ctx, stop := pipeline.SignalContext(log)
	defer stop()
	opt := pipeline.ProcessOptions{Name: name, With: f.with, Progress: f.progress, ProgressTo: stderr, Log: log}
	if name == pipeline.Run && !f.quiet {
		opt.Alerts = stdout
	}
	return pipeline.RunProcess(ctx, cfg, opt, f.duration, stdout)
}

// apiCommand is `earshot api --config F`: the API alone (distributed
// mode), its alerts from ClickHouse and the queues' Kafka topics.
func apiCommand(stdout, stderr io.Writer) *cobra.Command {
	var config, addr, logLevel string
	c := &cobra.Command{Use: "api", Short: "the HTTP API alone (docs/api.md); earshot run serves it too when api.addr is set", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			log, err := pipeline.NewLogger(logLevel, stderr)
			if err != nil {
				return err
			}
			cfg, err := pipeline.Load(config)
			if err != nil {
				return err
			}
			if addr != "" {
				cfg.API.Addr = addr
				if err := cfg.API.Validate(); err != nil {
					return pipeline.ConfigError(err)
				}
			}
			log = log.With("process", pipeline.API)
			ctx, stop := pipeline.SignalContext(log)
			defer stop()
			p, err := pipeline.NewProcess(ctx, cfg, pipeline.ProcessOptions{Name: pipeline.API, Log: log})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "earshot api listening on %s\n", p.APIAddr())
			_, err = p.Run(ctx)
			return err
		}}
	c.Flags().StringVar(&config, "config", "deploy/examples/embedded.yaml", "configuration file (its api section)")
	c.Flags().StringVar(&addr, "addr", "", "listen here, overriding api.addr")
	c.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return c
}

// migrateCommand is `earshot migrate`: create or upgrade the ClickHouse
// schema, or print it.
func migrateCommand(stdout, stderr io.Writer) *cobra.Command {
	var config string
	var print bool
	var timeout time.Duration
	c := &cobra.Command{Use: "migrate [--print [DATABASE]]", Short: "create or upgrade the ClickHouse schema", Args: nArgs(0, 1, "at most a DATABASE, with --print"),
		RunE: func(_ *cobra.Command, args []string) error {
			if print {
				db := "earshot"
				if len(args) > 0 {
					db = args[0]
				}
				spec, err := pipeline.SchemaSpec(db)
				if err != nil {
					return err
				}
				return json.NewEncoder(stdout).Encode(spec)
			}
			if len(args) > 0 {
				return usageError("unexpected arguments %q (a DATABASE goes with --print)", args)
			}
			if timeout < 0 {
				return usageError("--timeout %v: want 0 (no limit in all) or more", timeout)
			}
			cfg, err := pipeline.Load(config)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(stderr, nil))
			ctx, stop := pipeline.SignalContext(log)
			defer stop()
			return pipeline.Migrate(ctx, cfg, stdout, log, timeout)
		}}
	c.Flags().StringVar(&config, "config", "deploy/examples/embedded.yaml", "configuration file")
	c.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long in all (0: no limit; each backfill statement stops after an hour)")
	c.Flags().BoolVar(&print, "print", false, "print the schema as SQL, the sink's insert column lists and the cookbook's queries, as JSON (database earshot or DATABASE), for checking against another ClickHouse version")
	c.Flags().String("log-level", "info", "accepted for scripts")
	return c
}
