package pipeline

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// TestSinkRunnerWaitsOutFlushInterval: the sink's runners (and the search
// index's) gather a batch
// until sink.flush_interval (their linger) even on a transport whose
// batches end at a pause of fetch_idle, as Kafka's do: at a moderate rate
// those pauses come every few milliseconds, and every batch is an insert
// per table. A stage runner on the same transport still ends at a pause.
func TestSinkRunnerWaitsOutFlushInterval(t *testing.T) {
	ctx := context.Background()
	mem := stream.NewMemory(100)
	mem.Pace(time.Millisecond, 5*time.Millisecond) // as Kafka's consumers end batches
	p := &Pipeline{tr: mem, topics: NewTopics("t"), runners: map[string]*stream.Runner{}, outputs: map[string][]string{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	nop := stream.Stage(func(_ context.Context, in post.Batch) (post.Batch, error) { return in, nil })
	rc := stream.RunnerConfig{BatchSize: 1000, Linger: 600 * time.Millisecond, Workers: 1}
	if err := p.addStoreRunner(Sink, "enriched", nop, to(""), rc); err != nil {
		t.Fatal(err)
	}
	if err := p.addStoreRunner(Index, "enriched", nop, to(""), rc); err != nil {
		t.Fatal(err)
	}
	if err := p.addRunner(Route, "enriched", nop, to(""), rc); err != nil {
		t.Fatal(err)
	}
	prod, _ := mem.Producer()
	go func() {
		for range 4 {
			prod.Produce(ctx, []stream.Out{{Topic: "enriched", Item: &post.Item{}}})
			time.Sleep(40 * time.Millisecond)
		}
	}()
	routed := make(chan int, 1)
	go func() {
		ds, _ := p.runners[Route].In.Fetch(ctx, 1000, rc.Linger)
		routed <- len(ds)
	}()
	indexed := make(chan int, 1)
	go func() {
		ds, _ := p.runners[Index].In.Fetch(ctx, 1000, rc.Linger)
		indexed <- len(ds)
	}()
	ds, err := p.runners[Sink].In.Fetch(ctx, 1000, rc.Linger)
	if err != nil || len(ds) != 4 {
		t.Fatalf("sink: a batch of %d records (%v); want all 4, gathered until flush_interval", len(ds), err)
	}
	if n := <-indexed; n != 4 {
		t.Fatalf("index: a batch of %d records; want all 4, gathered until search.linger", n)
	}
	if n := <-routed; n != 1 {
		t.Fatalf("route: a batch of %d records; want 1, ended at the first pause", n)
	}
}
