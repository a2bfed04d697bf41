package stream

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// fileLike hands out b.N posts in batches, as a file replay does.
type fileLike struct {
	n, max int
	items  []*post.Item
}

func (s *fileLike) Next(_ context.Context, max int) (post.Batch, error) {
	if s.n >= s.max {
		return post.Batch{}, io.EOF
	}
	k := min(max, s.max-s.n, len(s.items))
	s.n += k
	return post.Batch{Items: s.items[:k]}, nil
}

type fileLikeCkpt struct{ *fileLike }

func (s fileLikeCkpt) Position() any              { return s.n }
func (s fileLikeCkpt) Checkpoint(any, bool) error { return nil }
func (s fileLikeCkpt) Next(ctx context.Context, max int) (post.Batch, error) {
	return s.fileLike.Next(ctx, max)
}

// BenchmarkEmbeddedChain is a source and three stages (one fanning out to
// two consumer groups) over the in-memory transport, with and without the
// tracker that holds a checkpoint back to what is fully processed.
func BenchmarkEmbeddedChain(b *testing.B) {
	for _, tracked := range []bool{false, true} {
		name := "untracked"
		if tracked {
			name = "tracked"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			m := NewMemory(8192)
			fl := &fileLike{max: b.N, items: items(500)}
			var src Source = fl
			var tr *Tracker
			if tracked {
				tr = NewTracker()
				m.Track(tr)
				src = fileLikeCkpt{fl}
			}
			out, _ := m.Producer()
			metrics := NewMetrics(prometheus.NewRegistry())
			cfg := RunnerConfig{BatchSize: 500, Linger: time.Millisecond, Workers: 1, ShutdownTimeout: time.Second}
			pass := func(_ context.Context, in post.Batch) (post.Batch, error) { return in, nil }
			var runners []*Runner
			chain := [][2]string{{"posts", "matched"}, {"matched", "enriched"}}
			for i, c := range chain {
				in, _ := m.Consumer(c[0], c[0])
				to := c[1]
				runners = append(runners, &Runner{Name: "s" + string(rune('0'+i)), In: in, Out: out, Stage: pass, Topic: func(*post.Item) string { return to }, DeadTopic: "dead", Config: cfg, Log: quiet, Metrics: metrics})
			}
			for _, g := range []string{"route", "sink"} {
				in, _ := m.Consumer(g, "enriched")
				runners = append(runners, &Runner{Name: g, In: in, Out: out, Stage: pass, Topic: func(*post.Item) string { return "" }, DeadTopic: "dead", Config: cfg, Log: quiet, Metrics: metrics})
			}
			sr := &SourceRunner{Name: "src", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 500, Log: quiet, Metrics: metrics, Tracker: tr}
			b.ResetTimer()
			var wg sync.WaitGroup
			done := map[string]chan struct{}{}
			for _, r := range runners {
				ch := make(chan struct{})
				done[r.Name] = ch
				wg.Go(func() { r.Run(context.Background()); close(ch) })
			}
			sr.Run(context.Background(), time.Second)
			m.CloseTopic("posts")
			<-done["s0"]
			m.CloseTopic("matched")
			<-done["s1"]
			m.CloseTopic("enriched")
			wg.Wait()
			if tracked && tr.Pending() != 0 {
				b.Fatalf("%d batches pending at the end", tr.Pending())
			}
		})
	}
}
