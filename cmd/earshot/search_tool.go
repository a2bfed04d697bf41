package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/strictyaml"
)

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// openIndexForTool opens the search index of a configuration read-only.
func openIndexForTool(config, dir string) (*search.Index, pipeline.Config, error) {
	cfg, err := pipeline.Load(config)
	if err != nil {
		return nil, cfg, err
	}
	sc := cfg.Search
	if dir != "" {
		sc.Dir = dir
	}
	if sc.Dir == "" {
		return nil, cfg, exitError{2, fmt.Errorf("%s: search.dir is empty: give --index DIR", config)}
	}
	x, err := search.OpenWith(sc, search.Options{ReadOnly: true, LockWait: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if errors.Is(err, search.ErrLocked) {
		return nil, cfg, fmt.Errorf("the search index %s is held open by a running earshot (run or index) and bleve allows one process at a time: "+
			"search through that process's HTTP API (POST /v1/search), or stop it and run this again: %w", sc.Dir, err)
	}
	if err != nil {
		return nil, cfg, err
	}
	return x, cfg, nil
}

// searchTool is `earshot search "query" [filters]`.
func searchTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: earshot search "QUERY" [--watchlist W] [--region R] [--sentiment S] [--lang L] [--since 7d] [--exhaustive] [--json]
QUERY is bleve query-string syntax: words, "a phrase", +must, -not, field:value,
pre*, /regexp/, word~1; * alone matches everything (docs/search.md).`)
		fs.PrintDefaults()
	}
	config := fs.String("config", "deploy/examples/embedded.yaml", "configuration file (its search: section)")
	dir := fs.String("index", "", "index directory, overriding search.dir")
	var watchlists, regions, sentiments, langs listFlag
	fs.Var(&watchlists, "watchlist", "only posts of this watchlist (repeat or comma-separate for any of several)")
	fs.Var(&regions, "region", "only posts of this region")
	fs.Var(&sentiments, "sentiment", "negative, neutral or positive")
	fs.Var(&langs, "lang", "only posts in this language (ISO 639: en, el, …)")
	since := fs.String("since", "", "only posts created this recently: 7d, 36h, … (default: the whole retention window)")
	size := fs.Int("size", search.DefaultSize, fmt.Sprintf("hits to show, at most %d", search.MaxSize))
	from := fs.Int("from", 0, "offset of the first hit, for paging")
	exhaustive := fs.Bool("exhaustive", false, "search every day of the window, even past search.hit_budget hits (slower for broad queries)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{2, err}
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2, errors.New(`search: give one query (quote it: earshot search "refund -acme")`)}
	}
	q := search.Query{Text: pos[0], Watchlists: watchlists, Regions: regions, Sentiments: sentiments, Langs: langs, Size: *size, From: *from, Exhaustive: *exhaustive}
	if *since != "" {
		d, err := search.ParseAge(*since)
		if err != nil {
			return exitError{2, fmt.Errorf("--since %w", err)}
		}
		q.Since = time.Now().Add(-d)
	}
	x, _, err := openIndexForTool(*config, *dir)
	if err != nil {
		return err
	}
	defer x.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := x.Search(ctx, q)
	if errors.Is(err, search.ErrBadQuery) {
		return exitError{2, err}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printResult(stdout, res, q, x.Days())
	return nil
}

// printResult prints hits for a terminal: highlights in [brackets].
func printResult(w io.Writer, res *search.Result, q search.Query, days []string) {
	shown := ""
	if len(res.Hits) > 0 {
		shown = fmt.Sprintf(", showing %d–%d", q.From+1, q.From+len(res.Hits))
	}
	window := "no shards"
	if len(days) > 0 {
		window = days[0] + " to " + days[len(days)-1]
	}
	total := fmt.Sprint(res.Total)
	if res.Partial {
		// The newest days held search.hit_budget hits: the older ones were
		// not searched.
		total = "at least " + total
		window = res.SearchedFrom + " to " + days[len(days)-1] + " of " + window + "; --exhaustive for every day"
	}
	fmt.Fprintf(w, "%s posts%s (%s, index %s)\n", total, shown, res.Took.Round(time.Microsecond), window)
	mark := strings.NewReplacer("<mark>", "[", "</mark>", "]")
	for i, h := range res.Hits {
		text := h.Text
		if fr := h.Highlights["text"]; len(fr) > 0 {
			text = html.UnescapeString(mark.Replace(fr[0]))
		}
		fmt.Fprintf(w, "\n%d. %s  %s  @%s  %s/%s/%s  %v  score %.2f\n   %s\n", q.From+i+1, h.Key, h.CreatedAt.Format("2006-01-02 15:04"),
			strings.TrimPrefix(h.Author, "@"), orDash(h.Lang), orDash(h.Region), orDash(h.Sentiment), h.Watchlists, h.Score, strings.ReplaceAll(text, "\n", " "))
	}
	if res.Total == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, name := range []string{"watchlist", "region", "sentiment", "lang"} {
		var parts []string
		for _, f := range res.Facets[name] {
			parts = append(parts, fmt.Sprintf("%s %d", f.Term, f.Count))
		}
		fmt.Fprintf(w, "%-10s %s\n", name+":", strings.Join(parts, ", "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// backtestTool is `earshot watchlist backtest FILE --since 7d`.
func backtestTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot watchlist backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: earshot watchlist backtest FILE [--since 7d] [--index DIR] [--live DIR] [--sample N] [--json]\nRuns a draft watchlist over the posts in the search index and compares it with the live watchlists.")
		fs.PrintDefaults()
	}
	config := fs.String("config", "deploy/examples/embedded.yaml", "configuration file (its search: and match: sections)")
	dir := fs.String("index", "", "index directory, overriding search.dir")
	liveDir := fs.String("live", "", "directory of the live watchlists, overriding match.watchlists")
	since := fs.String("since", "7d", "how far back: 7d, 36h, … (clamped to the index's retention)")
	sample := fs.Int("sample", 10, "matched posts to show")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{2, err}
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2, errors.New("watchlist backtest: give one watchlist file")}
	}
	age, err := search.ParseAge(*since)
	if err != nil {
		return exitError{2, fmt.Errorf("--since %w", err)}
	}
	if *sample < 1 || *sample > 1000 {
		return exitError{2, fmt.Errorf("--sample %d: want 1 to 1000", *sample)}
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return exitError{2, err}
	}
	draft, err := match.Parse(pos[0], data)
	if err != nil {
		return err // wraps strictyaml.ErrInvalid: exit 2
	}
	x, cfg, err := openIndexForTool(*config, *dir)
	if err != nil {
		return err
	}
	defer x.Close()
	var live []*match.Watchlist
	ld := cfg.Match.Watchlists
	if *liveDir != "" {
		ld = *liveDir
	}
	if ld != "" {
		if live, err = match.LoadDir(ld); err != nil {
			return errors.Join(strictyaml.ErrInvalid, fmt.Errorf("live watchlists: %w", err))
		}
	}
	ctx, stop := signalContext(slog.New(slog.DiscardHandler))
	defer stop()
	rep, err := backtest.Run(ctx, x, draft, live, backtest.Options{Since: age, Sample: *sample, Regions: region.Map(cfg.Enrich.Regions)})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "backtest of %s from %s to %s: %d of %d indexed posts matched (%s)\n", rep.Watchlist,
		rep.Since.Format("2006-01-02 15:04"), rep.Until.Format("2006-01-02 15:04"), rep.Matched, rep.Scanned, rep.Took.Round(time.Millisecond))
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	fmt.Fprintln(stdout, "\nper day (UTC)   matched / indexed")
	for _, d := range rep.PerDay {
		fmt.Fprintf(stdout, "  %s  %7d / %d\n", d.Day, d.Matched, d.Scanned)
	}
	fmt.Fprintln(stdout, "\noverlap with the live watchlists (of the draft's matches, how many each also matched)")
	if len(rep.Overlap) == 0 {
		fmt.Fprintln(stdout, "  no live watchlists")
	}
	for _, o := range rep.Overlap {
		fmt.Fprintf(stdout, "  %-24s %7d  %5.1f%%\n", o.Watchlist, o.Both, 100*o.Share)
	}
	fmt.Fprintf(stdout, "\nsample (%d)\n", len(rep.Sample))
	for _, s := range rep.Sample {
		fmt.Fprintf(stdout, "  %s  %s  @%s  %v\n    %s\n", s.CreatedAt.Format("2006-01-02 15:04"), s.Key, strings.TrimPrefix(s.Author, "@"), s.Keywords, strings.ReplaceAll(s.Text, "\n", " "))
	}
	return nil
}
