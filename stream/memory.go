package stream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Memory is the embedded-mode transport: one bounded queue per topic and
// consumer group. Producing blocks while any group's queue is full, in
// records (capacity) or in bytes (maxBytes, an estimate of each item's
// size), which is how backpressure reaches the source. Items are passed by pointer, never
// encoded: the consumer groups of a topic (the sink, the search index and
// route all read the enriched topic) see the same *post.Item at the same
// time, which is why a Stage never modifies the items it is given.
//
// Offsets are per consumer: the n-th record a consumer fetched has offset
// n. With a Tracker, a record stays pending until its consumer commits it.
type Memory struct {
	capacity int
	maxBytes int // MemoryQueueBytes
	track    *Tracker
	// idle and pace, when idle > 0, end a consumer's batch as a Kafka
	// consumer's (Pace).
	idle, pace time.Duration
	mu         sync.Mutex
	topics     map[string]*memTopic
}

type memTopic struct {
	mu     sync.Mutex
	groups map[string]*memQueue
	closed bool
}

type memRecord struct {
	out  Out
	size int // outBytes(out), counted in its queue's bytes until fetched
}

type memQueue struct {
	ch     chan memRecord
	closed chan struct{}

	mu    sync.Mutex
	bytes int           // the sizes of the records queued, or being gathered into a batch
	freed chan struct{} // closed, and replaced, whenever bytes go down
}

// MemoryQueueBytes bounds the estimated bytes of the records one in-memory
// queue holds, beside its count (transport.queue_size): posts may be up to
// ingest.max_post_bytes (1 MiB) each, and 8,192 of them would hold 8 GB
// in each queue. Posts of usual sizes (about a kilobyte with what is
// estimated around them) fill the count first. It is the Kafka side's
// batch bound (fetchBytes).
const MemoryQueueBytes = fetchBytes

// NewMemory returns an in-memory transport whose queues hold capacity
// records and up to MemoryQueueBytes of them.
func NewMemory(capacity int) *Memory {
	if capacity < 1 {
		capacity = 1
	}
	return &Memory{capacity: capacity, maxBytes: MemoryQueueBytes, topics: map[string]*memTopic{}}
}

// reserve waits until n more bytes fit in the queue's budget, then counts
// them. A queue holding nothing takes a record of any size, so one larger
// than the budget passes alone rather than wait for ever.
func (q *memQueue) reserve(ctx context.Context, n, limit int) error {
	for {
		q.mu.Lock()
		if q.bytes == 0 || q.bytes+n <= limit {
			q.bytes += n
			q.mu.Unlock()
			return nil
		}
		freed := q.freed
		q.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release uncounts n bytes and wakes the producers waiting for room.
func (q *memQueue) release(n int) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	q.bytes -= n
	close(q.freed)
	q.freed = make(chan struct{})
	q.mu.Unlock()
}

// outBytes estimates what a record holds in memory: its texts, which a
// post's size bounds, and a fixed allowance for the rest of its fields.
func outBytes(o Out) int {
	n := 512 + len(o.Key)
	if o.Dead != nil {
		n += len(o.Dead.Raw) + len(o.Dead.Reason)
		if o.Item == nil {
			n += itemBytes(o.Dead.Item)
		}
	}
	return n + itemBytes(o.Item)
}

func itemBytes(it *post.Item) int {
	if it == nil {
		return 0
	}
	n := 0
	if p := it.Post; p != nil {
		n += len(p.Text) + len(p.Author.Name) + len(p.Author.Handle) + len(p.Author.Location)
		for _, ss := range [][]string{p.URLs, p.Hashtags, p.Mentions} {
			for _, s := range ss {
				n += 16 + len(s)
			}
		}
	}
	if e := it.Enrichment; e != nil {
		n += 256 + len(e.RedactedText)
	}
	for _, m := range it.Matches {
		n += 128 + 16*len(m.Spans)
		for _, k := range m.Keywords {
			n += 16 + len(k)
		}
	}
	if it.Alert != nil {
		n += 256
	}
	return n
}

// Pace makes each consumer end a batch once no record came for idle
// (transport.kafka.fetch_idle), as a Kafka consumer does, rather than wait
// out the runner's linger, but pass small batches on at most every pace
// (batch_interval): a chain of stages in a distributed process then waits
// at each in-memory hop as long as at a Kafka one. Embedded mode does not
// call it. Call it before any consumer exists.
func (m *Memory) Pace(idle, pace time.Duration) { m.idle, m.pace = idle, pace }

// Track makes the transport count, in t, the records of each origin that
// its consumers have not yet committed. Call it before any record is
// produced.
func (m *Memory) Track(t *Tracker) { m.track = t }

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
		q = &memQueue{ch: make(chan memRecord, m.capacity), closed: make(chan struct{}), freed: make(chan struct{})}
		if t.closed {
			close(q.closed)
		}
		t.groups[group] = q
	}
	return &memConsumer{q: q, track: m.track, idle: m.idle, pace: m.pace}, nil
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
	// The queues of each record's topic, looked up once per run of records
	// to one topic (a batch mostly goes to one or two).
	queues := make([][]*memQueue, len(outs))
	var (
		lastName   string
		lastQueues []*memQueue
	)
	for i, o := range outs {
		if i == 0 || o.Topic != lastName {
			t := p.m.topic(o.Topic)
			t.mu.Lock()
			if t.closed {
				t.mu.Unlock()
				return fmt.Errorf("producing to %s: %w", o.Topic, ErrClosed)
			}
			lastName, lastQueues = o.Topic, make([]*memQueue, 0, len(t.groups))
			for _, q := range t.groups {
				lastQueues = append(lastQueues, q)
			}
			t.mu.Unlock()
		}
		queues[i] = lastQueues
	}
	// Counted before they are queued, and before the producer's own input
	// is committed: a record is pending from the moment it exists. One
	// call per run of one origin (a batch has one).
	if p.m.track != nil {
		var origin, n int64
		for i, o := range outs {
			if o.Origin != origin {
				p.m.track.add(origin, n)
				origin, n = o.Origin, 0
			}
			n += int64(len(queues[i]))
		}
		p.m.track.add(origin, n)
	}
	for i, o := range outs {
		rec := memRecord{out: o, size: outBytes(o)}
		for _, q := range queues[i] {
			if err := q.reserve(ctx, rec.size, p.m.maxBytes); err != nil {
				return fmt.Errorf("producing to %s: %w", o.Topic, err)
			}
			select {
			case q.ch <- rec:
			case <-ctx.Done():
				q.release(rec.size)
				return fmt.Errorf("producing to %s: %w", o.Topic, ctx.Err())
			}
		}
	}
	return nil
}

