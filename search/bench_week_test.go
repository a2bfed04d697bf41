package search

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// buildWeekByCopy fills dir with a 7-day window at perDay matched posts a
// day without indexing 7 days: one whole day (the day before testNow) is
// indexed and merged to one segment, then its shard is copied to the six
// days before it. Sizes, segments, terms and hit counts per shard are those
// of a real week; what is not real is that the copies hold the same posts
// (same ids and created_at as the indexed day). Queries do not look at
// created_at except through since/until, which choose shards by their day
// before anything else, so their latency is that of a real week.
func buildWeekByCopy(b *testing.B, c Config, perDay int) {
	day := testNow.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	now := testNow
	x, err := OpenWith(c, Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	built := time.Now()
	items, _ := firehose(b, min(perDay, 50_000))
	for start := 0; start < perDay; start += c.BatchSize {
		batch := make([]*post.Item, 0, c.BatchSize)
		for j := start; j < min(start+c.BatchSize, perDay); j++ {
			it := *items[j%len(items)]
			p := *it.Post
			p.ID = strconv.Itoa(j)
			p.CreatedAt = day.Add(time.Duration(j) * (24 * time.Hour / time.Duration(perDay)))
			it.Post = &p
			batch = append(batch, &it)
		}
		if err := x.Index(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("indexed %d posts into %s in %v (%.0f posts/s)", perDay, day.Format(dayLayout), time.Since(built), float64(perDay)/time.Since(built).Seconds())
	start := time.Now()
	x.Compact(b.Context(), x.Days())
	b.Logf("merged to one segment in %v", time.Since(start))
	if err := x.Close(); err != nil {
		b.Fatal(err)
	}
	src := filepath.Join(c.Dir, day.Format(dayLayout))
	start = time.Now()
	for d := 1; d < 7; d++ {
		dst := filepath.Join(c.Dir, day.Add(-time.Duration(d)*24*time.Hour).Format(dayLayout))
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			b.Fatalf("copying %s: %v", src, err)
		}
	}
	b.Logf("copied to 6 more days in %v", time.Since(start))
}
