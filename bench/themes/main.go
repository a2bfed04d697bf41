// Command themes measures the themes of package insights/themes.
//
// On the synthetic firehose, whose stories are known (ingest.SyntheticStory),
// it runs the pipeline's stages in one process (synthetic source → match
// with the example watchlists → enrich → sink into a scratch ClickHouse
// database, every batch twice as a redelivery would, deletes included),
// finds the themes of each watchlist over the last day against the days
// before, and reports purity (the share of a theme's posts from its
// dominant story) and coverage (the share of story posts in some theme),
// with the client's CPU time and memory:
//
//	go run ./bench/themes -mode synthetic -rate 2 -days 3
//
// The cost of one call over a scope of a million posts a day (filled on the
// server from 2,000 texts of the firehose, with a unique tail each): the
// server's time and memory (system.query_log) and the client's CPU and
// peak RSS, in a second process that only reads (-keep reuses the data):
//
//	go run ./bench/themes -mode cost -posts 1000000 -keep -db themes_cost
//	go run ./bench/themes -mode cost -posts 1000000 -keep -db themes_cost
//
// On a labelled tweet file (lang TAB label TAB text) it prints the themes
// of each language, for reading:
//
//	go run ./bench/themes -mode tsv -file /work/shared/data/sentiment/politics_el_es_en_dev.tsv
package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

func main() {
	mode := flag.String("mode", "synthetic", "synthetic, tsv or cost")
	posts := flag.Int("posts", 1_000_000, "cost: posts in scope in the period (and as many in the one before)")
	file := flag.String("file", "", "tsv: the file (lang TAB label TAB text)")
	addr := flag.String("addr", "127.0.0.1:9000", "synthetic: ClickHouse native address")
	db := flag.String("db", fmt.Sprintf("themes_measure_%d", time.Now().Unix()), "synthetic: scratch database (dropped at the end unless -keep)")
	keep := flag.Bool("keep", false, "synthetic: keep the database, and reuse it if it has posts")
	rate := flag.Int("rate", 2, "synthetic: posts per second of synthetic time")
	days := flag.Int("days", 3, "synthetic: days of posts; themes are of the last")
	brandRate := flag.Float64("brand-rate", 0.3, "synthetic: share of posts that mention a brand")
	watchlists := flag.String("watchlists", "deploy/examples/watchlists", "synthetic: watchlist directory")
	maxPosts := flag.Int("max-posts", themes.DefaultOptions().MaxPosts, "posts read per window")
	limit := flag.Int("limit", 10, "themes per scope")
	flag.Parse()
	switch *mode {
	case "synthetic":
		synthetic(*addr, *db, *keep, *rate, *days, *brandRate, *watchlists, *maxPosts, *limit)
	case "tsv":
		tsv(*file, *maxPosts, *limit)
	case "cost":
		cost(*addr, *db, *keep, *posts, *maxPosts, *limit)
	default:
		log.Fatalf("-mode %q: want synthetic or tsv", *mode)
	}
}

