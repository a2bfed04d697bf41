package match

import (
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestStageConcurrent: match keeps stream.Stage's contract (issue 16, 15):
// four workers at once over one batch, no item it is given modified.
func TestStageConcurrent(t *testing.T) {
	m, err := New([]*Watchlist{{ID: "acme", Version: 1, Status: "live", Rule: "acme OR refund"}})
	if err != nil {
		t.Fatal(err)
	}
	var in post.Batch
	for i := range 200 {
		p := &post.Post{Platform: "x", ID: strconv.Itoa(i), Text: "acme refund please " + strconv.Itoa(i), CreatedAt: time.Unix(1, 0)}
		switch i % 4 {
		case 1:
			p.Text = "nothing to see"
		case 2:
			p.Kind = post.KindDelete
		case 3:
			p.Kind = post.KindEdit
		}
		in.Items = append(in.Items, &post.Item{Post: p})
	}
	stagetest.Concurrent(t, m.Stage(), in, 4, 20)
}
