package match_test

import (
	"context"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// TestHotSwapUnderLoad swaps a 100k-keyword set in while posts are being
// matched and checks that matching never stalls: the build runs beside the
// matching, and the swap itself is one pointer store. It reports the longest
// gap between two batches, the build time and the throughput around the swap.
func TestHotSwapUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two 100k-keyword sets")
	}
	a, b := bench.KeywordSet(100_000, 1), bench.KeywordSet(100_000, 2)
	m, err := match.New(a)
	if err != nil {
		t.Fatal(err)
	}
	posts := bench.Posts(5_000, 7)
	items := make([]*post.Item, 100)
	stage := m.Stage()
	ctx, cancel := context.WithCancel(context.Background())
	type tick struct {
		at time.Time
		n  int
	}
	ticks := make(chan []tick, 1)
	go func() {
		var ts []tick
		for i := 0; ctx.Err() == nil; i++ {
			for j := range items {
				items[j] = &post.Item{Post: posts[(i*len(items)+j)%len(posts)]}
			}
			if _, err := stage(ctx, post.Batch{Items: items}); err != nil {
				t.Error(err)
			}
			ts = append(ts, tick{time.Now(), len(items)})
		}
		ticks <- ts
	}()
	time.Sleep(500 * time.Millisecond)
	swapStart := time.Now()
	if err := m.Swap(b); err != nil {
		t.Fatal(err)
	}
	build := time.Since(swapStart)
	time.Sleep(500 * time.Millisecond)
	cancel()
	ts := <-ticks

	var gap time.Duration
	var before, during int
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].at.Sub(ts[i-1].at))
		switch {
		case ts[i].at.Before(swapStart):
			before += ts[i].n
		case ts[i].at.Before(swapStart.Add(build)):
			during += ts[i].n
		}
	}
	rateBefore := float64(before) / swapStart.Sub(ts[0].at).Seconds()
	rateDuring := float64(during) / build.Seconds()
	t.Logf("build and swap of 100k keywords: %v; longest gap between batches: %v; %.0f posts/s before, %.0f/s during the build (the build takes a core)", build, gap, rateBefore, rateDuring)
	if during == 0 {
		t.Error("matching stopped for the whole build")
	}
	if gap > build/2 && gap > 200*time.Millisecond {
		t.Errorf("a gap of %v between batches during a build of %v: matching stalled", gap, build)
	}
	if m.Engine().Watchlists()[0] != b[0] {
		t.Error("the new set is not live after the swap")
	}
}