func synthetic(addr, db string, keep bool, rate, days int, brandRate float64, wlDir string, maxPosts, limit int) {
	ctx := context.Background()
	cfg := sink.DefaultConfig()
	cfg.Enabled, cfg.Addr, cfg.Database = true, []string{addr}, db
	conn, err := sink.Open(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	n := int64(days) * 86400 * int64(rate)
	// The ground truth: each stored post's story (the generator is
	// deterministic, so a kept database is regenerated the same).
	truth := map[string]string{}
	scfg := ingest.SyntheticConfig{Seed: 7, Rate: rate, BrandRate: brandRate, Start: start, DeleteRate: 0.005,
		// A crisis in the last day: Acme's negative sentences, 20 times as loud, for 3 hours.
		Crises: []ingest.Crisis{{Brand: "Acme", At: time.Duration(days-1)*24*time.Hour + 9*time.Hour, Duration: 3 * time.Hour, Factor: 20}}}
	syn := ingest.NewSynthetic(scfg)
	var stored uint64
	if keep {
		conn.QueryRow(ctx, "SELECT count() FROM "+db+".posts").Scan(&stored)
	}
	lists, err := match.LoadDir(wlDir)
	if err != nil {
		log.Fatal(err)
	}
	m, err := match.New(lists)
	if err != nil {
		log.Fatal(err)
	}
	if stored == 0 {
		if _, err := cfg.Schema().Migrate(ctx, conn, nil); err != nil {
			log.Fatal(err)
		}
	}
	if !keep {
		defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	}
	matchStage, enrichStage, sinkStage := m.Stage(), enrich.New(enrich.Config{}).Stage(), sink.NewWith(conn, cfg, sink.Options{}).Stage()
	loadStart := time.Now()
	var matched int
	for i := int64(0); i < n; {
		var b post.Batch
		for ; i < n && len(b.Items) < 5000; i++ {
			p := syn.Post()
			key := p.Platform + ":" + p.ID
			if p.Kind == post.KindDelete {
				delete(truth, key)
			} else {
				truth[key] = ingest.SyntheticStory(p.Text)
			}
			b.Items = append(b.Items, &post.Item{Post: p})
		}
		if stored > 0 {
			continue
		}
		out, err := matchStage(ctx, b)
		if err != nil {
			log.Fatal(err)
		}
		if out, err = enrichStage(ctx, out); err != nil {
			log.Fatal(err)
		}
		matched += len(out.Items)
		for range 2 { // a redelivery
			if _, err := sinkStage(ctx, out); err != nil {
				log.Fatal(err)
			}
		}
	}
	if stored == 0 {
		fmt.Printf("stored %d matched posts of %d generated in %.0fs (database %s)\n\n", matched, n, time.Since(loadStart).Seconds(), db)
	}
	o := themes.DefaultOptions()
	o.MaxPosts, o.Members = maxPosts, true
	ch := themes.ClickHouse{Conn: conn, DB: db}
	day := 24 * time.Hour
	// The sentences are translations of one another (en.neg.1, es.neg.1 …
	// are all "still waiting for a refund"): a story told in several
	// languages is one story too.
	across := map[string]string{}
	for k, s := range truth {
		if _, rest, ok := strings.Cut(s, "."); ok {
			across[k] = rest
		}
	}
	fmt.Println("| scope | posts in the day | read | themes | purity | purity, across languages | coverage (top " + fmt.Sprint(limit) + ") | coverage (top 100) | stories found | client CPU | wall |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	type shown struct {
		scope string
		ts    []themes.Theme
	}
	var show []shown
	for _, wl := range []string{"acme", "competitors"} {
		sc := themes.Scope{Watchlists: []string{wl}}
		runtime.GC()
		c0, w0 := cpu(), time.Now()
		res, err := o.Find(ctx, ch, sc, end.Add(-day), end, limit)
		if err != nil {
			log.Fatal(err)
		}
		cpuUsed, wall := cpu()-c0, time.Since(w0)
		all, err := o.Find(ctx, ch, sc, end.Add(-day), end, themes.MaxLimit)
		if err != nil {
			log.Fatal(err)
		}
		purity, cov := measure(res, truth)
		purityX, _ := measure(res, across)
		_, cov100 := measure(all, truth)
		found, total, missed := storiesFound(all, truth)
		fmt.Fprintf(os.Stderr, "%s: stories no theme is about: %s\n", wl, strings.Join(missed, ", "))
		fmt.Printf("| %s | %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %d of %d | %.2fs | %.2fs |\n", wl, res.Posts, res.Read, len(res.Themes), purity, purityX, cov, cov100, found, total, cpuUsed.Seconds(), wall.Seconds())
		show = append(show, shown{wl, res.Themes})
	}
	for _, s := range show {
		fmt.Printf("\n%s, the last day:\n\n", s.scope)
		for _, th := range s.ts {
			dom, share := dominant(th, truth)
			growth := "new"
			if th.Growth != nil {
				growth = fmt.Sprintf("%+.0f%%", 100**th.Growth)
			}
			fmt.Printf("- %q: %d posts (%d the day before, %s), %d neg / %d neu / %d pos; story %s (%.0f%%); e.g. %q\n",
				th.Label, th.Posts, th.Previous, growth, th.Sentiment.Negative, th.Sentiment.Neutral, th.Sentiment.Positive, dom, 100*share, th.Representative[0].Text)
		}
	}
}

// measure returns the purity of the themes (posts of each theme's dominant
// story over posts in themes) and their coverage (story posts read that
// are in a theme over story posts read).
func measure(res *themes.Result, truth map[string]string) (purity, coverage float64) {
	inTheme, dom := 0, 0
	for _, th := range res.Themes {
		_, share := dominant(th, truth)
		dom += int(share*float64(len(th.Members)) + 0.5)
		inTheme += len(th.Members)
	}
	if inTheme > 0 {
		purity = float64(dom) / float64(inTheme)
	}
	themed, stories := 0, 0
	for _, th := range res.Themes {
		for _, k := range th.Members {
			if truth[k] != "" {
				themed++
			}
		}
	}
	for _, k := range res.ReadKeys {
		if truth[k] != "" {
			stories++
		}
	}
	if stories > 0 {
		coverage = float64(themed) / float64(stories)
	}
	return purity, coverage
}

func dominant(th themes.Theme, truth map[string]string) (string, float64) {
	n := map[string]int{}
	for _, k := range th.Members {
		n[truth[k]]++
	}
	best, bn := "", -1
	for s, c := range n {
		if c > bn || c == bn && s < best {
			best, bn = s, c
		}
	}
	if len(th.Members) == 0 {
		return "", 0
	}
	if best == "" {
		best = "(none)"
	}
	return best, float64(bn) / float64(len(th.Members))
}

// storiesFound counts the stories with at least 10 posts among the posts
// read that are the dominant story of some theme, and lists the others.
func storiesFound(res *themes.Result, truth map[string]string) (found, total int, missed []string) {
	count := map[string]int{}
	for _, k := range res.ReadKeys {
		count[truth[k]]++
	}
	doms := map[string]bool{}
	for _, th := range res.Themes {
		d, _ := dominant(th, truth)
		doms[d] = true
	}
	for _, s := range slices.Sorted(maps.Keys(count)) {
		if c := count[s]; s != "" && c >= 10 {
			total++
			if doms[s] {
				found++
			} else {
				missed = append(missed, fmt.Sprintf("%s (%d)", s, c))
			}
		}
	}
	return found, total, missed
}

func tsv(path string, maxPosts, limit int) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var m themes.Memory
	langs := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan(); i++ {
		parts := strings.SplitN(sc.Text(), "\t", 3)
		if len(parts) != 3 {
			continue
		}
		label := map[string]string{"pos": "positive", "neg": "negative", "neu": "neutral"}[parts[1]]
		m.Add(themes.Post{Key: fmt.Sprintf("tsv:%d", i), Text: parts[2], Sentiment: label, CreatedAt: t0.Add(time.Duration(i) * time.Second)},
			themes.Match{Watchlist: parts[0]})
		langs[parts[0]]++
	}
	o := themes.DefaultOptions()
	o.MaxPosts = maxPosts
	for _, lang := range slices.SortedFunc(func(yield func(string) bool) {
		for l := range langs {
			if !yield(l) {
				return
			}
		}
	}, cmp.Compare) {
		res, err := o.Find(context.Background(), &m, themes.Scope{Watchlists: []string{lang}}, t0, t0.Add(7*24*time.Hour), limit)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("\n%s: %d posts, %d themes, %.0f%% of the posts in one\n\n", lang, res.Posts, len(res.Themes), 100*res.Themed)
		for _, th := range res.Themes {
			ex := th.Representative[0].Text
			if len(ex) > 140 {
				ex = ex[:strings.LastIndex(ex[:140], " ")] + " …"
			}
			fmt.Printf("- %q: %d posts (%d neg / %d neu / %d pos), e.g. %q\n", th.Label, th.Posts, th.Sentiment.Negative, th.Sentiment.Neutral, th.Sentiment.Positive, ex)
		}
	}
}

