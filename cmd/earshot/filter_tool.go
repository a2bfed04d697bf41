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
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

const filterUsage = `usage: earshot filter (--watchlists DIR | --keywords FILE) [--all] [--strict] [--format auto|canonical|bluesky|mastodon|x|reddit] [--workers N] [--max-post-bytes N] FILE|-

Copies to stdout the lines of FILE (NDJSON in any format ingest reads: plain, gzip or
zstd; - for stdin) whose post matches any live watchlist of DIR, or any keyword of
FILE (one a line, matched as watchlist keywords are), unchanged and in order: the
original posts, not match records (for those, earshot match). Each line is decoded and
checked as ingest reads a file; a line it would refuse goes to stderr with the reason,
is not copied, and makes the exit code 1. A line in which no keyword occurs at all (its
post text literal in it: no escapes or HTML) is skipped undecoded, so a broken line
among those is not reported: --strict decodes and checks every line. A summary line
goes to stderr.
`

// filterTool is `earshot filter`: the fast path for "keep the posts of this
// file that match". The work is ingest.Filter's; this parses flags.
func filterTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot filter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, filterUsage) }
	dir := fs.String("watchlists", "", "directory of watchlist files")
	kwFile := fs.String("keywords", "", "file of keywords, one a line")
	all := fs.Bool("all", false, "match draft and paused watchlists too")
	format := fs.String("format", ingest.FormatAuto, "line format")
	workers := fs.Int("workers", 0, "decoding and matching goroutines (0: one per core)")
	maxBytes := fs.Int("max-post-bytes", ingest.DefaultConfig().MaxPostBytes, "longer lines are refused")
	strict := fs.Bool("strict", false, "decode and check every line, also those that hold no keyword (slower; reports every line ingest would refuse)")
	var path string
	for len(args) > 0 { // flags may come before or after FILE
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return exitError{2, err}
		}
		if args = fs.Args(); len(args) > 0 {
			if path != "" {
				return exitError{2, fmt.Errorf("filter: one FILE, got %q and %q", path, args[0])}
			}
			path, args = args[0], args[1:]
		}
	}
	switch {
	case path == "":
		fs.Usage()
		return exitError{2, errors.New("filter: no FILE")}
	case (*dir == "") == (*kwFile == ""):
		return exitError{2, errors.New("filter: give one of --watchlists DIR and --keywords FILE")}
	case *workers < 0 || *workers > 1024:
		return exitError{2, fmt.Errorf("filter: --workers %d, want 0 to 1024", *workers)}
	case *maxBytes < 1 || *maxBytes > 1<<30:
		return exitError{2, fmt.Errorf("filter: --max-post-bytes %d, want 1 to %d", *maxBytes, 1<<30)}
	}
	var lists []*match.Watchlist
	var err error
	if *dir != "" {
		if lists, err = match.LoadDir(*dir); err != nil {
			return err
		}
	} else if lists, err = keywordLists(*kwFile); err != nil {
		return exitError{2, err}
	}
	if *all {
		for _, w := range lists {
			w.Status = "live"
		}
	}
	m, err := match.New(lists)
	if err != nil {
		return errors.Join(strictyaml.ErrInvalid, err)
	}
	e := m.Engine()
	in := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return exitError{1, err}
		}
		defer f.Close()
		in = f
	}
	opts := ingest.FilterOptions{Format: *format, MaxPostBytes: *maxBytes, Workers: *workers, Reject: func(r string) { fmt.Fprintln(stderr, r) }}
	if !*strict {
		opts.MayKeep = e.MayMatch // a line with no keyword in it is not decoded
	}
	st, err := ingest.Filter(context.Background(), path, in, stdout, func(p *post.Post) bool { return len(e.Match(p)) > 0 }, opts)
	if err != nil {
		return exitError{1, err}
	}
	sum, _ := json.Marshal(st)
	fmt.Fprintln(stderr, string(sum))
	if st.Dead > 0 {
		return exitError{1, fmt.Errorf("filter: %d lines refused", st.Dead)}
	}
	return nil
}

// keywordLists reads a file of keywords, one a line (blank lines and lines
// starting with # are skipped), into live watchlists of at most
// match.MaxKeywords each.
func keywordLists(path string) ([]*match.Watchlist, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	defer f.Close()
	var lists []*match.Watchlist
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k := strings.TrimSpace(sc.Text())
		if k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		if len(lists) == 0 || len(lists[len(lists)-1].Keywords) == match.MaxKeywords {
			lists = append(lists, &match.Watchlist{ID: "keywords-" + strconv.Itoa(len(lists)+1), Status: "live", Version: 1})
		}
		w := lists[len(lists)-1]
		w.Keywords = append(w.Keywords, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("filter: reading %s: %w", path, err)
	}
	if len(lists) == 0 {
		return nil, fmt.Errorf("filter: %s holds no keywords", path)
	}
	return lists, nil
}
