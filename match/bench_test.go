package match_test

import (
	"fmt"
	"testing"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/match"
)

// BenchmarkMatch compares the engine with the cloudflare/ahocorasick
// baseline on the same realistic posts, at several keyword-set sizes:
//
//	go test -run XXX -bench Match -benchmem ./match/
func BenchmarkMatch(b *testing.B) {
	posts := bench.Posts(10_000, 7)
	var bytes int64
	for _, p := range posts {
		bytes += int64(len(p.Text))
	}
	for _, n := range []int{1_000, 10_000, 100_000} {
		lists := bench.KeywordSet(n, 1)
		b.Run(fmt.Sprintf("engine/keywords=%d", n), func(b *testing.B) {
			m, err := match.New(lists)
			if err != nil {
				b.Fatal(err)
			}
			e := m.Engine()
			b.SetBytes(bytes / int64(len(posts)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.Match(posts[i%len(posts)])
				i++
			}
		})
		b.Run(fmt.Sprintf("cloudflare/keywords=%d", n), func(b *testing.B) {
			base, err := bench.NewBaseline(lists)
			if err != nil {
				b.Skip(err)
			}
			b.SetBytes(bytes / int64(len(posts)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				base.Match(posts[i%len(posts)])
				i++
			}
		})
	}
}
