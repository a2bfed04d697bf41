package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// firehose returns n matched, enriched items from the synthetic firehose
// run through the example watchlists and the enricher, as the index stage
// receives them, and the number of posts it took to get them.
func firehose(tb testing.TB, n int) ([]*post.Item, int) {
	tb.Helper()
	lists, err := match.LoadDir(filepath.Join("..", "deploy", "examples", "watchlists"))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := match.New(lists)
	if err != nil {
		tb.Fatal(err)
	}
	src := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: 7, BrandRate: 0.1, Start: testNow.Add(-time.Hour)})
	e := enrich.New(enrich.Config{})
	var out []*post.Item
	seen := 0
	for len(out) < n {
		b, err := src.Next(context.Background(), 1000)
		if err != nil {
			tb.Fatal(err)
		}
		seen += len(b.Items)
		mb, _ := m.Stage()(context.Background(), b)
		eb, err := e.Stage()(context.Background(), mb)
		if err != nil {
			tb.Fatal(err)
		}
		for _, it := range eb.Items {
			if it.Post.Kind == "" {
				out = append(out, it)
			}
		}
	}
	return out[:n], seen
}

// BenchmarkIndex measures batch indexing of matched posts into one day
// shard, at the default batch size and a smaller one, in the same run.
func BenchmarkIndex(b *testing.B) {
	items, _ := firehose(b, 20_000)
	var bytes int64
	for _, it := range items {
		bytes += int64(len(it.Post.Text))
	}
	for _, v := range []struct{ size, parts int }{{DefaultConfig().BatchSize, 4}, {DefaultConfig().BatchSize, 1}, {1000, 1}} {
		b.Run(fmt.Sprintf("batch=%d/parts=%d", v.size, v.parts), func(b *testing.B) {
			now := testNow
			c := testConfig(b)
			c.BatchSize = v.size
			x := openTest(b, c, &now)
			x.maxParts = v.parts
			b.ReportAllocs()
			b.SetBytes(bytes / int64(len(items)))
			cpu0 := cpuTime()
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; {
				batch := make([]*post.Item, 0, c.BatchSize)
				for ; len(batch) < c.BatchSize && i < b.N; i++ {
					it := *items[i%len(items)]
					p := *it.Post
					p.ID = strconv.Itoa(n) // every post a new document
					n++
					it.Post = &p
					batch = append(batch, &it)
				}
				if err := x.Index(batch); err != nil {
					b.Fatal(err)
				}
			}
			x.Close() // waits for the persister and the merger
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
			// CPU time per post does not depend on what else the machine runs.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/post")
		})
	}
}

// BenchmarkIndexStage measures the index stage as the pipeline runs it on
// the enriched topic: each post decoded from its wire form (as the Kafka
// consumer does), then the stage, at the default batch size.
func BenchmarkIndexStage(b *testing.B) {
	items, _ := firehose(b, 20_000)
	wire := make([][]byte, len(items))
	for i, it := range items {
		var err error
		if wire[i], err = post.Encode(nil, it); err != nil {
			b.Fatal(err)
		}
	}
	now := testNow
	c := testConfig(b)
	x := openTest(b, c, &now)
	stage := x.Stage()
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; {
		batch := post.Batch{Items: make([]*post.Item, 0, c.BatchSize)}
		for ; len(batch.Items) < c.BatchSize && i < b.N; i++ {
			it, err := post.Decode(wire[i%len(wire)])
			if err != nil {
				b.Fatal(err)
			}
			it.Post.ID = strconv.Itoa(n) // every post a new document
			n++
			batch.Items = append(batch.Items, it)
		}
		out, err := stage(context.Background(), batch)
		if err != nil || len(out.Rejected) > 0 {
			b.Fatal(err, out.Rejected)
		}
	}
	x.Close()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/post")
}

// BenchmarkSearch7Days measures queries over a 7-day window. The size of
// the window comes from SEARCH_BENCH_PER_DAY (matched posts per day, default
// 20000); SEARCH_BENCH_DIR keeps the built index between runs;
// SEARCH_BENCH_COPY builds it by copying one indexed day (buildWeekByCopy).
func BenchmarkSearch7Days(b *testing.B) {
	perDay := 20_000
	if v := os.Getenv("SEARCH_BENCH_PER_DAY"); v != "" {
		perDay, _ = strconv.Atoi(v)
	}
	c := testConfig(b)
	if d := os.Getenv("SEARCH_BENCH_DIR"); d != "" {
		c.Dir = d
	}
	if os.Getenv("SEARCH_BENCH_COPY") != "" {
		if days, _ := os.ReadDir(c.Dir); len(days) < 7 {
			buildWeekByCopy(b, c, perDay)
		}
	}
	now := testNow
	x := openTest(b, c, &now)
	if len(x.Days()) < 7 {
		built := time.Now()
		items, _ := firehose(b, min(perDay, 50_000))
		n := 0
		for day := range 7 {
			for start := 0; start < perDay; start += c.BatchSize {
				batch := make([]*post.Item, 0, c.BatchSize)
				for j := start; j < min(start+c.BatchSize, perDay); j++ {
					it := *items[n%len(items)]
					p := *it.Post
					p.ID = strconv.Itoa(n)
					p.CreatedAt = testNow.Add(-time.Duration(day)*24*time.Hour - time.Duration(j)*(24*time.Hour/time.Duration(perDay)))
					it.Post = &p
					batch = append(batch, &it)
					n++
				}
				if err := x.Index(batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Logf("built 7 days of %d posts a day in %v (%.0f posts/s)", perDay, time.Since(built), float64(7*perDay)/time.Since(built).Seconds())
	}
	if os.Getenv("SEARCH_BENCH_COMPACT") != "" {
		start := time.Now()
		x.Compact(context.Background(), x.Days())
		b.Logf("merged %d shards to one segment each in %v", len(x.Days()), time.Since(start))
	}
	queries := []struct {
		name string
		q    Query
	}{
		{"word", Query{Text: "refund"}},
		{"phrase", Query{Text: `"customer service"`}},
		{"must-not+region", Query{Text: "acme -refund", Regions: []string{"EMEA"}}},
		{"all+sentiment", Query{Text: "*", Sentiments: []string{"negative"}}},
		{"prefix+lang", Query{Text: "outage down*", Langs: []string{"en"}}},
		{"word+1day", Query{Text: "globex", Since: testNow.Add(-24 * time.Hour)}},
		{"greek", Query{Text: "εξυπηρετηση"}},
		{"rare", Query{Text: "doppelt"}},
	}
	ctx := context.Background()
	var all []time.Duration
	for _, q := range queries {
		// SEARCH_BENCH_EXHAUSTIVE: every day searched, whatever the hit budget.
		q.q.Exhaustive = os.Getenv("SEARCH_BENCH_EXHAUSTIVE") != ""
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			lat := make([]time.Duration, 0, b.N)
			var total uint64
			partial := 0.0
			for range b.N {
				start := time.Now()
				r, err := x.Search(ctx, q.q)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				total, partial = r.Total, 0
				if r.Partial {
					partial = 1 // stopped at the hit budget, on r.SearchedFrom
				}
			}
			all = append(all, lat...)
			reportLatency(b, lat)
			b.ReportMetric(float64(total), "hits")
			b.ReportMetric(partial, "partial")
		})
	}
	b.Run("mix", func(b *testing.B) {
		reportLatency(b, all)
		b.ReportMetric(float64(x.Bytes())/(1<<20), "index-MiB")
	})
}

func reportLatency(b *testing.B, lat []time.Duration) {
	lat = slices.Clone(lat)
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
