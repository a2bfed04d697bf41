// Package stagetest checks that a stage keeps stream.Stage's concurrency
// contract: it is called from several workers at once, over batches whose
// items other stages are reading at the same time, and must neither modify
// those items nor race on its own state. Run it under -race.
package stagetest

import (
	"context"
	"sync"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// Concurrent calls stage from workers goroutines at once, each over the
// same batch (the same *post.Item pointers), rounds times, while another
// goroutine reads every item as a second consumer group of the topic would
// (it encodes them). It fails t when a call errs or when any item reads
// differently afterwards; under -race, a write to a shared item or an
// unguarded write to the stage's state is reported as a race.
func Concurrent(t testing.TB, stage func(context.Context, post.Batch) (post.Batch, error), in post.Batch, workers, rounds int) {
	t.Helper()
	before := encodeAll(t, in.Items)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() { // the sink and the search index read the enriched items route is given
		for {
			select {
			case <-stop:
				return
			default:
				for _, it := range in.Items {
					post.Encode(nil, it)
				}
			}
		}
	})
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				if _, err := stage(context.Background(), in); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("stage: %v", err)
	}
	after := encodeAll(t, in.Items)
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("the stage modified item %d it was given:\nbefore %s\nafter  %s", i, before[i], after[i])
			return
		}
	}
}

func encodeAll(t testing.TB, items []*post.Item) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		b, err := post.Encode(nil, it)
		if err != nil {
			t.Fatalf("encoding item %d: %v", i, err)
		}
		out[i] = string(b)
	}
	return out
}
