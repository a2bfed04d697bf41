package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
	"github.com/earshot-dev/earshot/watchlist"
)

// MatchPosts writes every match of every post read from in (name for
// messages; any format the file source reads) as one JSON line on stdout,
// and a count on stderr: what watchlists match before they go live
// (earshot match --watchlists DIR --posts FILE). Lines the file source
// would refuse are reported on stderr and skipped.
func MatchPosts(e *match.Matcher, name string, in io.Reader, stdout, stderr io.Writer) error {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	// The ingest file decoder, as the pipeline reads a file: any format, the
	// same checks (UTF-8, duplicate keys, sizes), and a bad or over-long
	// line is reported and skipped, never the end of the run.
	src := ingest.NewFile(name, in, 0, ingest.DefaultConfig().MaxPostBytes)
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
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
	fmt.Fprintf(stderr, "%d posts, %d matches, %d unreadable lines\n", n, matched, bad)
	return nil
}

// PublishWatchlists makes the compacted topic <prefix>.watchlists hold
// exactly the watchlists of dir ("": match.watchlists), so that every
// matcher following it (match.follow: kafka) swaps them in within seconds,
// and says on w how many entries changed and were removed.
func PublishWatchlists(ctx context.Context, cfg Config, dir string, w io.Writer, log *slog.Logger) error {
	if cfg.Transport.Kind != "kafka" {
		return ConfigError(errors.New("publishing needs transport.kind: kafka"))
	}
	if dir == "" {
		dir = cfg.Match.Watchlists
	}
	lists, err := match.LoadDir(dir)
	if err != nil {
		return ConfigError(err)
	}
	topic, written, deleted, err := publish(ctx, cfg, lists, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "published %d watchlists to %s: %d changed, %d removed\n", len(lists), topic, written, deleted)
	return nil
}

func publish(ctx context.Context, cfg Config, lists []*match.Watchlist, log *slog.Logger) (topic string, written, deleted int, err error) {
	if _, err := match.Compile(lists); err != nil {
		return "", 0, 0, ConfigError(err)
	}
	if err := match.CheckQuota(lists, cfg.Match.TeamQuota); err != nil {
		return "", 0, 0, ConfigError(err)
	}
	entries := map[string][]byte{}
	for _, wl := range lists {
		entries[wl.ID] = wl.Source()
	}
	k, err := stream.NewKafka(cfg.Transport.Kafka, "", log)
	if err != nil {
		return "", 0, 0, err
	}
	defer k.Close()
	if err := k.WaitReady(ctx); err != nil {
		return "", 0, 0, err
	}
	topic = NewTopics(cfg.Transport.TopicPrefix).Watchlists()
	if err := k.EnsureTable(ctx, topic); err != nil {
		return "", 0, 0, err
	}
	written, deleted, err = k.PublishTable(ctx, topic, entries)
	if err != nil {
		return "", 0, 0, err
	}
	return topic, written, deleted, err
}

