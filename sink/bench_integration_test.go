//go:build integration

package sink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// benchItems returns n realistic enriched items: posts of about 140
// characters with their author, tags and engagement, one or two matches
// with spans.
func benchItems(n, seed int) []*post.Item {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	words := []string{"acme", "outage", "again", "support", "is", "the", "app", "down", "for", "me", "since", "this", "morning", "refund", "please", "great", "new", "phone", "love", "it"}
	regions := []string{"EMEA", "APAC", "NA", "LATAM", "unknown"}
	labels := []string{"negative", "neutral", "positive"}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	items := make([]*post.Item, n)
	for i := range items {
		text := ""
		for len(text) < 140 {
			text += words[r.IntN(len(words))] + " "
		}
		created := at.Add(time.Duration(r.IntN(3600)) * time.Second)
		it := &post.Item{
			Post: &post.Post{Platform: "x", ID: fmt.Sprintf("%d-%d", seed, i), Author: post.Author{ID: fmt.Sprint(r.IntN(1e6)), Handle: fmt.Sprintf("user%d", r.IntN(1e6)), Followers: int64(r.IntN(1e5)), Location: "Athens"},
				Text: text, CreatedAt: created, Lang: "en", Hashtags: []string{"acme"}, Mentions: []string{"acme_support"}, Country: "GR",
				Engagement: &post.Engagement{Likes: int64(r.IntN(100))}, Source: "synthetic", IngestedAt: created.Add(time.Second)},
			Matches: []post.Match{{Watchlist: "acme", Version: 3, Brand: "Acme", Team: "care", Keywords: []string{"acme", "outage"}, Tags: []string{"brand"},
				Spans: []post.Span{{Start: 0, End: 4, Term: "acme"}}}},
			Enrichment: &post.Enrichment{Lang: "en", LangConfidence: 0.9, Sentiment: -0.4, SentimentLabel: labels[r.IntN(3)], SentimentConfidence: 0.7,
				Country: "GR", Region: regions[r.IntN(len(regions))], RegionSource: "place", RegionConfidence: 0.9, Intents: []string{"complaint"}, Influence: 12},
		}
		if i%3 == 0 {
			it.Matches = append(it.Matches, post.Match{Watchlist: "acme-exec", Version: 1, Keywords: []string{"outage"}})
		}
		items[i] = it
	}
	return items
}

// BenchmarkSinkStage is the sink stage writing batches of enriched items
// (a posts row and one or two matches rows each) into the local server,
// appending column by column (as it runs) and row by row (for comparison),
// with one batch in flight or two (runner.workers: 2):
//
//	go test -tags integration -run '^$' -bench BenchmarkSink -benchtime 10x ./sink/
//
// rows/s counts posts and matches rows; send-share is the part of the time
// spent in Send, i.e. waiting for the server.
func BenchmarkSinkStage(b *testing.B) {
	for _, tc := range []struct {
		append  string
		size    int
		workers int
	}{
		{"rows", 10_000, 1}, {"columns", 10_000, 1},
		{"rows", 50_000, 1}, {"columns-sequential", 50_000, 1}, {"columns", 50_000, 1},
		{"columns", 100_000, 1},
		{"columns", 50_000, 2},
	} {
		b.Run(fmt.Sprintf("append=%s/batch=%d/workers=%d", tc.append, tc.size, tc.workers), func(b *testing.B) {
			conn, db := openTest(&testing.T{})
			defer conn.Close()
			defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
			reg := prometheus.NewRegistry()
			s := NewWith(conn, Config{Database: db}, Options{Registerer: reg})
			s.rowWise = tc.append == "rows"
			s.sequential = tc.append != "columns" // posts, then matches
			ctx := context.Background()
			if err := s.migrate(ctx); err != nil {
				b.Fatal(err)
			}
			// Distinct batches, generated before the clock starts.
			batches := make([][]*post.Item, 4)
			rowsPer, bytesPer := 0, 0
			for i := range batches {
				batches[i] = benchItems(tc.size, i)
			}
			for _, it := range batches[0] {
				rowsPer += 1 + len(it.Matches)
				bytesPer += len(it.Post.Text) + 200
			}
			stage := s.Stage()
			b.SetBytes(int64(bytesPer))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range tc.workers {
				wg.Go(func() {
					for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
						out, err := stage(ctx, post.Batch{Items: batches[i%int64(len(batches))]})
						if err != nil || len(out.Rejected) > 0 {
							b.Error(err, out.Rejected)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start).Seconds()
			b.ReportMetric(float64(rowsPer*b.N)/elapsed, "rows/s")
			b.ReportMetric(sendSeconds(reg)/elapsed/float64(tc.workers), "send-share")
		})
	}
}

// BenchmarkSinkVolume is the volume stage: one narrow volume_in row per
// post heard.
func BenchmarkSinkVolume(b *testing.B) {
	conn, db := openTest(&testing.T{})
	defer conn.Close()
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	s := NewWith(conn, Config{Database: db}, Options{})
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const size = 100_000
	batches := make([][]*post.Item, 4)
	for i := range batches {
		batches[i] = post.CountVolume(benchItems(size, 10+i))
	}
	stage := s.VolumeStage()
	b.SetBytes(size * 8)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if out, err := stage(ctx, post.Batch{Items: batches[i%len(batches)]}); err != nil || len(out.Rejected) > 0 {
			b.Fatal(err, out.Rejected)
		}
	}
	b.ReportMetric(float64(size*b.N)/time.Since(start).Seconds(), "rows/s")
}

func sendSeconds(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == "earshot_sink_flush_duration_seconds" {
			for _, m := range mf.GetMetric() {
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return sum
}
