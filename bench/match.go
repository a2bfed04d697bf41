// Package bench generates realistic loads and runs the benchmark harness:
// keyword sets and posts for the matcher, and comparisons against baselines.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// Realistic keyword sets: brand, product and topic terms in several
// scripts, one to three words each, in watchlists of 100 keywords with a few
// exclusions; every tenth watchlist is a rule with a wildcard and NEAR. A
// small share of the terms are words that occur in the synthetic posts, so
// that matching does real work on hits too, as it does in production.

var syllables = [][]string{
	{"ka", "lo", "mi", "ra", "ten", "vo", "zu", "pe", "dor", "an", "bri", "que", "sha", "lux", "ri", "no", "ve", "ta"},
	{"κα", "λο", "μι", "ρα", "τεν", "βο", "ζου", "πε", "δορ", "αν", "βρι", "σα", "λυ", "νο"},
	{"ка", "ло", "ми", "ра", "тен", "во", "зу", "пе", "дор"},
}

var cjk = []rune("東京大阪電話会社新品返金最悪品質配送問題店舗価格")

var postWords = []string{"acme", "globex", "initech", "phone", "router", "refund", "support", "service", "app", "plan", "κινητό", "εξυπηρέτηση", "reembolso", "Erstattung", "remboursement"}

func word(rng *rand.Rand) string {
	if rng.IntN(20) == 0 {
		n := 2 + rng.IntN(2)
		var b strings.Builder
		for range n {
			b.WriteRune(cjk[rng.IntN(len(cjk))])
		}
		return b.String()
	}
	s := syllables[rng.IntN(len(syllables))]
	var b strings.Builder
	for range 2 + rng.IntN(3) {
		b.WriteString(s[rng.IntN(len(s))])
	}
	return b.String()
}

// KeywordSet returns watchlists holding n distinct keywords in all.
func KeywordSet(n int, seed uint64) []*match.Watchlist {
	rng := rand.New(rand.NewPCG(seed, 99))
	seen := map[string]bool{}
	var lists []*match.Watchlist
	var cur *match.Watchlist
	for count := 0; count < n; {
		if cur == nil || len(cur.Keywords) == 100 {
			cur = &match.Watchlist{ID: fmt.Sprintf("w%06d", len(lists)), Team: "t", Brand: "b", Version: 1, Status: "live"}
			cur.Exclude = []string{word(rng)}
			lists = append(lists, cur)
		}
		var k string
		switch {
		case rng.IntN(200) == 0:
			k = postWords[rng.IntN(len(postWords))] + " " + word(rng)
		case rng.IntN(2000) == 0:
			k = postWords[rng.IntN(len(postWords))]
		default:
			words := []string{word(rng)}
			for rng.IntN(3) == 0 && len(words) < 3 {
				words = append(words, word(rng))
			}
			k = strings.Join(words, " ")
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		cur.Keywords = append(cur.Keywords, k)
		count++
	}
	for i, w := range lists {
		if i%10 == 9 && len(w.Keywords) > 3 {
			// A rule with a wildcard stem and proximity, keeping the keywords.
			quoted := make([]string, len(w.Keywords))
			for j, k := range w.Keywords {
				quoted[j] = `"` + k + `"`
			}
			stem := []rune(syllables[0][rng.IntN(len(syllables[0]))] + syllables[0][rng.IntN(len(syllables[0]))])
			w.Rule = fmt.Sprintf("(%s OR %s* OR (%s NEAR/5 %s)) -%s", strings.Join(quoted, " OR "), string(stem[:min(len(stem), 4)]), word(rng), word(rng), w.Exclude[0])
			w.Keywords, w.Exclude = nil, nil
		}
	}
	return lists
}

// Posts returns n realistic posts of about 200 bytes: synthetic firehose
// posts (mixed languages, hashtags, mentions, links, emoji), joined until
// they are that long.
func Posts(n int, seed uint64) []*post.Post {
	s := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: seed, BrandRate: 0.1})
	out := make([]*post.Post, n)
	for i := range out {
		p := s.Post()
		for len(p.Text) < 180 {
			p.Text += " " + s.Post().Text
		}
		out[i] = p
	}
	return out
}

// MatchResult is the outcome of MatchBench, one JSON line of `earshot bench match`.
type MatchResult struct {
	Keywords             int     `json:"keywords"`
	Watchlists           int     `json:"watchlists"`
	Posts                int     `json:"posts"`
	PostsPerSec          float64 `json:"posts_per_sec"`
	MatchedShare         float64 `json:"matched_share"`
	BuildSeconds         float64 `json:"build_seconds"`
	HeapBytes            uint64  `json:"heap_bytes"`
	BaselinePostsPerSec  float64 `json:"baseline_posts_per_sec,omitempty"`
	BaselineBuildSeconds float64 `json:"baseline_build_seconds,omitempty"`
	BaselineHeapBytes    uint64  `json:"baseline_heap_bytes,omitempty"`
	Ratio                float64 `json:"ratio,omitempty"`
	BaselineError        string  `json:"baseline_error,omitempty"`
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// MatchBench builds the engine (and, if asked, the cloudflare/ahocorasick
// baseline) over a set of n keywords and matches the same posts with each
// for about d, on one goroutine.
func MatchBench(ctx context.Context, n int, baseline bool, d time.Duration) (MatchResult, error) {
	lists := KeywordSet(n, 1)
	posts := Posts(20_000, 7)
	r := MatchResult{Keywords: n, Watchlists: len(lists), Posts: len(posts)}

	base := heap()
	start := time.Now()
	m, err := match.New(lists)
	if err != nil {
		return r, err
	}
	r.BuildSeconds = time.Since(start).Seconds()
	r.HeapBytes = heap() - base
	e := m.Engine()
	matched := 0
	for _, p := range posts {
		if len(e.Match(p)) > 0 {
			matched++
		}
	}
	r.MatchedShare = float64(matched) / float64(len(posts))
	r.PostsPerSec = rate(ctx, posts, d, func(p *post.Post) bool { return len(e.Match(p)) > 0 })

	if baseline {
		m, e = nil, nil
		base := heap()
		start := time.Now()
		b, err := NewBaseline(lists)
		if err != nil {
			r.BaselineError = err.Error()
			return r, nil
		}
		r.BaselineBuildSeconds = time.Since(start).Seconds()
		r.BaselineHeapBytes = heap() - base
		r.BaselinePostsPerSec = rate(ctx, posts, d, b.Match)
		r.Ratio = r.PostsPerSec / r.BaselinePostsPerSec
	}
	return r, nil
}

// rate matches posts round and round for about d and returns posts/s.
func rate(ctx context.Context, posts []*post.Post, d time.Duration, f func(*post.Post) bool) float64 {
	start := time.Now()
	n := 0
	for time.Since(start) < d && ctx.Err() == nil {
		for _, p := range posts[:min(len(posts), 2000)] {
			f(p)
		}
		n += min(len(posts), 2000)
		posts = append(posts[2000:], posts[:2000]...)
	}
	return float64(n) / time.Since(start).Seconds()
}
