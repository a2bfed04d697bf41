package enrich

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
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

// TestEnrichPooledWordsConcurrent: the words Enrich splits once for
// intent and clustering live in a pooled scratch; enriching the same posts
// on eight goroutines at once (clustering off: its answers depend on
// order) gives each post the tags it gets alone, long and huge posts (a
// scratch that grew too big is not pooled) among short ones.
func TestEnrichPooledWordsConcurrent(t *testing.T) {
	e := New(Config{Clustering: "off"})
	batch, _ := realisticBatch(300)
	var posts []*post.Post
	for _, it := range batch.Items {
		posts = append(posts, it.Post)
	}
	for i, text := range []string{
		strings.Repeat("la batería de acme no dura nada y el soporte no contesta ", 40),
		strings.Repeat("acme refund never came, terrible service #fail ", 1<<13),
		"Το τηλέφωνο της acme δεν φορτίζει από το πρωί, απαράδεκτο! #acme",
	} {
		posts = append(posts, &post.Post{Platform: "x", ID: "long" + strconv.Itoa(i), Text: text})
	}
	want := make([]post.Enrichment, len(posts))
	for i, p := range posts {
		want[i] = *e.Enrich(p)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range posts {
				i := (k*7 + g*31) % len(posts)
				if got := *e.Enrich(posts[i]); !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Sprintf("post %d: %+v, alone %+v", i, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
