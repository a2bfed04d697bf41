package stream

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Checkpointer is a Source that keeps its own position (a file replay's
// checkpoint). The source runner asks for the position after each batch it
// takes; Checkpoint is told a position once every batch up to it has been
// fully processed, so a restart resumes there without losing what was
// still on its way.
type Checkpointer interface {
	Source
	// Position is where the source is after the last batch Next returned.
	// It is called from the goroutine that calls Next.
	Position() any
	// Checkpoint records that everything up to pos has been handled; it
	// may save less often unless force. It is called from one goroutine
	// at a time, which need not be the one calling Next.
	Checkpoint(pos any, force bool) error
}

// Tracker follows, in embedded mode, everything derived from each batch a
// source produced, so that the source's checkpoint moves only past what has
// been fully processed: every record derived from those posts consumed and
// committed by every consumer group that reads it (the printer has written
// the alert, the sink stored it, the webhook delivered it), as a Kafka
// offset is committed only after downstream acknowledged.
//
// Each source batch gets a sequence number, its origin; every record
// carries the lowest origin among the records it was derived from (a stage
// runner gives each output of a batch the lowest origin of the batch's
// inputs). The tracker counts, per origin, the records not yet committed,
// a record on a topic counting once per consumer group. The checkpoint may
// move to the end of batch n once no origin up to n has a record pending:
// a pending record of origin m holds back every batch from m on.
type Tracker struct {
	mu      sync.Mutex
	next    int64         // origin of the next batch; 0 is "untracked"
	base    int64         // origin of pending[0]
	pending []int64       // records pending per origin, from base
	pos     []any         // the source's position after each of those batches
	done    any           // the position after the last batch fully processed
	moved   bool          // done changed since the last checkpoint
	wake    chan struct{} // signalled when done moves, for Run without a ticker
}

// NewTracker returns a tracker with nothing pending.
func NewTracker() *Tracker { return &Tracker{next: 1, base: 1, wake: make(chan struct{}, 1)} }

// begin registers a source batch that ends at pos and returns its origin.
// The batch itself counts as pending until release.
func (t *Tracker) begin(pos any) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.next
	t.next++
	t.pending = append(t.pending, 1)
	t.pos = append(t.pos, pos)
	return o
}

// add counts n more records of origin o pending.
func (t *Tracker) add(o, n int64) {
	if t == nil || o == 0 || n == 0 {
		return
	}
	t.mu.Lock()
	if i := o - t.base; i >= 0 && i < int64(len(t.pending)) {
		t.pending[i] += n
	}
	t.mu.Unlock()
}

// release marks n records of origin o committed.
func (t *Tracker) release(o, n int64) {
	if t == nil || o == 0 || n == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	i := o - t.base
	if i < 0 || i >= int64(len(t.pending)) {
		return
	}
	t.pending[i] -= n
	k := 0
	for k < len(t.pending) && t.pending[k] <= 0 {
		k++
	}
	if k == 0 {
		return
	}
	t.done, t.moved = t.pos[k-1], true
	select {
	case t.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	clear(t.pos[:k])
	t.pending, t.pos = t.pending[k:], t.pos[k:]
	t.base += int64(k)
}

// Pending is how many source batches are not yet fully processed.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Save hands cp the position after the last batch fully processed, to be
// saved at once, if it moved since the last save (or always, when final).
func (t *Tracker) Save(cp Checkpointer, final bool) error {
	t.mu.Lock()
	pos, moved := t.done, t.moved
	t.moved = false
	t.mu.Unlock()
	if pos == nil || !moved && !final {
		return nil
	}
	if err := cp.Checkpoint(pos, true); err != nil {
		t.mu.Lock()
		t.moved = true // try again next time
		t.mu.Unlock()
		return fmt.Errorf("saving the source's checkpoint: %w", err)
	}
	return nil
}

// Run saves cp's checkpoint every `every` (the source's checkpoint
// interval) when it moved, until ctx ends; with every 0, as soon as it
// moves (the push endpoint, whose senders wait for it). The owner saves
// once more (final) when the pipeline has stopped.
func (t *Tracker) Run(ctx context.Context, cp Checkpointer, every time.Duration, log *slog.Logger) {
	var tick <-chan time.Time // nil: never
	var wake <-chan struct{}
	if every > 0 {
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		tick = ticker.C
	} else {
		wake = t.wake
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-wake:
		}
		if err := t.Save(cp, false); err != nil {
			log.Error("checkpoint not saved", "component", "tracker", "err", err)
		}
	}
}
