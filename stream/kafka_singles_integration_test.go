//go:build integration

package stream

import (
	"context"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestKafkaFewSinglesOneRequestPerPartition: a produce call's few single
// records (a route batch's alerts) go out in one produce request per
// partition, not one request per record sent one after the other per
// partition (kafka-go's writer of BatchSize 1: 20 alerts on a queue's
// partition were 20 round trips in a row). Every record arrives once.
func TestKafkaFewSinglesOneRequestPerPartition(t *testing.T) {
	k, topic := newKafka(t)
	k.BatchTopics(topic + ".other") // batching on, this topic's records single
	p, err := k.Producer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	// Warm the partition counts and connections: their metadata requests
	// are not produce requests, but the first call also dials.
	if err := p.Produce(ctx, outsOf(topic, benchItems(1))); err != nil {
		t.Fatal(err)
	}
	k.requests.collect()
	before := k.requests.produce.Load()
	its := benchItems(fewSingles)
	for i, it := range its {
		cp := *it.Post
		cp.ID = "s" + cp.ID
		its[i] = &post.Item{Post: &cp}
	}
	if err := p.Produce(ctx, outsOf(topic, its)); err != nil {
		t.Fatal(err)
	}
	k.requests.collect()
	if n, parts := k.requests.produce.Load()-before, int64(k.cfg.Partitions); n > parts {
		t.Errorf("%d single records: %d produce requests, want at most one per partition (%d)", len(its), n, parts)
	}
	c, err := k.Consumer(topic+".g", topic)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seen := map[string]int{}
	for _, d := range fetchN(t, c, len(its)+1) {
		if d.Err != nil || d.Item == nil {
			t.Fatalf("delivery %+v", d)
		}
		seen[d.Item.Post.ID]++
	}
	for _, it := range its {
		if seen[it.Post.ID] != 1 {
			t.Errorf("%s arrived %d times, want once", it.Post.ID, seen[it.Post.ID])
		}
	}
}
