package stream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

func bigOut(topic string, n int) Out {
	return Out{Topic: topic, Item: &post.Item{Post: &post.Post{Platform: "x", ID: "big", Text: strings.Repeat("a", n)}}}
}

// TestMemoryQueueBoundedInBytes: a queue of many records of big posts
// makes its producer wait once its bytes pass the budget (it never drops
// a record), and goes on once the consumer takes them.
func TestMemoryQueueBoundedInBytes(t *testing.T) {
	m := NewMemory(1000)
	m.maxBytes = 4 << 20 // 4 MiB: four posts of 1 MiB
	c, _ := m.Consumer("g", "posts")
	p, _ := m.Producer()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 10; i++ {
			if err := p.Produce(context.Background(), []Out{bigOut("posts", 1<<20)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	time.Sleep(200 * time.Millisecond)
	if n := m.Depth("g", "posts"); n > 4 {
		t.Fatalf("%d posts of 1 MiB queued under a budget of 4 MiB; want at most 4", n)
	}
	select {
	case err := <-done:
		t.Fatalf("the producer did not wait over the budget (err %v)", err)
	default:
	}
	got := 0
	for got < 10 {
		ds, err := c.Fetch(context.Background(), 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		got += len(ds)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got != 10 {
		t.Fatalf("%d records fetched; want all 10", got)
	}
}

// TestMemoryQueueOversizedItemPassesAlone: a record larger than the whole
// budget still goes through when the queue is empty, rather than wait
// for ever.
func TestMemoryQueueOversizedItemPassesAlone(t *testing.T) {
	m := NewMemory(16)
	m.maxBytes = 1 << 10
	c, _ := m.Consumer("g", "posts")
	p, _ := m.Producer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		errc := make(chan error, 1)
		go func() { errc <- p.Produce(ctx, []Out{bigOut("posts", 1<<20)}) }()
		ds, err := c.Fetch(ctx, 10, 0)
		if err != nil || len(ds) != 1 {
			t.Fatalf("fetch %d: %d records, %v; want the oversized one", i, len(ds), err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
}

// TestMemoryQueueWaitEndsWithContext: a producer waiting for bytes gives
// up when its context ends, and the bytes it had not queued are not
// counted against the queue.
func TestMemoryQueueWaitEndsWithContext(t *testing.T) {
	m := NewMemory(16)
	m.maxBytes = 2 << 20
	c, _ := m.Consumer("g", "posts")
	p, _ := m.Producer()
	if err := p.Produce(context.Background(), []Out{bigOut("posts", 3<<19)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.Produce(ctx, []Out{bigOut("posts", 3<<19)}); err == nil {
		t.Fatal("a producer over the byte budget did not wait")
	}
	if _, err := c.Fetch(context.Background(), 10, 0); err != nil {
		t.Fatal(err)
	}
	// Empty again: a record of the full budget fits.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if err := p.Produce(ctx2, []Out{bigOut("posts", 3<<19), bigOut("posts", 1<<10)}); err != nil {
		t.Fatalf("after the queue emptied: %v", err)
	}
}
