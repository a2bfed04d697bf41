package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/digest"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/notify"
	"github.com/earshot-dev/earshot/sink"
)

// Digests makes the configured stakeholder digests from ClickHouse
// (docs/digests.md): on demand (earshot digest render) and on their
// schedules in the process that runs the notify stage.
type Digests struct {
	cfg      Config
	close    func() error // the ClickHouse connection's
	run      insights.Bound
	Chromium string        // the browser that prints PDFs; "" prints none
	Themes   digest.Themes // nil: the top terms stand in
	Now      func() time.Time
}

// DigestArchive is where rendered digests are kept: <api.state_dir>/digests.
func DigestArchive(cfg Config) digest.Archive {
	return digest.Archive{Dir: filepath.Join(cfg.API.StateDir, "digests")}
}

// OpenDigests connects to cfg's ClickHouse for the digests' queries.
func OpenDigests(ctx context.Context, cfg Config) (*Digests, error) {
	sc := cfg.Sink
	sc.Cluster = "" // it only reads
	conn, err := sink.Open(sc)
	if err != nil {
		return nil, err
	}
	if err := sink.Check(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	cat, err := insights.Load()
	if err != nil {
		conn.Close()
		return nil, err
	}
	d := &Digests{cfg: cfg, close: conn.Close, run: insights.Bound{Catalog: cat, Conn: conn, DB: sc.Database}, Now: time.Now,
		Themes: DigestThemes{themes.Bound{Reader: themes.ClickHouse{Conn: conn, DB: sc.Database, Cluster: cfg.Sink.Cluster != ""}, Options: themes.DefaultOptions()}}}
	if c, err := digest.FindChromium(os.Getenv); err == nil {
		d.Chromium = c
	}
	return d, nil
}

// Close closes the connection.
func (d *Digests) Close() { d.close() }

// Find returns the digest of that name or slug; an unknown one is ErrConfig.
func (d *Digests) Find(name string) (digest.Digest, error) { return FindDigest(d.cfg, name) }

// FindDigest returns the digest of cfg of that name or slug.
func FindDigest(cfg Config, name string) (digest.Digest, error) {
	var names []string
	for _, dg := range cfg.Digests {
		if dg.Name == name || digest.Slug(dg.Name) == name {
			return dg, nil
		}
		names = append(names, fmt.Sprintf("%q", dg.Name))
	}
	if len(names) == 0 {
		return digest.Digest{}, ConfigError(fmt.Errorf("digest %q: the configuration has no digests: section", name))
	}
	return digest.Digest{}, ConfigError(fmt.Errorf("digest %q: not in the configuration (it has %s)", name, strings.Join(names, ", ")))
}

// Produce builds and renders dg's period due at `at`, and prints its PDF
// when a browser is at hand.
func (d *Digests) Produce(ctx context.Context, dg digest.Digest, at time.Time) (*digest.Produced, error) {
	loc, err := dg.Location()
	if err != nil {
		return nil, ConfigError(err)
	}
	th := d.Themes
	if len(dg.Scope.Intents) > 0 {
		th = nil // themes do not narrow by intent: the top terms, which do, stand in
	}
	r, err := digest.Build(ctx, d.run, th, dg, at, d.Now())
	if err != nil {
		return nil, err
	}
	out, err := digest.Render(r, loc)
	if err != nil {
		return nil, err
	}
	p := &digest.Produced{Report: r, Loc: loc, Rendered: out}
	if d.Chromium != "" {
		if p.PDF, err = digest.PDF(ctx, d.Chromium, []byte(out.HTML)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addDigests adds the scheduler of the configured digests to a process
// that runs the notify stage, sending through its channels.
func (p *Process) addDigests(ctx context.Context, n *notify.Notifier, log *slog.Logger) error {
	if len(p.cfg.Digests) == 0 || n == nil {
		return nil
	}
	d, err := OpenDigests(ctx, p.cfg)
	if err != nil {
		return fmt.Errorf("digests: %w", err)
	}
	p.closers = append(p.closers, d.Close)
	log = log.With("component", "digest")
	if d.Chromium == "" {
		log.Warn("digests go without their PDF: " + digest.ErrNoChromium.Error())
	}
	kinds := map[string]string{}
	for name, ch := range p.cfg.Notify.Channels {
		kinds[name] = ch.Kind
	}
	s := &digest.Scheduler{Digests: p.cfg.Digests, Archive: DigestArchive(p.cfg), Produce: d.Produce, Send: n, Channels: kinds,
		BaseURL: p.cfg.Notify.DeskURL, Log: log, Registerer: p.reg}
	p.group.Add("digests", s.Run)
	return nil
}

// DigestThemes gives a digest the themes of insights/themes (what the API
// and the dashboard show) for its scope's watchlists, teams, regions and
// markets.
type DigestThemes struct{ Finder themes.Bound }

// Themes finds the top themes of s in [since, until).
func (t DigestThemes) Themes(ctx context.Context, s digest.Scope, since, until time.Time, top int) ([]digest.Theme, error) {
	res, err := t.Finder.Find(ctx, themes.Scope{Watchlists: s.Watchlists, Teams: s.Teams, Regions: s.Regions, Markets: s.Markets}, since, until, top)
	if err != nil {
		return nil, err
	}
	out := make([]digest.Theme, 0, len(res.Themes))
	for _, th := range res.Themes {
		dt := digest.Theme{Label: th.Label, Size: th.Posts, Previous: th.Previous, Negative: -1}
		if n := th.Sentiment.Positive + th.Sentiment.Neutral + th.Sentiment.Negative + th.Sentiment.Unknown; n > 0 {
			dt.Negative = float64(th.Sentiment.Negative) / float64(n)
		}
		for _, ex := range th.Representative {
			dt.Posts = append(dt.Posts, ex.Text)
		}
		out = append(out, dt)
	}
	return out, nil
}
