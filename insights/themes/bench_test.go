package themes

import (
	"context"
	"fmt"
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
