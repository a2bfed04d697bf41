//go:build integration

package stream

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestKafkaFetchPacesSmallBatches: a small batch that comes right after
// another small one gathers until batch_interval after the first began, so
// a record 100ms behind it joins it; unpaced, a pause of fetch_idle ends
// the batch and that record makes a batch of its own.
func TestKafkaFetchPacesSmallBatches(t *testing.T) {
	for _, c := range []struct {
		pace time.Duration
		want int
	}{{0, 1}, {time.Second, 2}} {
		t.Run(fmt.Sprint("batch_interval=", c.pace), func(t *testing.T) {
			k, topic := newKafka(t)
			k.cfg.BatchInterval = c.pace
			p, err := k.Producer()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			cons, err := k.Consumer(topic+".g", topic)
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			its := benchItems(3)
			one := func(i int) {
				if err := p.Produce(ctx, outsOf(topic, its[i:i+1])); err != nil {
					t.Error(err)
				}
			}
			one(0)
			if ds, err := cons.Fetch(ctx, 100, 2*time.Second); err != nil || len(ds) != 1 {
				t.Fatalf("first batch: %d items, %v; want 1", len(ds), err)
			}
			one(1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				time.Sleep(200 * time.Millisecond)
				one(2)
			}()
			ds, err := cons.Fetch(ctx, 100, 2*time.Second)
			<-done
			if err != nil || len(ds) != c.want {
				t.Fatalf("second batch: %d items, %v; want %d", len(ds), err, c.want)
			}
		})
	}
}

// TestKafkaFetchStopWhilePaced: a stop (ctx cancelled) while a small batch
// is being paced ends the batch at once with what it holds, no error, so
// the runner processes and commits it (with its own finish context); the
// group then starts after it, nothing redelivered.
func TestKafkaFetchStopWhilePaced(t *testing.T) {
	k, topic := newKafka(t)
	k.cfg.BatchInterval = time.Second
	p, err := k.Producer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cons, err := k.Consumer(topic+".g", topic)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	its := benchItems(3)
	one := func(i int) {
		if err := p.Produce(ctx, outsOf(topic, its[i:i+1])); err != nil {
			t.Error(err)
		}
	}
	one(0)
	first, err := cons.Fetch(ctx, 100, 5*time.Second)
	if err != nil || len(first) != 1 {
		t.Fatalf("first batch: %d items, %v; want 1", len(first), err)
	}
	if err := cons.Commit(ctx, []Position{{Partition: first[0].Partition, Offset: first[0].Offset}}); err != nil {
		t.Fatal(err)
	}
	one(1)
	stop, cancelStop := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, cancelStop) // within the pace of 1s
	start := time.Now()
	ds, err := cons.Fetch(stop, 100, 5*time.Second)
	if d := time.Since(start); err != nil || len(ds) != 1 || d > 900*time.Millisecond {
		t.Fatalf("paced batch at the stop: %d items, %v after %v; want 1 at once", len(ds), err, d)
	}
	if err := cons.Commit(ctx, []Position{{Partition: ds[0].Partition, Offset: ds[0].Offset}}); err != nil {
		t.Fatal(err)
	}
	cons.Close()
	one(2)
	again, err := k.Consumer(topic+".g", topic)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	ds, err = again.Fetch(ctx, 100, time.Second)
	if err != nil || len(ds) != 1 || ds[0].Item.Post.ID != its[2].Post.ID {
		t.Fatalf("after the restart: %d items, %v; want only the third", len(ds), err)
	}
}

// TestKafkaFetchWaitOutLinger: a consumer told to wait out linger (the
// sink's) does not end its batch at a pause of fetch_idle: a record 200ms
// behind the first joins its batch, which ends at linger.
func TestKafkaFetchWaitOutLinger(t *testing.T) {
	for _, wait := range []bool{false, true} {
		t.Run(fmt.Sprint("wait=", wait), func(t *testing.T) {
			k, topic := newKafka(t)
			p, err := k.Producer()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			cons, err := k.Consumer(topic+".g", topic)
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			if wait {
				WaitOutLinger(cons)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			its := benchItems(2)
			if err := p.Produce(ctx, outsOf(topic, its[:1])); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				time.Sleep(200 * time.Millisecond)
				if err := p.Produce(ctx, outsOf(topic, its[1:])); err != nil {
					t.Error(err)
				}
			}()
			ds, err := cons.Fetch(ctx, 100, 1500*time.Millisecond)
			<-done
			want := 1
			if wait {
				want = 2
			}
			if err != nil || len(ds) != want {
				t.Fatalf("%d items, %v; want %d", len(ds), err, want)
			}
		})
	}
}
