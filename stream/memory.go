package stream

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is the embedded-mode transport: one bounded queue per topic and
// consumer group. Producing blocks while any group's queue is full, which
// is how backpressure reaches the source. Items are passed by pointer, never
// encoded; every topic in a pipeline has one consumer group per reader
// stage, so no two stages see the same item concurrently.
type Memory struct {
	capacity int
	mu       sync.Mutex
	topics   map[string]*memTopic
}

type memTopic struct {
	mu     sync.Mutex
	groups map[string]*memQueue
	closed bool
	offset int64
}

type memRecord struct {
	out    Out
	offset int64
}

type memQueue struct {
	ch     chan memRecord
	closed chan struct{}
}

// NewMemory returns an in-memory transport whose queues hold capacity records.
func NewMemory(capacity int) *Memory {
	if capacity < 1 {
		capacity = 1
	}
	return &Memory{capacity: capacity, topics: map[string]*memTopic{}}
}

func (m *Memory) topic(name string) *memTopic {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.topics[name]
	if !ok {
		t = &memTopic{groups: map[string]*memQueue{}}
		m.topics[name] = t
	}
	return t
}

// Consumer subscribes group to topic. Records produced before the first
// consumer of a group subscribed are not seen by it, so wire consumers
// before starting producers.
func (m *Memory) Consumer(group, topic string) (Consumer, error) {
	t := m.topic(topic)
	t.mu.Lock()
	defer t.mu.Unlock()
	q, ok := t.groups[group]
	if !ok {
		q = &memQueue{ch: make(chan memRecord, m.capacity), closed: make(chan struct{})}
		if t.closed {
			close(q.closed)
		}
		t.groups[group] = q
	}
	return &memConsumer{q: q}, nil
}

// Producer returns a producer; all producers share the transport's queues.
func (m *Memory) Producer() (Producer, error) { return memProducer{m}, nil }

// EnsureTopics is a no-op: in-memory topics exist once used.
func (m *Memory) EnsureTopics(context.Context, ...string) error { return nil }

// CloseTopic tells the topic's consumers that no more records will come;
// they drain what is queued and then get ErrClosed.
func (m *Memory) CloseTopic(name string) {
	t := m.topic(name)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	for _, q := range t.groups {
		close(q.closed)
	}
}

// Depth returns how many records wait in topic for group.
func (m *Memory) Depth(group, topic string) int {
	t := m.topic(topic)
	t.mu.Lock()
	defer t.mu.Unlock()
	if q, ok := t.groups[group]; ok {
		return len(q.ch)
	}
	return 0
}

// Close is a no-op; queues are garbage once unreferenced.
func (m *Memory) Close() error { return nil }

type memProducer struct{ m *Memory }

func (p memProducer) Produce(ctx context.Context, outs []Out) error {
	for _, o := range outs {
		t := p.m.topic(o.Topic)
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return fmt.Errorf("producing to %s: %w", o.Topic, ErrClosed)
		}
		t.offset++
		rec := memRecord{out: o, offset: t.offset}
		queues := make([]*memQueue, 0, len(t.groups))
		for _, q := range t.groups {
			queues = append(queues, q)
		}
		t.mu.Unlock()
		for _, q := range queues {
			select {
			case q.ch <- rec:
			case <-ctx.Done():
				return fmt.Errorf("producing to %s: %w", o.Topic, ctx.Err())
			}
		}
	}
	return nil
}

func (memProducer) Close() error { return nil }

type memConsumer struct{ q *memQueue }

func (c *memConsumer) Fetch(ctx context.Context, max int, linger time.Duration) ([]Delivery, error) {
	var first memRecord
	select {
	case first = <-c.q.ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.q.closed:
		// Closed: drain what is left before reporting the end.
		select {
		case first = <-c.q.ch:
		default:
			return nil, ErrClosed
		}
	}
	ds := make([]Delivery, 0, min(max, len(c.q.ch)+1))
	ds = append(ds, delivery(first))
	var timer <-chan time.Time
	for len(ds) < max {
		select {
		case r := <-c.q.ch:
			ds = append(ds, delivery(r))
			continue
		default:
		}
		if linger <= 0 {
			break
		}
		if timer == nil {
			t := time.NewTimer(linger)
			defer t.Stop()
			timer = t.C
		}
		select {
		case r := <-c.q.ch:
			ds = append(ds, delivery(r))
			continue
		case <-timer:
		case <-ctx.Done():
		case <-c.q.closed:
		}
		break
	}
	return ds, nil
}

func delivery(r memRecord) Delivery {
	return Delivery{Item: r.out.Item, Dead: r.out.Dead, Offset: r.offset}
}

func (c *memConsumer) Commit(context.Context, []Position) error { return nil }
func (c *memConsumer) Lag() int64                               { return int64(len(c.q.ch)) }
func (c *memConsumer) Close() error                             { return nil }
