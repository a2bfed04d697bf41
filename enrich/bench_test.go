package enrich

import (
	"context"
	"runtime"
	"strings"
	"testing"

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
	for b.Loop() {
		if _, err := stage(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch.Items))/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkBaselineStage is the walking skeleton's enricher on the same posts.
func BenchmarkBaselineStage(b *testing.B) {
	batch, bytes := realisticBatch(500)
	regions := New(Config{}).regions
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, it := range batch.Items {
			it.Enrichment = baselineEnrich(regions, it.Post)
		}
	}
	b.ReportMetric(float64(b.N*len(batch.Items))/b.Elapsed().Seconds(), "posts/s")
}

// Per-tag costs, to see where the time goes.
func BenchmarkTags(b *testing.B) {
	batch, bytes := realisticBatch(500)
	e := New(Config{})
	for _, tc := range []struct {
		name string
		f    func(p *post.Post, en *post.Enrichment)
	}{
		{"language", func(p *post.Post, en *post.Enrichment) { e.lang.detect(p.Text, p.Lang, 0.5) }},
		{"sentiment", func(p *post.Post, en *post.Enrichment) { e.senti.score(p.Text, p.Lang) }},
		{"region", e.region},
		{"intent", func(p *post.Post, en *post.Enrichment) { e.intents(p, en, intentWords(p.Text, nil)) }},
		{"cluster", func(p *post.Post, en *post.Enrichment) { e.cluster(p, en, intentWords(p.Text, nil)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			for b.Loop() {
				for _, it := range batch.Items {
					var en post.Enrichment
					tc.f(it.Post, &en)
				}
			}
			b.ReportMetric(float64(b.N*len(batch.Items))/b.Elapsed().Seconds(), "posts/s")
		})
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
