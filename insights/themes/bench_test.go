package themes

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest"
)

// synthetic stores n posts of the synthetic firehose, all of them about a
// brand, over [t0 − 2 weeks, t0 + 1 week).
func synthetic(n int) (*Memory, int64) {
	s := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: 7, BrandRate: 1, Rate: max(1, n/(21*86400)), Start: t0.Add(-2 * week)})
	var m Memory
	var bytes int64
	step := 3 * week / time.Duration(n)
	for i := range n {
		p := s.Post()
		bytes += int64(len(p.Text))
		m.Add(Post{Key: fmt.Sprint("synthetic:", i), Text: p.Text, Sentiment: "neutral", CreatedAt: t0.Add(-2*week + time.Duration(i)*step), Keywords: []string{"acme", "globex", "initech"}}, acme)
	}
	return &m, bytes
}

// BenchmarkFind is the client's cost of one Find over a week of 20,000
// posts read (the default sample) and the two weeks before as background:
// what a call costs whatever the volume in scope, since no more is read.
// The Memory reader's own sort is part of it.
func BenchmarkFind(b *testing.B) {
	m, bytes := synthetic(60_000)
	b.SetBytes(bytes / 3) // the period's text
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := DefaultOptions().Find(context.Background(), m, Scope{}, t0, t0.Add(week), 10)
		if err != nil || len(res.Themes) == 0 {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkFindDistinctWords is the worst case for memory: 60,000 posts
// of 100 words each, every word distinct (so every word is interned and
// none makes a phrase). It reports the peak heap above what the posts
// themselves take, sampled every 10 ms.
func BenchmarkFindDistinctWords(b *testing.B) {
	var m Memory
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 60_000 {
		var sb strings.Builder
		for range 100 {
			fmt.Fprintf(&sb, "w%x ", rng.Uint64())
		}
		m.Add(Post{Key: fmt.Sprint("k", i), Text: sb.String(), CreatedAt: t0.Add(time.Duration(i%3-2)*week + time.Hour)}, acme)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		done := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var top uint64
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapAlloc)
				select {
				case <-done:
					sampled <- top
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
		if _, err := DefaultOptions().Find(context.Background(), &m, Scope{}, t0, t0.Add(week), 10); err != nil {
			b.Fatal(err)
		}
		close(done)
		if top := <-sampled; top > base.HeapAlloc {
			peak = max(peak, top-base.HeapAlloc)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
}
