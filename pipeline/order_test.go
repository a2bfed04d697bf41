package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// With runner.workers 2 and batches of one record, each post is followed by
// its delete in the next batch of every stage. Every alert raised must be
// retracted afterwards: a delete that overtook its post would find no alert
// to retract, and the post would then raise one that stays open.
func TestWorkersKeepADeleteBehindItsPost(t *testing.T) {
	const posts = 60
	var lines []string
	at := time.Now().UTC().Add(-10 * time.Minute)
	for i := range posts {
		lines = append(lines,
			fmt.Sprintf(`{"platform":"file","id":"p%d","author":{"handle":"a%d"},"text":"my Acme phone %d is broken again, worst experience ever","created_at":%q}`, i, i, i, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339)),
			fmt.Sprintf(`{"platform":"file","id":"p%d","kind":"delete"}`, i))
	}
	cfg := fileConfig(t, lines)
	cfg.Enrich.Clustering = "off" // near-duplicates would share an incident alert, which one delete does not retract
	cfg.Runner.BatchSize, cfg.Runner.Linger, cfg.Runner.Workers = 1, 0, 2
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	last := map[string]bool{} // alert id → retracted, as of the last event seen
	taps := Taps{Alert: func(it *post.Item) {
		mu.Lock()
		last[it.Alert.ID] = it.Alert.Retracted
		mu.Unlock()
	}}
	p, err := New(ctx, cfg, AllStages, taps, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(last) != posts {
		t.Fatalf("%d alerts for %d complaints: the examples' policy should raise one each", len(last), posts)
	}
	var open []string
	for id, retracted := range last {
		if !retracted {
			open = append(open, id)
		}
	}
	if len(open) > 0 {
		t.Errorf("%d of %d alerts left open though their posts were deleted (the delete overtook the post): %v", len(open), len(last), open[:min(5, len(open))])
	}
}