func (memProducer) Close() error { return nil }

type memConsumer struct {
	q          *memQueue
	track      *Tracker
	idle, pace time.Duration
	prev       time.Time // when the last batch began (idle > 0)
	prevFull   bool

	mu      sync.Mutex
	fetched int64   // offset of the last record fetched
	origins []int64 // origin of each record fetched and not committed, from committed+1
	commit  int64   // offset of the last record committed
}

// waitOutLinger: see WaitOutLinger.
func (c *memConsumer) waitOutLinger() { c.idle, c.pace = 0, 0 }

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
	recs := make([]memRecord, 0, min(max, len(c.q.ch)+1))
	recs = append(recs, first)
	if c.idle > 0 {
		recs = c.gather(ctx, recs, max, linger)
		return c.deliver(recs), nil
	}
	var timer <-chan time.Time
	for len(recs) < max {
		select {
		case r := <-c.q.ch:
			recs = append(recs, r)
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
			recs = append(recs, r)
			continue
		case <-timer:
		case <-ctx.Done():
		case <-c.q.closed:
		}
		break
	}
	return c.deliver(recs), nil
}

// gather adds records to recs up to limit until linger has passed since the
// first, or no record came for idle once hold (the pacing) has passed, as
// kafkaConsumer.Fetch does.
func (c *memConsumer) gather(ctx context.Context, recs []memRecord, limit int, linger time.Duration) []memRecord {
	start := time.Now()
	defer func() { c.prev, c.prevFull = start, len(recs) >= limit }()
	if limit <= 1 || linger <= 0 {
		return recs
	}
	deadline, hold := start.Add(linger), paceUntil(c.prev, c.prevFull, start, c.pace)
	for len(recs) < limit {
		select {
		case r := <-c.q.ch:
			recs = append(recs, r)
			continue
		default:
		}
		wait := batchWait(deadline, hold, c.idle)
		if wait <= 0 {
			return recs
		}
		t := time.NewTimer(wait)
		select {
		case r := <-c.q.ch:
			t.Stop()
			recs = append(recs, r)
			continue
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-c.q.closed:
			t.Stop()
		}
		return recs
	}
	return recs
}

// deliver numbers the records fetched and keeps their origins. Their
// bytes leave the queue's count: they are the batch's now.
func (c *memConsumer) deliver(recs []memRecord) []Delivery {
	ds := make([]Delivery, len(recs))
	size := 0
	for _, r := range recs {
		size += r.size
	}
	c.q.release(size)
	c.mu.Lock()
	for i, r := range recs {
		c.fetched++
		ds[i] = Delivery{Item: r.out.Item, Dead: r.out.Dead, Offset: c.fetched, Origin: r.out.Origin}
		c.origins = append(c.origins, r.out.Origin)
	}
	c.mu.Unlock()
	return ds
}

// Commit releases every record up to the offset committed.
func (c *memConsumer) Commit(_ context.Context, done []Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range done {
		n := min(p.Offset-c.commit, int64(len(c.origins)))
		if n <= 0 {
			continue
		}
		// Released per run of one origin: a batch is mostly one or two.
		for i := int64(0); i < n; {
			o, j := c.origins[i], i+1
			for j < n && c.origins[j] == o {
				j++
			}
			c.track.release(o, j-i)
			i = j
		}
		c.origins = c.origins[n:]
		c.commit += n
	}
	return nil
}

func (c *memConsumer) Lag() int64   { return int64(len(c.q.ch)) }
func (c *memConsumer) Close() error { return nil }
