package enrich

import (
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestStageSharedBatches: enrich keeps stream.Stage's contract (issue 16, 15):
// four workers at once over one batch, no item it is given modified
// (clustering on, so its state is shared too).
func TestStageSharedBatches(t *testing.T) {
	e := New(Config{})
	var in post.Batch
	for i := range 200 {
		p := &post.Post{Platform: "x", ID: strconv.Itoa(i), Text: "acme charged me twice, lawsuit now " + strconv.Itoa(i%7), CreatedAt: time.Now()}
		it := &post.Item{Post: p, Matches: []post.Match{{Watchlist: "acme", Keywords: []string{"acme"}}}}
		if i%5 == 0 {
			p.Kind, it.Matches = post.KindDelete, nil
		}
		in.Items = append(in.Items, it)
	}
	stagetest.Concurrent(t, e.Stage(), in, 4, 10)
}
