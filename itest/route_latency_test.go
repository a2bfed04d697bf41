//go:build integration

package itest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/stream"
)

// ackTimer wraps the route runner's producer and notes when each alert's
// record was acknowledged by the broker.
type ackTimer struct {
	stream.Producer
	mu    sync.Mutex
	acked map[string]time.Time // post key → when its alert was acknowledged
}

func (a *ackTimer) Produce(ctx context.Context, outs []stream.Out) error {
	if err := a.Producer.Produce(ctx, outs); err != nil {
		return err
	}
	now := time.Now()
	a.mu.Lock()
	for _, o := range outs {
		if o.Item != nil && o.Item.Alert != nil {
			a.acked[o.Key] = now
		}
	}
	a.mu.Unlock()
	return nil
}

// BenchmarkRouteLatency measures, through the real broker, the time from a
// post entering route (its enriched record acknowledged by Kafka) to its
// alert being acknowledged by Kafka: the consumer's fetch, the runner's
// linger, the policy, and the alert's produce with acks=all. Posts are
// sent one at a time, as a live stream delivers them. It reports p50 and
// p99 in milliseconds.
func BenchmarkRouteLatency(b *testing.B) {
	id := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	prefix := "it.routelat" + id
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	k := mustKafka(b, stream.DefaultKafkaConfig(), prefix+".deadletter", log)
	rc := stream.DefaultRunnerConfig()
	rc.Linger = route.DefaultConfig().Linger // as pipeline.Config.routeRunner sets it
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	policy, err := route.LoadPolicy(filepath.Join(root, "deploy/examples/routing.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	in := prefix + ".enriched"
	topics := []string{in, prefix + ".deadletter"}
	for _, q := range policy.AllQueues() {
		topics = append(topics, prefix+".alerts."+q)
	}
	if err := k.EnsureTopics(ctx, topics...); err != nil {
		b.Fatal(err)
	}
	c, err := k.Consumer(prefix+".route", in)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	out, err := k.Producer()
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	timer := &ackTimer{Producer: out, acked: map[string]time.Time{}}
	r := &stream.Runner{
		Name: "route", In: c, Out: timer, Stage: policy.Stage(time.Now), DeadTopic: prefix + ".deadletter",
		Topic:  func(it *post.Item) string { return prefix + ".alerts." + it.Alert.Queue },
		Config: rc, Log: log, Metrics: stream.NewMetrics(prometheus.NewRegistry()),
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	src, err := k.Producer()
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()

	item := func(n int) *post.Item {
		return &post.Item{
			Post:       &post.Post{Platform: "x", ID: fmt.Sprintf("lat%s-%d", id, n), Text: "acme broke again", CreatedAt: time.Now().UTC(), Author: post.Author{ID: "a", Followers: 10}},
			Matches:    []post.Match{{Watchlist: "acme-brand", Version: 1, Brand: "acme", Keywords: []string{"acme"}}},
			Enrichment: &post.Enrichment{Lang: "en", Sentiment: -0.6, SentimentLabel: "negative", Region: "EMEA", Country: "GR"},
		}
	}
	send := func(n int) (string, time.Time) {
		it := item(n)
		if err := src.Produce(ctx, []stream.Out{{Topic: in, Key: it.Key(), Item: it}}); err != nil {
			b.Fatal(err)
		}
		return it.Key(), time.Now()
	}
	waitFor := func(key string) time.Time {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
			timer.mu.Lock()
			t, ok := timer.acked[key]
			timer.mu.Unlock()
			if ok {
				return t
			}
		}
		b.Fatalf("no alert for %s within a minute", key)
		return time.Time{}
	}
	// The first post waits for the consumer group to form: not measured.
	k0, _ := send(-1)
	waitFor(k0)

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for n := range b.N {
		key, entered := send(n)
		lat = append(lat, waitFor(key).Sub(entered))
		time.Sleep(2 * time.Millisecond) // a live stream's pace, not a burst
	}
	b.StopTimer()
	cancel()
	<-done
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}
