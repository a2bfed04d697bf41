package stream

import (
	"context"
	"fmt"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// BenchmarkProducerRecords is a producer's own work on one produce call of
// 1,000 posts, as ingest makes it: encoding the items (binary) and turning
// them into batch records, without the broker. Per post.
//
//	go test -run '^$' -bench ProducerRecords -benchmem ./stream/
func BenchmarkProducerRecords(b *testing.B) {
	p := testProducer(500, 1<<20, 8<<20, map[string]int{"posts": 4})
	p.binary = true
	outs := make([]Out, 1000)
	size := 0
	for i := range outs {
		it := testItem(fmt.Sprintf("7-%x", i*7919), fmt.Sprint("a post of a few words, number ", i))
		outs[i] = Out{Topic: "posts", Key: it.Key(), Item: it}
		size += len(post.AppendBinary(nil, it))
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		enc, err := p.encode(outs)
		if err != nil {
			b.Fatal(err)
		}
		if msgs := p.records(ctx, outs, enc); len(msgs) < 4 {
			b.Fatalf("%d records", len(msgs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(outs)), "ns/post")
}
