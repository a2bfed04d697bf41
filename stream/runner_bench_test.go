package stream

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// BenchmarkRunner pushes a stream of posts through one runner on the
// in-memory transport, with a stage that spends a few microseconds of CPU a
// post (about what match costs), at 1, 2 and 4 workers. Bytes are post text.
func BenchmarkRunner(b *testing.B) {
	const n = 20_000
	its := make([]*post.Item, n)
	var bytes int64
	for i := range its {
		text := strings.Repeat("word"+strconv.Itoa(i%97)+" ", 30)
		its[i] = &post.Item{Post: &post.Post{Platform: "t", ID: strconv.Itoa(i), Text: text}}
		bytes += int64(len(text))
	}
	stage := func(_ context.Context, in post.Batch) (post.Batch, error) {
		for _, it := range in.Items {
			h := sha256.Sum256([]byte(it.Post.Text))
			for range 8 {
				h = sha256.Sum256(h[:])
			}
			_ = h
		}
		return in, nil
	}
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(bytes)
			start := time.Now()
			for b.Loop() {
				m := NewMemory(4096)
				in, _ := m.Consumer("stage", "in")
				out, _ := m.Producer()
				sinkC, _ := m.Consumer("sink", "out")
				drained := make(chan int)
				go func() {
					got := 0
					Drain(context.Background(), sinkC, quiet, func(Delivery) { got++ })
					drained <- got
				}()
				r := &Runner{
					Name: "bench", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
					Config: RunnerConfig{BatchSize: 500, Linger: time.Millisecond, Workers: workers, ShutdownTimeout: time.Minute},
					Stage:  stage, Topic: func(*post.Item) string { return "out" },
				}
				done := make(chan error)
				go func() { done <- r.Run(context.Background()) }()
				if err := out.Produce(context.Background(), outsOf("in", its)); err != nil {
					b.Fatal(err)
				}
				m.CloseTopic("in")
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				m.CloseTopic("out")
				if got := <-drained; got != n {
					b.Fatalf("drained %d, want %d", got, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "posts/s")
		})
	}
}
