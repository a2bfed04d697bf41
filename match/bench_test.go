package match_test

import (
	"fmt"
	"testing"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/match"
)

// BenchmarkMatch compares the engine with the cloudflare/ahocorasick
// baseline on the same realistic posts, over the realistic brand watchlists
// and over the first, denser generated set, at several set sizes:
//
//	go test -run XXX -bench BenchmarkMatch -benchmem -cpu 1 -count 3 ./match/
//
// The engine does everything (folding, boundaries, rules, match records);
// the baseline is given text lower-cased before the clock starts. Each
// result reports the share of posts matched (matched-%). Engines and
// baselines are built once, outside the timed loop, and kept across -count
// repetitions.
func BenchmarkMatch(b *testing.B) {
	posts := bench.Posts(10_000, 7)
	var bytes int64
	for _, p := range posts {
		bytes += int64(len(p.Text))
	}
	for _, set := range []string{bench.SetBrands, bench.SetGenerated} {
		for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
			lists, err := bench.Keywords(set, n, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("engine/set=%s/keywords=%d", set, n), func(b *testing.B) {
				e := cached(b, fmt.Sprint("engine", set, n), func() (any, error) {
					m, err := match.New(lists)
					if err != nil {
						b.Fatal(err)
					}
					return m.Engine(), nil
				}).(*match.Engine)
				matched := 0
				for _, p := range posts {
					if len(e.Match(p)) > 0 {
						matched++
					}
				}
				b.SetBytes(bytes / int64(len(posts)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					e.Match(posts[i%len(posts)])
					i++
				}
				b.ReportMetric(100*float64(matched)/float64(len(posts)), "matched-%")
			})
			if n > 100_000 {
				continue // cloudflare's trie would need ~100 GB
			}
			b.Run(fmt.Sprintf("cloudflare/set=%s/keywords=%d", set, n), func(b *testing.B) {
				v := cached(b, fmt.Sprint("cloudflare", set, n), func() (any, error) {
					base, err := bench.NewBaseline(lists)
					if err != nil {
						return nil, err
					}
					texts := make([][]byte, len(posts))
					for i, p := range posts {
						texts[i] = base.Prepare(p)
					}
					return prepared{base, texts}, nil
				}).(prepared)
				matched := 0
				for _, t := range v.texts {
					if v.base.MatchPrepared(t) {
						matched++
					}
				}
				b.SetBytes(bytes / int64(len(posts)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					v.base.MatchPrepared(v.texts[i%len(v.texts)])
					i++
				}
				b.ReportMetric(100*float64(matched)/float64(len(posts)), "matched-%")
			})
		}
	}
}

type prepared struct {
	base  *bench.Baseline
	texts [][]byte
}

// cache holds the last thing built, so that -count repetitions of one
// benchmark build it once and the next benchmark frees it.
var cache struct {
	key string
	v   any
}

func cached(b *testing.B, key string, build func() (any, error)) any {
	if cache.key != key {
		cache.key, cache.v = "", nil
		v, err := build()
		if err != nil {
			b.Skip(err) // cloudflare's trie may not build; the engine's errors fail below
		}
		cache.key, cache.v = key, v
	}
	return cache.v
}