// OpenIndexReadOnly opens the search index of cfg (dir, when set, instead
// of search.dir) read-only, for a tool beside a running process.
func OpenIndexReadOnly(cfg Config, dir string) (*search.Index, error) {
	sc := cfg.Search
	if dir != "" {
		sc.Dir = dir
	}
	if sc.Dir == "" {
		return nil, ConfigError(errors.New("search.dir is empty: give --index DIR"))
	}
	x, err := search.OpenWith(sc, search.Options{ReadOnly: true, LockWait: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if errors.Is(err, search.ErrLocked) {
		return nil, fmt.Errorf("the search index %s is held open by a running earshot (run or index) and bleve allows one process at a time: "+
			"search through that process's HTTP API (POST /v1/search), or stop it and run this again: %w", sc.Dir, err)
	}
	return x, err
}

// Backtest runs the draft watchlist of the file draftPath over the posts
// in cfg's search index (indexDir, when set, instead of search.dir) and
// compares it with the live watchlists (liveDir, when set, instead of
// match.watchlists, or of match.store's live set), with cfg's regions and
// its organisation's markets. A draft, live watchlist or organisation that
// does not load is ErrConfig.
func Backtest(ctx context.Context, cfg Config, draftPath, indexDir, liveDir string, o backtest.Options) (*backtest.Report, error) {
	data, err := os.ReadFile(draftPath)
	if err != nil {
		return nil, ConfigError(err)
	}
	draft, err := match.Parse(draftPath, data)
	if err != nil {
		return nil, ConfigError(err)
	}
	x, err := OpenIndexReadOnly(cfg, indexDir)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	var live []*match.Watchlist
	if liveDir == "" {
		liveDir = cfg.Match.Watchlists
	}
	if liveDir == "" && cfg.Match.Store != "" {
		// The store's live set, as the matcher and the API's backtest read
		// it; a store never opened has none yet.
		d := watchlist.DefaultLiveDir(cfg.Match.Store)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			liveDir = d
		}
	}
	if liveDir != "" {
		if live, err = match.LoadDir(liveDir); err != nil {
			return nil, ConfigError(fmt.Errorf("live watchlists: %w", err))
		}
	}
	o.Regions = region.Map(cfg.Enrich.Regions)
	// The organisation's markets (route.org), for market: in rules, as the
	// live matcher and the API's backtest have them.
	if _, o.Markets, err = orgFacts(cfg); err != nil {
		return nil, ConfigError(fmt.Errorf("route.org: %w", err))
	}
	return backtest.Run(ctx, x, draft, live, o)
}

// ValidateWatchlists checks the watchlist files of dir as the matcher
// would compile them under cfg (its regions and owned accounts), with the
// default team quota; it returns how many there are and their distinct
// keywords. Problems are ErrConfig.
func ValidateWatchlists(dir string, cfg *Config) (lists, keywords int, err error) {
	opts := match.Options{}
	if cfg != nil {
		if opts, err = MatchOptions(*cfg); err != nil {
			return 0, 0, err
		}
	}
	ws, err := match.LoadDir(dir)
	if err != nil {
		return 0, 0, ConfigError(err)
	}
	e, err := match.CompileWith(ws, opts)
	if err == nil {
		err = match.CheckQuota(ws, match.DefaultConfig().TeamQuota)
	}
	if err != nil {
		return 0, 0, ConfigError(err)
	}
	return len(ws), e.Keywords(), nil
}

// ValidateRouting checks a routing policy and organisation and writes, as
// warnings, the rules that overlap, then a line of what it holds (earshot
// route validate). Problems are ErrConfig.
func ValidateRouting(cfg route.Config, w io.Writer) error {
	if cfg.Policy == "" {
		return ConfigError(errors.New("route validate: --policy is needed"))
	}
	p, err := route.Load(cfg)
	if err != nil {
		return ConfigError(err)
	}
	for _, o := range p.Overlaps() {
		fmt.Fprintln(w, "warning:", o)
	}
	fmt.Fprintf(w, "%s: %d rules, queues %v: ok\n", cfg.Policy, len(p.Rules), p.AllQueues())
	return nil
}

// SimulateRouting replays the posts of a file (AlertItems) through a
// routing policy and organisation, as if the first came at start (zero:
// when it did), and writes per queue and hour the volume, who is on duty,
// hand-offs and predicted SLA breaches, as a table or as JSON lines
// (earshot route simulate).
func SimulateRouting(cfg route.Config, posts, watchlists string, start time.Time, asJSON bool, w, warn io.Writer) error {
	p, err := route.Load(cfg)
	if err != nil {
		return ConfigError(err)
	}
	var markets map[string]string
	if cfg.Org != "" {
		o, err := route.LoadOrgIn(cfg.Org, region.Map(cfg.Regions))
		if err != nil {
			return ConfigError(err)
		}
		markets = region.MarketMap(o.MarketList())
	}
	items, err := alertItems(posts, watchlists, markets, warn)
	if err != nil {
		return Classify(err)
	}
	rows := route.Simulate(p, items, start)
	if !asJSON {
		route.WriteSimulation(w, rows, len(items))
		return nil
	}
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// MatchFile is the match tool (earshot match --watchlists DIR --posts
// FILE): the watchlists of dir (all: drafts and paused ones too) over the
// posts of a file ("-": stdin), through MatchPosts.
func MatchFile(dir, posts string, all bool, stdin io.Reader, stdout, stderr io.Writer) error {
	e, err := fileMatcher(dir, "", all)
	if err != nil {
		return err
	}
	in, done, err := openPosts(posts, stdin)
	if err != nil {
		return err
	}
	defer done()
	return MatchPosts(e, posts, in, stdout, stderr)
}

// fileMatcher is the matcher of the tools that read a file (match,
// filter): the watchlists of dir, or when dir is "" the keywords of the
// file keywords; all makes drafts and paused lists live. Errors are
// ErrConfig.
func fileMatcher(dir, keywords string, all bool) (*match.Matcher, error) {
	var lists []*match.Watchlist
	var err error
	if dir != "" {
		lists, err = match.LoadDir(dir)
	} else {
		lists, err = keywordLists(keywords)
	}
	if err != nil {
		return nil, ConfigError(err)
	}
	if all {
		for _, w := range lists {
			w.Status = "live"
		}
	}
	m, err := match.New(lists)
	return m, ConfigError(err)
}

// openPosts opens the posts file of a tool; "-" is stdin. done closes it.
func openPosts(path string, stdin io.Reader) (in io.Reader, done func(), err error) {
	if path == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// InsightServer is where a cookbook query runs: the sink section of a
// configuration, with each set field overriding it.
type InsightServer struct {
	Config                         string // "" for the local defaults
	User, Password, Addr, Database string
}

// InsightSQL binds a cookbook query on the server's database; a bad name
// or parameter is ErrConfig.
func InsightSQL(cat *insights.Catalog, srv InsightServer, name string, params map[string]string) (string, sink.Config, error) {
	sc, err := srv.sink()
	if err != nil {
		return "", sc, err
	}
	sc.Cluster = "" // it only reads; a readonly analyst may not send the cluster's insert setting
	sql, err := cat.Bind(sc.Database, name, params)
	return sql, sc, ConfigError(err)
}

// sink is the server's sink section: the config file's (or the local
// defaults), with the flags' overrides.
func (srv InsightServer) sink() (sink.Config, error) {
	sc := Default().Sink
	if srv.Config != "" {
		cfg, err := Load(srv.Config)
		if err != nil {
			return sc, err
		}
		sc = cfg.Sink
	}
	if srv.User != "" {
		sc.Username = srv.User
	}
	if srv.Database != "" {
		sc.Database = srv.Database
	}
	if srv.Password != "" { // the flag wins over the file's password, its file or its variable
		sc.Password, sc.PasswordFile, sc.PasswordEnv = secret.New(srv.Password), "", ""
	}
	if srv.Addr != "" {
		sc.Addr = []string{srv.Addr}
	}
	return sc, nil
}

// RunInsight runs a cookbook query on the server (earshot insights run).
func RunInsight(ctx context.Context, cat *insights.Catalog, srv InsightServer, name string, params map[string]string) (*insights.Table, error) {
	_, sc, err := InsightSQL(cat, srv, name, params) // everything that can be checked before connecting
	if err != nil {
		return nil, err
	}
	conn, err := sink.Open(sc) // lazy: its errors are the password's, its file's or the TLS files'
	if err != nil {
		return nil, ConfigError(err)
	}
	defer conn.Close()
	return cat.Run(ctx, conn, sc.Database, name, params)
}

// RunThemes finds the themes of a scope on the server (earshot insights
// themes); a bad period or limit is ErrConfig.
func RunThemes(ctx context.Context, srv InsightServer, sc themes.Scope, from, to time.Time, limit int) (*themes.Result, error) {
	cfg, err := srv.sink()
	if err != nil {
		return nil, err
	}
	o := themes.DefaultOptions()
	if err := o.Check(from, to, limit); err != nil {
		return nil, ConfigError(err)
	}
	cluster := cfg.Cluster != ""
	cfg.Cluster = "" // it only reads; a readonly analyst may not send the cluster's insert setting
	conn, err := sink.Open(cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return o.Find(ctx, themes.ClickHouse{Conn: conn, DB: cfg.Database, Cluster: cluster}, sc, from, to, limit)
}

// Search runs q on cfg's search index (dir, when set, instead of
// search.dir), opened read-only, and writes the result to w for a
// terminal or as JSON (earshot search).
func Search(cfg Config, dir string, q search.Query, asJSON bool, w io.Writer) error {
	x, err := OpenIndexReadOnly(cfg, dir)
	if err != nil {
		return err
	}
	defer x.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := x.Search(ctx, q)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.WriteText(w, q, x.Days())
	return nil
}

// FilterOptions is what earshot filter was asked: the watchlists of Dir
// (All: drafts and paused ones too) or the keywords of the file Keywords,
// over the lines of Path ("-": stdin).
type FilterOptions struct {
	Dir, Keywords, Path, Format string
	All, Strict                 bool
	Workers, MaxPostBytes       int
}

// Filter is earshot filter, the fast path for "keep the posts of this file
// that match": the lines of the file whose post matches, unchanged and in
// order, to stdout (ingest.Filter); refused lines and a JSON summary to
// stderr. A line without any keyword in it is skipped undecoded unless
// Strict. Bad options are ErrConfig; refused lines an error after the
// summary.
func Filter(ctx context.Context, o FilterOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case (o.Dir == "") == (o.Keywords == ""):
		return ConfigError(errors.New("filter: give one of --watchlists DIR and --keywords FILE"))
	case o.Workers < 0 || o.Workers > 1024:
		return ConfigError(fmt.Errorf("filter: --workers %d, want 0 to 1024", o.Workers))
	case o.MaxPostBytes < 1 || o.MaxPostBytes > 1<<30:
		return ConfigError(fmt.Errorf("filter: --max-post-bytes %d, want 1 to %d", o.MaxPostBytes, 1<<30))
	}
	m, err := fileMatcher(o.Dir, o.Keywords, o.All)
	if err != nil {
		return err
	}
	e := m.Engine()
	in, done, err := openPosts(o.Path, stdin)
	if err != nil {
		return err
	}
	defer done()
	opts := ingest.FilterOptions{Format: o.Format, MaxPostBytes: o.MaxPostBytes, Workers: o.Workers, Reject: func(r string) { fmt.Fprintln(stderr, r) }}
	if !o.Strict {
		opts.MayKeep = e.MayMatch // a line with no keyword in it is not decoded
	}
	st, err := ingest.Filter(ctx, o.Path, in, stdout, func(p *post.Post) bool { return len(e.Match(p)) > 0 }, opts)
	if err != nil {
		return err
	}
	sum, _ := json.Marshal(st)
	fmt.Fprintln(stderr, string(sum))
	if st.Dead > 0 {
		return fmt.Errorf("filter: %d lines refused", st.Dead)
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
