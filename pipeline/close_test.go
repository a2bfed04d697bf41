package pipeline

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/stream"
)

// slowConsumer takes a while to close, as a Kafka consumer waits out the
// fetch in progress before it leaves its group.
type slowConsumer struct {
	stream.Consumer
	closed *atomic.Int32
}

func (c slowConsumer) Close() error {
	time.Sleep(300 * time.Millisecond)
	c.closed.Add(1)
	return nil
}

// A process's consumers close together: eight of them (the sink's) take
// about as long as one, not eight times as long.
func TestConsumersCloseTogether(t *testing.T) {
	var closed atomic.Int32
	p := &Pipeline{log: slog.New(slog.DiscardHandler)}
	for range 8 {
		p.consumers = append(p.consumers, slowConsumer{closed: &closed})
	}
	start := time.Now()
	p.closeConsumers()
	if took := time.Since(start); took > 1200*time.Millisecond {
		t.Errorf("closing 8 consumers took %v, want about one close (300ms)", took)
	}
	if n := closed.Load(); n != 8 {
		t.Errorf("%d consumers closed, want 8", n)
	}
}
