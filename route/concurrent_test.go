package route

import (
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestStageConcurrent is issue 16 (15): the runner calls route from its
// workers at once (deploy/examples/distributed.yaml sets two), over items
// the sink and the search index read at the same time in embedded mode.
// Route must not write its spike state unguarded nor set Alert on the
// items it is given.
func TestStageConcurrent(t *testing.T) {
	p, err := load(t, policy+`
  - name: legal-copy
    when: {watchlists: [acme-legal-copy]}
    queue: legal
    priority: P1
    notify: [pr]
spikes: {window: 5m, min_count: 2, factor: 1.5, queue: pr, priority: P2}
`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var in post.Batch
	for i := range 200 {
		var it *post.Item
		switch i % 5 {
		case 0:
			it = item("acme", []string{"acme"}, "negative", "EMEA", 10)
		case 1:
			it = item("acme-legal-copy", []string{"lawsuit"}, "positive", "EMEA", 10) // an alert and a copy
		case 2:
			it = item("acme", []string{"acme"}, "negative", "EMEA", 10)
			it.Enrichment.ClusterID, it.Enrichment.ClusterSize = "c1", i // an incident
		case 3:
			it = &post.Item{Post: &post.Post{Platform: "x", ID: strconv.Itoa(i - 3), Kind: post.KindDelete}} // retracts post i-3
		default:
			it = item("acme", []string{"refund"}, "positive", "EMEA", 10) // no alert, counted for spikes
		}
		if it.Post.Kind != post.KindDelete {
			it.Post.ID = strconv.Itoa(i)
		}
		it.Post.IngestedAt, it.Post.CreatedAt = now, now
		in.Items = append(in.Items, it)
	}
	stagetest.Concurrent(t, p.Stage(time.Now), in, 4, 20)
	live := NewLive(p, Config{})
	stagetest.Concurrent(t, live.Stage(time.Now), in, 4, 20)
}
