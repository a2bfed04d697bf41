package search

import (
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestStageSharedBatches: the index stage keeps stream.Stage's contract
// (issue 16, 15): four workers at once over one batch (which route and the
// sink read too in embedded mode), no item modified.
func TestStageSharedBatches(t *testing.T) {
	x, err := OpenWith(testConfig(t), Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	items := many(200, "c")
	for i, it := range items {
		if i%5 == 0 {
			it.Post.Kind, it.Matches = post.KindDelete, nil
		}
	}
	stagetest.Concurrent(t, x.Stage(), post.Batch{Items: items}, 4, 3)
}
