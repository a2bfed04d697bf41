package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
	"github.com/earshot-dev/earshot/strictyaml"
)

// matchTool is `earshot match --watchlists DIR --posts FILE`: every match of
// every post of an NDJSON file (canonical posts), one JSON line each, so a
// gatherer sees what a rule does before it goes live.
func matchTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("watchlists", "", "directory of watchlist files")
	posts := fs.String("posts", "", "NDJSON file of posts (- for stdin)")
	all := fs.Bool("all", false, "match draft and paused watchlists too")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	if *dir == "" || *posts == "" {
		return exitError{2, errors.New("match: --watchlists and --posts are both needed")}
	}
	lists, err := match.LoadDir(*dir)
	if err != nil {
		return err
	}
	if *all {
		for _, w := range lists {
			w.Status = "live"
		}
	}
	e, err := match.New(lists)
	if err != nil {
		return errors.Join(strictyaml.ErrInvalid, err)
	}
	in := io.Reader(os.Stdin)
	if *posts != "-" {
		f, err := os.Open(*posts)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	// The ingest file decoder, as the pipeline reads a file: any format, the
	// same checks (UTF-8, duplicate keys, sizes), and a bad or over-long
	// line is reported and skipped, never the end of the run.
	src := ingest.NewFile(*posts, in, 0, ingest.DefaultConfig().MaxPostBytes)
	var n, matched, bad int
	for {
		b, err := src.Next(context.Background(), 500)
		for _, r := range b.Rejected {
			fmt.Fprintln(stderr, r.Reason)
			bad++
		}
		for _, it := range b.Items {
			p := it.Post
			if p.Kind == post.KindDelete {
				continue
			}
			n++
			for _, m := range e.Match(p) {
				matched++
				enc.Encode(struct {
					Post      string      `json:"post"`
					Watchlist string      `json:"watchlist"`
					Version   int         `json:"version"`
					Keywords  []string    `json:"keywords"`
					Spans     []post.Span `json:"spans"`
				}{p.Key(), m.Watchlist, m.Version, m.Keywords, m.Spans})
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", *posts, err)
		}
	}
	fmt.Fprintf(stderr, "%d posts, %d matches, %d unreadable lines\n", n, matched, bad)
	return nil
}

// watchlistTool is `earshot watchlist validate DIR` and
// `earshot watchlist import powertrack|brandwatch RULE`.
const watchlistUsage = "usage: earshot watchlist validate DIR [--config FILE] | import powertrack|brandwatch RULE | publish --config FILE [--dir DIR] | backtest FILE --since 7d | list|show|apply|submit|approve|reject|pause|resume|delete|import DIR|sync (the store: earshot watchlist list -h)"

func watchlistTool(args []string, stdout, stderr io.Writer) error {
	if helpWanted(args) {
		fmt.Fprintln(stderr, watchlistUsage)
		return nil
	}
	if len(args) > 0 {
		// One case per subcommand; each lives in its own file.
		switch args[0] {
		case "publish":
			return publishWatchlists(args[1:], stdout, stderr)
		case "backtest":
			return backtestTool(args[1:], stdout, stderr)
		case "list", "show", "apply", "submit", "approve", "reject", "pause", "resume", "delete", "sync":
			return watchlistStoreTool(args, stdout, stderr)
		case "import":
			if len(args) != 3 || (args[1] != "powertrack" && args[1] != "brandwatch") {
				return watchlistStoreTool(args, stdout, stderr)
			}
		}
	}
	if len(args) == 3 && args[0] == "import" {
		rule, err := match.ImportRule(args[1], args[2])
		if err != nil {
			return exitError{2, err}
		}
		fmt.Fprintln(stdout, rule)
		return nil
	}
	if len(args) >= 2 && args[0] == "validate" && helpWanted(args[1:]) {
		fmt.Fprintln(stderr, "usage: earshot watchlist validate DIR [--config FILE]   check the watchlist files of DIR (with --config: its enrich.regions and route.org)")
		return nil
	}
	if len(args) < 2 || args[0] != "validate" {
		return exitError{2, errors.New(watchlistUsage)}
	}
	vfs := flag.NewFlagSet("earshot watchlist validate", flag.ContinueOnError)
	vfs.SetOutput(stderr)
	config := vfs.String("config", "", "configuration file: its enrich.regions and route.org (owned accounts, for to:@owned) apply")
	if err := vfs.Parse(args[2:]); err != nil || vfs.NArg() > 0 {
		return exitError{2, errors.New(watchlistUsage)}
	}
	opts := match.Options{}
	if *config != "" {
		cfg, err := pipeline.Load(*config)
		if err != nil {
			return err
		}
		if opts, err = pipeline.MatchOptions(cfg); err != nil {
			return err
		}
	}
	lists, err := match.LoadDir(args[1])
	if err != nil {
		return err
	}
	e, err := match.CompileWith(lists, opts)
	if err == nil {
		err = match.CheckQuota(lists, match.DefaultConfig().TeamQuota)
	}
	if err != nil {
		return errors.Join(strictyaml.ErrInvalid, err)
	}
	fmt.Fprintf(stdout, "%d watchlists, %d distinct keywords: ok\n", len(lists), e.Keywords())
	return nil
}

// benchTool is `earshot bench match --keywords N [--baseline]`.
const benchUsage = "usage: earshot bench match --keywords N [--baseline] [--duration 5s]"

func benchTool(args []string, stdout, stderr io.Writer) error {
	if helpWanted(args) {
		fmt.Fprintln(stderr, benchUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "match" {
		return exitError{2, errors.New(benchUsage)}
	}
	fs := flag.NewFlagSet("earshot bench match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("keywords", 10_000, "keywords in the generated watchlist set")
	baseline := fs.Bool("baseline", false, "also run cloudflare/ahocorasick on the same posts")
	d := fs.Duration("duration", 5*time.Second, "how long to match with each engine")
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2, err}
	}
	r, err := bench.MatchBench(context.Background(), *n, *baseline, *d)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(r)
}

// publishWatchlists is `earshot watchlist publish`: it checks a directory of
// watchlists and makes the compacted topic <prefix>.watchlists hold exactly
// them, so that every matcher following it (match.follow: kafka) swaps them
// in within seconds.
func publishWatchlists(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot watchlist publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "deploy/examples/distributed.yaml", "configuration file (for Kafka and the topic prefix)")
	dir := fs.String("dir", "", "watchlists directory (default: match.watchlists of the config)")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	cfg, err := pipeline.Load(*config)
	if err != nil {
		return err
	}
	if cfg.Transport.Kind != "kafka" {
		return exitError{2, fmt.Errorf("%s: publishing needs transport.kind: kafka", *config)}
	}
	if *dir == "" {
		*dir = cfg.Match.Watchlists
	}
	lists, err := match.LoadDir(*dir)
	if err != nil {
		return err
	}
	if _, err := match.Compile(lists); err != nil {
		return errors.Join(strictyaml.ErrInvalid, err)
	}
	if err := match.CheckQuota(lists, cfg.Match.TeamQuota); err != nil {
		return errors.Join(strictyaml.ErrInvalid, err)
	}
	entries := map[string][]byte{}
	for _, w := range lists {
		entries[w.ID] = w.Source()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log, _ := newLogger("warn", stderr)
	k, err := stream.NewKafka(cfg.Transport.Kafka, "", log)
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.WaitReady(ctx); err != nil {
		return err
	}
	topic := pipeline.NewTopics(cfg.Transport.TopicPrefix).Watchlists()
	if err := k.EnsureTable(ctx, topic); err != nil {
		return err
	}
	written, deleted, err := k.PublishTable(ctx, topic, entries)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %d watchlists to %s: %d changed, %d removed\n", len(lists), topic, written, deleted)
	return nil
}
