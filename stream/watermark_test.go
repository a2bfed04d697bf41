package stream

import (
	"slices"
	"testing"
)

func ds(partOffsets ...[2]int64) []Delivery {
	var out []Delivery
	for _, po := range partOffsets {
		out = append(out, Delivery{Partition: int(po[0]), Offset: po[1]})
	}
	return out
}

func sortPos(p []Position) []Position {
	slices.SortFunc(p, func(a, b Position) int { return a.Partition - b.Partition })
	return p
}

func TestWatermarkNeverAheadOfUnfinishedWork(t *testing.T) {
	w := newWatermark()
	a := w.add(ds([2]int64{0, 10}, [2]int64{0, 11}, [2]int64{1, 5}))
	b := w.add(ds([2]int64{0, 12}, [2]int64{1, 6}))
	c := w.add(ds([2]int64{0, 13}))

	// b finishes first: nothing is committable, a is still running.
	if got := w.done(b); len(got) != 0 {
		t.Fatalf("done(b) = %v, want nothing while a is in flight", got)
	}
	// a finishes: both partitions advance through b.
	got := sortPos(w.done(a))
	want := []Position{{0, 12}, {1, 6}}
	if !slices.Equal(got, want) {
		t.Fatalf("done(a) = %v, want %v", got, want)
	}
	if got := w.done(c); !slices.Equal(got, []Position{{0, 13}}) {
		t.Fatalf("done(c) = %v", got)
	}
	if n := w.pending(); n != 0 {
		t.Fatalf("pending = %d after all done", n)
	}
}

func TestWatermarkInterleavedPartitions(t *testing.T) {
	w := newWatermark()
	a := w.add(ds([2]int64{0, 1}))
	b := w.add(ds([2]int64{1, 1}))
	c := w.add(ds([2]int64{0, 2}, [2]int64{1, 2}))
	if got := w.done(c); len(got) != 0 {
		t.Fatalf("done(c) = %v, want nothing", got)
	}
	if got := w.done(b); !slices.Equal(got, []Position{{1, 2}}) {
		t.Fatalf("done(b) = %v, want partition 1 through c", got)
	}
	if got := w.done(a); !slices.Equal(got, []Position{{0, 2}}) {
		t.Fatalf("done(a) = %v, want partition 0 through c", got)
	}
}
