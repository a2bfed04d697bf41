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

	"golang.org/x/sys/unix"

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
// they are that long. The posts lie side by side in memory, their texts
// too, as a batch decoded from the wire does, and as the baseline's
// prepared texts do.
func Posts(n int, seed uint64) []*post.Post {
	s := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: seed, BrandRate: 0.1})
	arr := make([]post.Post, n)
	var all strings.Builder
	ends := make([]int, n)
	for i := range arr {
		p := s.Post()
		for len(p.Text) < 180 {
			p.Text += " " + s.Post().Text
		}
		arr[i] = *p
		all.WriteString(p.Text)
		ends[i] = all.Len()
	}
	texts := all.String()
	out := make([]*post.Post, n)
	for i := range arr {
		arr[i].Text = texts[ends[i]-len(arr[i].Text) : ends[i]]
		out[i] = &arr[i]
	}
	return out
}

// MatchResult is the outcome of MatchBench, one JSON line of `earshot bench match`.
type MatchResult struct {
	KeywordSet               string  `json:"keyword_set"`
	Keywords                 int     `json:"keywords"`
	Terms                    int     `json:"terms"` // distinct terms the engine compiled
	Watchlists               int     `json:"watchlists"`
	Posts                    int     `json:"posts"`
	PostsPerSec              float64 `json:"posts_per_sec"`
	MatchedShare             float64 `json:"matched_share"`
	BuildSeconds             float64 `json:"build_seconds"`
	BuildCPUSeconds          float64 `json:"build_cpu_seconds"` // the process's CPU time during the build, GC included
	HeapBytes                uint64  `json:"heap_bytes"`
	BaselinePostsPerSec      float64 `json:"baseline_posts_per_sec,omitempty"`       // on text lower-cased beforehand
	BaselineLowerPostsPerSec float64 `json:"baseline_lower_posts_per_sec,omitempty"` // lower-casing each post itself
	BaselineMatchedShare     float64 `json:"baseline_matched_share,omitempty"`       // posts with any pattern
	BaselineBuildSeconds     float64 `json:"baseline_build_seconds,omitempty"`
	BaselineHeapBytes        uint64  `json:"baseline_heap_bytes,omitempty"`
	Ratio                    float64 `json:"ratio,omitempty"`       // posts_per_sec / baseline_posts_per_sec
	RatioLower               float64 `json:"ratio_lower,omitempty"` // posts_per_sec / baseline_lower_posts_per_sec
	BaselineError            string  `json:"baseline_error,omitempty"`
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Keyword sets for MatchBench.
const (
	SetBrands    = "brands"    // BrandKeywordSet: realistic brand watchlists
	SetGenerated = "generated" // KeywordSet: the first, denser set
)

// Keywords returns the named keyword set of about n keywords.
func Keywords(set string, n int, seed uint64) ([]*match.Watchlist, error) {
	switch set {
	case SetBrands:
		return BrandKeywordSet(n, seed), nil
	case SetGenerated:
		return KeywordSet(n, seed), nil
	}
	return nil, fmt.Errorf("keyword set %q: want %s or %s", set, SetBrands, SetGenerated)
}

// MatchBench is MatchBenchSet over the realistic brand watchlists.
func MatchBench(ctx context.Context, n int, baseline bool, d time.Duration) (MatchResult, error) {
	return MatchBenchSet(ctx, SetBrands, n, baseline, d)
}

// MatchBenchSet builds the engine (and, if asked, the
// cloudflare/ahocorasick baseline) over a set of n keywords and matches the
// same posts with each for about d, on one goroutine. The baseline's input
// is lower-cased before the clock starts (see Baseline).
func MatchBenchSet(ctx context.Context, set string, n int, baseline bool, d time.Duration) (MatchResult, error) {
	lists, err := Keywords(set, n, 1)
	if err != nil {
		return MatchResult{}, err
	}
	posts := Posts(20_000, 7)
	r := MatchResult{KeywordSet: set, Keywords: n, Watchlists: len(lists), Posts: len(posts)}

	base := heap()
	start, cpu := time.Now(), processCPU()
	m, err := match.New(lists)
	if err != nil {
		return r, err
	}
	r.BuildSeconds = time.Since(start).Seconds()
	r.BuildCPUSeconds = (processCPU() - cpu).Seconds()
	r.HeapBytes = heap() - base
	e := m.Engine()
	r.Terms = e.Keywords()
	matched := 0
	for _, p := range posts {
		if len(e.Match(p)) > 0 {
			matched++
		}
	}
	r.MatchedShare = float64(matched) / float64(len(posts))
	engine := func(i int) bool { return len(e.Match(posts[i])) > 0 }
	if !baseline {
		r.PostsPerSec = rates(ctx, len(posts), d, engine)[0]
		return r, nil
	}

	base = heap()
	start = time.Now()
	b, err := NewBaseline(lists)
	if err != nil {
		r.BaselineError = err.Error()
		r.PostsPerSec = rates(ctx, len(posts), d, engine)[0]
		return r, nil
	}
	r.BaselineBuildSeconds = time.Since(start).Seconds()
	r.BaselineHeapBytes = heap() - base
	texts := make([][]byte, len(posts))
	matched = 0
	for i, p := range posts {
		texts[i] = b.Prepare(p)
		if b.MatchPrepared(texts[i]) {
			matched++
		}
	}
	r.BaselineMatchedShare = float64(matched) / float64(len(posts))
	rs := rates(ctx, len(posts), 3*d, engine,
		func(i int) bool { return b.MatchPrepared(texts[i]) },
		func(i int) bool { return b.Match(posts[i]) })
	r.PostsPerSec, r.BaselinePostsPerSec, r.BaselineLowerPostsPerSec = rs[0], rs[1], rs[2]
	r.Ratio = r.PostsPerSec / r.BaselinePostsPerSec
	r.RatioLower = r.PostsPerSec / r.BaselineLowerPostsPerSec
	runtime.KeepAlive(m)
	return r, nil
}

// rates matches posts 0..n-1 round and round for about d with each of fs,
// alternating them on the same 2,000 posts at a time, and returns the
// posts/s of each in the thread's CPU time: a machine shared with other
// work slows them alike, and the ratios stay true.
func rates(ctx context.Context, n int, d time.Duration, fs ...func(int) bool) []float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spent := make([]time.Duration, len(fs))
	done := 0
	for start := time.Now(); time.Since(start) < d && ctx.Err() == nil; done += 2000 {
		for fi, f := range fs {
			t := threadCPU()
			for k := range 2000 {
				f((done + k) % n)
			}
			spent[fi] += threadCPU() - t
		}
	}
	out := make([]float64, len(fs))
	for i := range fs {
		out[i] = float64(done) / spent[i].Seconds()
	}
	return out
}

// processCPU is the CPU time of the process (all threads), or the wall
// clock where that clock is missing.
func processCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// threadCPU is the CPU time of the calling OS thread, or the wall clock
// where that clock is missing.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// ThreadCPU is the CPU time of the calling OS thread (lock it first with
// runtime.LockOSThread): benchmarks on a shared machine report it beside
// the wall clock, which other work inflates.
func ThreadCPU() time.Duration { return threadCPU() }
