// Package digestcli is `earshot digest list|render`: the stakeholder
// digests from the command line (docs/digests.md). It lives here, not in
// cmd/earshot, to keep that under its size budget.
package digestcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/earshot-dev/earshot/digest"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/pipeline"
)

// DefaultConfig is the configuration file the commands read by default.
const DefaultConfig = "deploy/examples/distributed.yaml"

// Command returns `earshot digest`. Errors that are the user's (an
// unknown digest, a bad time, a bad configuration) are pipeline.ErrConfig.
func Command(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{Use: "digest COMMAND", Short: "stakeholder digests: list them, render one (docs/digests.md)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return pipeline.ConfigError(errors.New("digest: which command? (earshot digest -h lists them)"))
		}}
	var config string
	root.PersistentFlags().StringVar(&config, "config", DefaultConfig, "configuration file (its digests:, sink: and api.state_dir)")
	list := &cobra.Command{Use: "list", Short: "the configured digests, their next run and the archived ones", Args: nArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			cfg, err := pipeline.Load(config)
			if err != nil {
				return err
			}
			return List(cfg, time.Now(), stdout)
		}}
	var at, out string
	var noPDF bool
	render := &cobra.Command{Use: "render NAME [--at TIME] [--out DIR]", Short: "render a digest's period due at TIME (default now) into DIR",
		Long: `Renders the period of digest NAME (its name or slug) that its schedule made
due last at or before TIME (RFC 3339, or relative like 7d for seven days ago;
default now): digest.html (the page, chart inline), digest.txt, digest.pdf
(headless Chromium; --no-pdf without), volume.png, one CSV per table and
meta.json, which lists the cookbook queries every figure comes from. Without
--out it goes to the archive (<api.state_dir>/digests/SLUG/PERIOD). Nothing
is sent.`,
		Args: nArgs(1, "one digest name (earshot digest list shows them)"),
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := pipeline.Load(config)
			if err != nil {
				return err
			}
			when, err := insights.ParseDatetime(at, time.Now())
			if err != nil {
				return pipeline.ConfigError(fmt.Errorf("--at: %w", err))
			}
			m, err := Render(c.Context(), cfg, args[0], when, out, !noPDF)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %s to %s (%s), %d mentions\n", m.Name, m.Since.In(loc(m)).Format(time.RFC3339), m.Until.In(loc(m)).Format(time.RFC3339), m.Timezone, m.Mentions)
			fmt.Fprintf(stdout, "subject: %s\n", m.Subject)
			for _, f := range m.Files {
				fmt.Fprintln(stdout, filepath.Join(m.Dir, f))
			}
			return nil
		}}
	render.Flags().StringVar(&at, "at", "now", "the time the digest is due at (RFC 3339, or relative: 7d)")
	render.Flags().StringVar(&out, "out", "", "directory to write into; default the archive")
	render.Flags().BoolVar(&noPDF, "no-pdf", false, "do not print the PDF (no Chromium needed)")
	root.AddCommand(list, render)
	return root
}

// nArgs wants n arguments; misuse is a configuration error (exit 2), as
// earshot's other commands answer it.
func nArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return pipeline.ConfigError(fmt.Errorf("%s: want %s, got %q (%s -h)", c.CommandPath(), what, args, c.CommandPath()))
		}
		return nil
	}
}

func loc(m Meta) *time.Location {
	if l, err := time.LoadLocation(m.Timezone); err == nil {
		return l
	}
	return time.UTC
}

// Meta is a rendered digest and where it went.
type Meta struct {
	digest.Meta
	Dir string
}

// Render makes the digest's period due at `at` and writes it into dir (the
// archive when ""). A PDF needs Chromium, unless pdf is false.
func Render(ctx context.Context, cfg pipeline.Config, name string, at time.Time, dir string, pdf bool) (Meta, error) {
	dg, err := pipeline.FindDigest(cfg, name)
	if err != nil {
		return Meta{}, err
	}
	// Each figure is compared with the period before, so that one must
	// start within ClickHouse's DateTime too (--at 1970-01-01 is a bad
	// time, not a failed query).
	since, until, err := dg.Window(at)
	if err != nil {
		return Meta{}, pipeline.ConfigError(fmt.Errorf("--at %s: %w", at.Format(time.RFC3339), err))
	}
	if prev := since.Add(-until.Sub(since)); prev.Before(time.Unix(0, 0)) {
		return Meta{}, pipeline.ConfigError(fmt.Errorf("--at %s: the period %s to %s is compared with the one before it, which starts before 1970 (ClickHouse DateTime): give a later time",
			at.Format(time.RFC3339), since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339)))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	d, err := pipeline.OpenDigests(ctx, cfg)
	if err != nil {
		return Meta{}, err
	}
	defer d.Close()
	if !pdf {
		d.Chromium = ""
	} else if d.Chromium == "" {
		return Meta{}, pipeline.ConfigError(fmt.Errorf("%w; or pass --no-pdf", digest.ErrNoChromium))
	}
	p, err := d.Produce(ctx, dg, at)
	if err != nil {
		return Meta{}, err
	}
	if dir == "" {
		dir = pipeline.DigestArchive(cfg).Path(p.Report.Slug, digest.PeriodID(p.Report.Until))
	}
	m, err := digest.WriteDir(dir, p.Report, p.Loc, p.Rendered, p.PDF)
	return Meta{m, dir}, err
}

// List writes the configured digests (name, schedule, zone, next run,
// scope) and then the archived ones, newest first.
func List(cfg pipeline.Config, now time.Time, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DIGEST\tSLUG\tSCHEDULE\tTIMEZONE\tNEXT RUN\tSECTIONS")
	for _, d := range cfg.Digests {
		next, err := d.Next(now)
		nextS := next.Format(time.RFC3339)
		if err != nil {
			nextS = err.Error()
		}
		zone, _ := d.Location()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", d.Name, digest.Slug(d.Name), d.Schedule, zone, nextS, d.SectionList())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	archived, err := pipeline.DigestArchive(cfg).List(nil)
	if err != nil {
		return err
	}
	if len(archived) == 0 {
		_, err := fmt.Fprintln(w, "\nno digests archived yet in", pipeline.DigestArchive(cfg).Dir)
		return err
	}
	fmt.Fprintln(w, "\nARCHIVED")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tPERIOD\tSINCE\tUNTIL\tMENTIONS\tSUBJECT")
	for _, m := range archived {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.Slug, m.Period, m.Since.Format(time.RFC3339), m.Until.Format(time.RFC3339), m.Mentions, m.Subject)
	}
	return tw.Flush()
}
