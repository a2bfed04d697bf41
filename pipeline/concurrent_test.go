package pipeline

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestVolumeStageSharedBatches: match with its volume counts keeps
// stream.Stage's contract (issue 16, 15).
func TestVolumeStageSharedBatches(t *testing.T) {
	m, err := match.New([]*match.Watchlist{{ID: "acme", Version: 1, Status: "live", Rule: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	var in post.Batch
	for i := range 200 {
		in.Items = append(in.Items, &post.Item{Post: &post.Post{Platform: "x", ID: strconv.Itoa(i), Text: "acme " + strconv.Itoa(i%3), CreatedAt: time.Now()}})
	}
	var n atomic.Int64
	stagetest.Concurrent(t, withVolume(m.Stage(), &n), in, 4, 10)
}
