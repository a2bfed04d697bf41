package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest"
)

// ingestTool runs `earshot ingest <source> …` tools.
func ingestTool(args []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "file":
		return ingestFileTool(args[1:], stdout, stderr, time.Now)
	}
	return exitError{2, fmt.Errorf("ingest: unknown tool %q (tools: file)", args[0])}
}

const ingestFileUsage = `usage: earshot ingest file FILE --dry-run [--format auto|canonical|bluesky|mastodon|x] [--max-post-bytes N] [--max-skew 10m]

Reads FILE (NDJSON, plain, gzip or zstd) as ingest.source: file would, prints
each canonical post as a JSON line on stdout and each dead letter with its
reason on stderr, sends nothing downstream, and ends with a summary line on
stdout. Exit code 1 when any line was refused.
`

// ingestFileTool checks an export before it is fed in.
func ingestFileTool(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("ingest file", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, ingestFileUsage) }
	cfg := ingest.DefaultConfig()
	format := fs.String("format", ingest.FormatAuto, "line format: auto, canonical, bluesky, mastodon or x")
	dry := fs.Bool("dry-run", false, "print posts instead of sending them (required)")
	fs.IntVar(&cfg.MaxPostBytes, "max-post-bytes", cfg.MaxPostBytes, "longer lines are dead letters")
	fs.DurationVar(&cfg.MaxSkew, "max-skew", cfg.MaxSkew, "posts dated further in the future are dead letters")
	// flags may come before or after FILE
	var path string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return exitError{2, err}
		}
		if args = fs.Args(); len(args) > 0 {
			if path != "" {
				return exitError{2, fmt.Errorf("ingest file: one FILE, got %q and %q", path, args[0])}
			}
			path, args = args[0], args[1:]
		}
	}
	switch {
	case path == "":
		fs.Usage()
		return exitError{2, errors.New("ingest file: no FILE")}
	case !*dry:
		return exitError{2, errors.New("ingest file: only --dry-run is supported; to feed a file in, set ingest.source: file and run 'earshot ingest --config FILE'")}
	}
	cfg.Source, cfg.File.Path, cfg.File.Format = "file", path, *format
	if err := cfg.Validate(); err != nil {
		return exitError{2, err}
	}
	f, err := ingest.OpenFileConfig(cfg)
	if err != nil {
		return exitError{1, err}
	}
	defer f.Close()
	f.SetClock(now)
	enc := gojson.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	ctx := context.Background()
	var readErr error
	for {
		b, err := f.Next(ctx, cfg.BatchSize)
		for _, it := range b.Items {
			if werr := enc.Encode(it.Post); werr != nil {
				return fmt.Errorf("writing post: %w", werr)
			}
		}
		for _, r := range b.Rejected {
			fmt.Fprintf(stderr, "dead letter: %s\n", r.Reason)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err // the summary of what was read still comes
			break
		}
	}
	st := f.Stats()
	if err := enc.Encode(struct {
		Summary ingest.FileStats `json:"summary"`
	}{st}); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	if readErr != nil {
		return exitError{1, readErr}
	}
	if st.Dead > 0 {
		return exitError{1, fmt.Errorf("ingest file: %d of %d lines refused", st.Dead, st.Lines)}
	}
	return nil
}
