package enrich

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/post"
)

// realisticBatch returns n synthetic posts as the match stage hands them on.
func realisticBatch(n int) (post.Batch, int64) {
	src := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: 7, BrandRate: 0.1})
	b := post.Batch{Items: make([]*post.Item, n)}
	var bytes int64
	for i := range b.Items {
		p := src.Post()
		b.Items[i] = &post.Item{Post: p}
		bytes += int64(len(p.Text))
	}
	return b, bytes
}

// BenchmarkStage runs the whole enrich stage on batches of 500 realistic
// posts; posts/s is per core with -cpu 1.
func BenchmarkStage(b *testing.B) {
	batch, bytes := realisticBatch(500)
	stage := New(Config{}).Stage()
	ctx := context.Background()
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		if _, err := stage(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, len(batch.Items), c0)
}

// BenchmarkBaselineStage is the walking skeleton's enricher on the same posts.
func BenchmarkBaselineStage(b *testing.B) {
	batch, bytes := realisticBatch(500)
	regions := New(Config{}).regions
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		for _, it := range batch.Items {
			it.Enrichment = baselineEnrich(regions, it.Post)
		}
	}
	reportRates(b, len(batch.Items), c0)
}

// Per-tag costs, to see where the time goes.
func BenchmarkTags(b *testing.B) {
	batch, bytes := realisticBatch(500)
	e := New(Config{})
	sc := new(wordsScratch)
	for _, tc := range []struct {
		name string
		f    func(p *post.Post, en *post.Enrichment)
	}{
		{"language", func(p *post.Post, en *post.Enrichment) { e.lang.detect(p.Text, p.Lang, 0.5) }},
		{"sentiment", func(p *post.Post, en *post.Enrichment) { e.senti.score(p.Text, p.Lang) }},
		{"region", e.region},
		{"intent", func(p *post.Post, en *post.Enrichment) { e.intents(p, en, intentWords(p.Text, nil)) }},
		{"cluster", func(p *post.Post, en *post.Enrichment) {
			sc.words, sc.buf = appendIntentWords(sc.words[:0], sc.buf, p.Text)
			e.cluster(p, en, sc)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			c0 := processCPU()
			for b.Loop() {
				for _, it := range batch.Items {
					var en post.Enrichment
					tc.f(it.Post, &en)
				}
			}
			reportRates(b, len(batch.Items), c0)
		})
	}
}

// reportRates reports posts/s (wall time) and, from the CPU time the
// process used since c0, cpu-µs/post and cpu-posts/s: on a shared machine
// the wall rate counts other processes' turns on the core, the CPU rate
// does not (with -cpu 1 it is the rate of one core of this machine, still
// slowed by neighbours sharing its caches).
func reportRates(b *testing.B, perOp int, c0 time.Duration) {
	n := float64(b.N * perOp)
	b.ReportMetric(n/b.Elapsed().Seconds(), "posts/s")
	if cpu := processCPU() - c0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1e3/n, "cpu-µs/post")
		b.ReportMetric(n/cpu.Seconds(), "cpu-posts/s")
	}
}

// BenchmarkNew measures loading the models and reports the heap they hold.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	var e *Enricher
	for b.Loop() {
		e = New(Config{})
	}
	b.StopTimer()
	var before, after runtime.MemStats
	e = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	e = New(Config{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(e)
	_ = strings.TrimSpace
}