func cost(addr, db string, keep bool, n, maxPosts, limit int) {
	ctx := context.Background()
	cfg := sink.DefaultConfig()
	cfg.Enabled, cfg.Addr, cfg.Database = true, []string{addr}, db
	cfg.DialTimeout = 10 * time.Second
	conn, err := sink.Open(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var stored uint64
	conn.QueryRow(ctx, "SELECT count() FROM "+db+".matches").Scan(&stored)
	if !keep {
		defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	}
	if stored == 0 {
		if _, err := cfg.Schema().Migrate(ctx, conn, nil); err != nil {
			log.Fatal(err)
		}
		syn := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: 7, BrandRate: 1, Start: end})
		var texts []string
		for len(texts) < 2000 {
			if p := syn.Post(); p.Kind == "" {
				texts = append(texts, "'"+strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p.Text)+"'")
			}
		}
		arr := "[" + strings.Join(texts, ",") + "]"
		t := time.Now()
		// Two days: the period and the one before, n posts each; every
		// tenth post in a second watchlist, out of scope.
		from := end.Add(-48 * time.Hour).Unix()
		num := fmt.Sprintf("numbers(%d)", 2*n)
		when := fmt.Sprintf("toDateTime(%d + intDiv(number * 172800, %d))", from, 2*n)
		key := "concat('synthetic:', toString(number))"
		wl := "if(number % 10 = 0, 'other', 'acme')"
		for _, q := range []string{
			fmt.Sprintf("INSERT INTO %s.posts (post_key, platform, id, text, created_at, sentiment_label, inserted_at) SELECT %s, 'synthetic', toString(number), concat(arrayElement(%s, 1 + cityHash64(number) %% 2000), ' n', toString(number %% 9973)), %s, arrayElement(['positive','neutral','negative'], 1 + number %% 3), now() FROM %s", db, key, arr, when, num),
			fmt.Sprintf("INSERT INTO %s.matches (post_key, watchlist, team, region, keywords, created_at, sentiment_label, inserted_at) SELECT %s, %s, 'care', 'EMEA', ['acme'], %s, arrayElement(['positive','neutral','negative'], 1 + number %% 3), now() FROM %s", db, key, wl, when, num),
		} {
			if err := conn.Exec(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": 1 << 22})), q); err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("filled %s with %d posts in %.0fs; run again with -keep to measure in a fresh process\n", db, 2*n, time.Since(t).Seconds())
		if keep {
			return
		}
	}
	o := themes.DefaultOptions()
	o.MaxPosts = maxPosts
	ch := themes.ClickHouse{Conn: conn, DB: db}
	sc := themes.Scope{Watchlists: []string{"acme"}}
	// Each call's queries are found again in system.query_log by a marker
	// in a setting-free comment-less way: their time window.
	logged := func(since time.Time) (n, ms, rows, bytes, peak uint64) {
		conn.Exec(ctx, "SYSTEM FLUSH LOGS")
		q := "SELECT count(), sum(query_duration_ms), sum(read_rows), sum(read_bytes), max(memory_usage) FROM system.query_log WHERE type = 2 AND event_time >= toDateTime(" +
			fmt.Sprint(since.Unix()) + ") AND query LIKE '%" + db + ".%' AND query NOT LIKE '%query_log%'"
		if err := conn.QueryRow(ctx, q).Scan(&n, &ms, &rows, &bytes, &peak); err != nil {
			log.Printf("query_log: %v", err)
		}
		return
	}
	qctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
	var startedAt time.Time
	conn.QueryRow(ctx, "SELECT now()").Scan(&startedAt)
	c0, w0 := cpu(), time.Now()
	res, err := o.Find(qctx, ch, sc, end.Add(-24*time.Hour), end, limit)
	if err != nil {
		log.Fatal(err)
	}
	cpuUsed, wall := cpu()-c0, time.Since(w0)
	n1, ms1, rows1, bytes1, peak1 := logged(startedAt)
	// The baseline, in the same run: the cookbook's mentions_by_watchlist
	// over the same day (one pass over matches_dedup).
	time.Sleep(1100 * time.Millisecond)
	conn.QueryRow(ctx, "SELECT now()").Scan(&startedAt)
	cat, err := insights.Load()
	if err != nil {
		log.Fatal(err)
	}
	w1 := time.Now()
	if _, err := cat.Run(qctx, conn, db, "mentions_by_watchlist", map[string]string{"since": end.Add(-24 * time.Hour).Format(time.RFC3339), "until": end.Format(time.RFC3339)}); err != nil {
		log.Fatal(err)
	}
	baseWall := time.Since(w1)
	n2, ms2, rows2, bytes2, peak2 := logged(startedAt)
	fmt.Println("| call | posts in scope | read by the client | wall | client CPU | client max RSS | server queries | server time | rows read | bytes read | server peak memory |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| themes | %d | %d | %.2fs | %.2fs | %d MB | %d | %.2fs | %.1fM | %d MB | %d MB |\n", res.Posts, res.Read, wall.Seconds(), cpuUsed.Seconds(), maxRSS()>>20, n1, float64(ms1)/1000, float64(rows1)/1e6, bytes1>>20, peak1>>20)
	fmt.Printf("| mentions_by_watchlist (baseline) | | | %.2fs | | | %d | %.2fs | %.1fM | %d MB | %d MB |\n", baseWall.Seconds(), n2, float64(ms2)/1000, float64(rows2)/1e6, bytes2>>20, peak2>>20)
	for _, th := range res.Themes[:min(3, len(res.Themes))] {
		fmt.Printf("  %q: %d posts\n", th.Label, th.Posts)
	}
}
