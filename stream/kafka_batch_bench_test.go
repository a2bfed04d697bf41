//go:build integration

package stream

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// processCPU is the CPU time of this process, every thread: kafka-go's
// reader and writer work on goroutines of their own.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKafkaBatchRecords is earshot's side of one hop through the
// local broker, per post: produce 500 posts (as a runner's batch), fetch
// them with a consumer group and commit, with one item per record
// (batch_items 1, the format before batch records) and with batch records
// of JSON and of binary items (transport.kafka.codec).
// cpu-µs/post is the process's CPU (producer, consumer, codec; not the
// broker's) over the posts moved.
//
//	go test -tags integration -run '^$' -bench KafkaBatchRecords -benchtime 40x ./stream/
func BenchmarkKafkaBatchRecords(b *testing.B) {
	for _, c := range []struct {
		items int
		codec string
	}{{1, "json"}, {500, "json"}, {500, "binary"}} {
		b.Run(fmt.Sprintf("batch_items=%d/codec=%s", c.items, c.codec), func(b *testing.B) {
			k, topic := newKafka(b)
			k.cfg.BatchItems, k.cfg.Codec = c.items, c.codec
			k.BatchTopics(topic)
			p, _ := k.Producer()
			defer p.Close()
			c, _ := k.Consumer(topic+".g", topic)
			defer c.Close()
			its := benchItems(500)
			size := 0
			for _, it := range its {
				b, _ := post.Encode(nil, it)
				size += len(b)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			cpu, posts := processCPU(), 0
			for b.Loop() {
				if err := p.Produce(ctx, outsOf(topic, its)); err != nil {
					b.Fatal(err)
				}
				wm := newWatermark()
				for got := 0; got < len(its); {
					ds, err := c.Fetch(ctx, 1000, 5*time.Millisecond)
					if err != nil {
						b.Fatal(err)
					}
					got += len(ds)
					if err := c.Commit(ctx, wm.done(wm.add(ds))); err != nil {
						b.Fatal(err)
					}
				}
				posts += len(its)
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(posts), "cpu-µs/post")
		})
	}
}
