package stream

import "sync"

// watermark tracks batches that are in flight, per partition, in fetch
// order. A partition's offset is committable only up to the last batch
// before the first one still unfinished, so a commit never runs ahead of
// work that could still fail.
type watermark struct {
	mu    sync.Mutex
	parts map[int][]*span
}

// span is one batch's share of one partition.
type span struct {
	last int64
	done bool
}

// ticket is what a worker hands back when its batch is finished.
type ticket map[int]*span

func newWatermark() *watermark { return &watermark{parts: map[int][]*span{}} }

// add registers a fetched batch. Deliveries of one partition arrive in
// offset order, so the last one seen is the highest.
func (w *watermark) add(ds []Delivery) ticket {
	t := ticket{}
	for _, d := range ds {
		if s, ok := t[d.Partition]; ok {
			s.last = max(s.last, d.Offset)
		} else {
			t[d.Partition] = &span{last: d.Offset}
		}
	}
	w.mu.Lock()
	for p, s := range t {
		w.parts[p] = append(w.parts[p], s)
	}
	w.mu.Unlock()
	return t
}

// done marks a batch finished and returns the positions that may now be
// committed: per partition, the end of the finished prefix.
func (w *watermark) done(t ticket) []Position {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Position
	for p, s := range t {
		s.done = true
		q := w.parts[p]
		n := 0
		for n < len(q) && q[n].done {
			n++
		}
		if n == 0 {
			continue
		}
		out = append(out, Position{Partition: p, Offset: q[n-1].last})
		w.parts[p] = q[n:]
	}
	return out
}

// pending reports how many batch spans await completion.
func (w *watermark) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, q := range w.parts {
		n += len(q)
	}
	return n
}
