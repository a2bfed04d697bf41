package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
)

// routeTool is `earshot route validate --policy FILE [--org FILE]`: errors
// (exit 2) and, as warnings, rules that overlap.
func routeTool(args []string, stdout, stderr io.Writer) error {
	if args[0] == "simulate" {
		return simulate(args[1:], stdout, stderr)
	}
	if args[0] != "validate" {
		return exitError{2, fmt.Errorf("route: unknown tool %q (route validate|simulate --policy FILE [--org FILE])", args[0])}
	}
	fs := flag.NewFlagSet("earshot route validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg route.Config
	fs.StringVar(&cfg.Policy, "policy", "deploy/examples/routing.yaml", "routing policy")
	fs.StringVar(&cfg.Org, "org", "", "organisation (teams, hours, queues)")
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2, err}
	}
	if cfg.Policy == "" {
		return exitError{2, errors.New("route validate: --policy is needed")}
	}
	p, err := route.Load(cfg)
	if err != nil {
		return err
	}
	for _, o := range p.Overlaps() {
		fmt.Fprintln(stdout, "warning:", o)
	}
	fmt.Fprintf(stdout, "%s: %d rules, queues %v: ok\n", cfg.Policy, len(p.Rules), p.AllQueues())
	return nil
}

// simulate is `earshot route simulate`: it replays posts through the
// policy and the organisation and prints, per queue and hour, volume, who
// is on duty, hand-offs and predicted SLA breaches.
func simulate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot route simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg route.Config
	fs.StringVar(&cfg.Policy, "policy", "deploy/examples/routing.yaml", "routing policy")
	fs.StringVar(&cfg.Org, "org", "deploy/examples/org.yaml", "organisation")
	posts := fs.String("posts", "", "NDJSON: wire items (already matched and enriched) or canonical posts (then --watchlists is needed)")
	watchlists := fs.String("watchlists", "", "match and enrich canonical posts with these watchlists first")
	atFlag := fs.String("at", "", "replay as if the first post came at this time (RFC 3339, e.g. 2026-11-20T00:00:00Z)")
	asJSON := fs.Bool("json", false, "one JSON object per queue and hour instead of a table")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	if *posts == "" {
		return exitError{2, errors.New("route simulate: --posts is needed")}
	}
	var start time.Time
	if *atFlag != "" {
		var err error
		if start, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return exitError{2, fmt.Errorf("--at: %w", err)}
		}
	}
	p, err := route.Load(cfg)
	if err != nil {
		return err
	}
	items, err := readItems(*posts, *watchlists, stderr)
	if err != nil {
		return err
	}
	rows := route.Simulate(p, items, start)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			enc.Encode(r)
		}
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HOUR (UTC)\tQUEUE\tON DUTY\tALERTS\tHANDED IN\tANSWERED\tBREACHES\tBACKLOG\tUNSTAFFED\tSUPPRESSED")
	var alerts, breaches, suppressed int
	for _, r := range rows {
		team, queue := r.Team, r.Queue
		if team == "" {
			team = "-"
		}
		if r.Suppressed > 0 {
			queue = "(suppressed: " + r.Reason + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Hour.Format("2006-01-02 15:00"), queue, team, r.Alerts, r.HandedIn, r.Answered, r.Breaches, r.Backlog, r.Unstaffed, r.Suppressed)
		alerts += r.Alerts
		breaches += r.Breaches
		suppressed += r.Suppressed
	}
	w.Flush()
	fmt.Fprintf(stdout, "%d posts, %d alerts, %d suppressed, %d predicted SLA breaches\n", len(items), alerts, suppressed, breaches)
	return nil
}

// readItems reads wire items, or canonical posts that it matches and
// enriches with the given watchlists.
func readItems(path, watchlists string, stderr io.Writer) ([]*post.Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m *match.Matcher
	e := enrich.New(enrich.Config{})
	if watchlists != "" {
		lists, err := match.LoadDir(watchlists)
		if err != nil {
			return nil, err
		}
		if m, err = match.New(lists); err != nil {
			return nil, err
		}
	}
	var items []*post.Item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		it, err := post.Decode(b)
		if err != nil {
			var p post.Post
			if jerr := json.Unmarshal(b, &p); jerr != nil || p.Validate() != nil {
				fmt.Fprintf(stderr, "%s:%d: neither a wire item nor a post: %v\n", path, line, err)
				continue
			}
			it = &post.Item{Post: &p}
		}
		if len(it.Matches) == 0 {
			if m == nil {
				return nil, exitError{2, fmt.Errorf("%s:%d: a post without matches: give --watchlists to match it", path, line)}
			}
			if it.Matches = m.Match(it.Post); len(it.Matches) == 0 {
				continue
			}
		}
		if it.Enrichment == nil {
			it.Enrichment = e.Enrich(it.Post)
			// As the enrich stage does: watchlists scoped to other regions
			// do not match.
			if it.Matches = enrich.InScope(it.Matches, it.Enrichment.Region); len(it.Matches) == 0 {
				continue
			}
		}
		items = append(items, it)
	}
	return items, sc.Err()
}
