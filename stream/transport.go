// Package stream moves items between stages: the transports (Kafka and
// in-memory queues), the stage runner with its commit watermark, dead
// letters and the pipeline's metrics.
package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// ErrClosed is returned by Fetch once an in-memory topic has been closed and
// drained: the upstream stage has finished.
var ErrClosed = errors.New("topic closed")

// Delivery is one record fetched from a topic.
type Delivery struct {
	Item      *post.Item       // nil when the record could not be decoded
	Dead      *post.DeadLetter // set instead of Item on the dead-letter topic
	Raw       []byte           // the wire bytes (Kafka only), kept for dead letters
	Err       error            // why the record could not be decoded
	Partition int
	Offset    int64
	// Origin is, in embedded mode with a Tracker, the lowest source batch
	// the record derives from (0: not tracked).
	Origin int64
}

// Position is a partition offset that has been fully processed.
type Position struct {
	Partition int
	Offset    int64
}

// Consumer reads one topic as a member of one consumer group.
type Consumer interface {
	// Fetch blocks until at least one record is available, then gathers up
	// to max records for at most linger.
	Fetch(ctx context.Context, max int, linger time.Duration) ([]Delivery, error)
	// Commit marks every record up to and including each position done.
	Commit(ctx context.Context, done []Position) error
	// Lag is the number of records behind the end of the topic, when known.
	Lag() int64
	Close() error
}

// WaitOutLinger makes c gather each batch until the runner's linger passes
// or the batch is full, as if transport.kafka.fetch_idle were 0, for a
// reader that wants few large batches more than a few milliseconds: the
// sink, because ClickHouse pays per insert (a part written, then merged)
// and fetch_idle would end its batch at every pause in a moderate stream,
// an insert per table every few milliseconds instead of every
// sink.flush_interval. Consumers that never end a batch early ignore it.
// Call it before the first Fetch.
func WaitOutLinger(c Consumer) {
	if w, ok := c.(interface{ waitOutLinger() }); ok {
		w.waitOutLinger()
	}
}

// Out is one record to produce. Exactly one of Item and Dead is set.
type Out struct {
	Topic string
	Key   string
	Item  *post.Item
	Dead  *post.DeadLetter
	// Origin is the lowest source batch the record derives from, for the
	// in-memory transport's Tracker (0: not tracked). Kafka ignores it:
	// there, a record is safe once the broker has acknowledged it.
	Origin int64
}

// Producer writes records; Produce returns once all are acknowledged.
// Records the transport can never carry make it return a *TooLargeError
// before anything is written.
type Producer interface {
	Produce(ctx context.Context, outs []Out) error
	Close() error
}

// Transport creates consumers and producers over one kind of broker.
type Transport interface {
	Consumer(group, topic string) (Consumer, error)
	Producer() (Producer, error)
	// EnsureTopics creates topics that do not exist yet.
	EnsureTopics(ctx context.Context, topics ...string) error
	Close() error
}

// TooLargeError lists the records of a Produce call that are over the
// transport's size limit, or that cannot be encoded at all. Retrying cannot
// help them: the runners turn them into dead letters and produce the rest.
type TooLargeError struct {
	Limit   int // transport.kafka.max_message_bytes
	Records []TooLarge
}

// TooLarge is one record over the limit, or one that cannot be encoded.
type TooLarge struct {
	Index int    // into the outs given to Produce
	Size  int    // its encoded bytes, key included
	Head  string // the start of its encoding, for the dead letter
	// Err is why the record cannot be encoded (JSON cannot write a NaN, or
	// a time past year 9999); nil when it is only too large.
	Err error
}

func (e *TooLargeError) Error() string {
	r := e.Records[0]
	if r.Err != nil {
		return fmt.Sprintf("%d records over max_message_bytes %d or not encodable, the first: %v", len(e.Records), e.Limit, r.Err)
	}
	return fmt.Sprintf("%d records over max_message_bytes %d, the first of %d bytes", len(e.Records), e.Limit, r.Size)
}

// produce writes outs. Records the producer refuses as too large are
// replaced, in outs, by dead letters from stage that say so, and the batch
// is produced again: one oversized record must not stall its partition.
func produce(ctx context.Context, p Producer, stage, deadTopic string, outs []Out) error {
	err := p.Produce(ctx, outs)
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		return err
	}
	for _, r := range tl.Records {
		outs[r.Index] = tooLarge(stage, deadTopic, outs[r.Index], r, tl.Limit)
	}
	return p.Produce(ctx, outs)
}

// tooLarge is the dead letter that stands for an oversized record. It
// carries the record's key and the start of its encoding, never the item.
func tooLarge(stage, deadTopic string, o Out, r TooLarge, limit int) Out {
	if o.Dead != nil {
		d := *o.Dead
		if r.Err != nil {
			d.Reason += fmt.Sprintf(" (its item left out: it cannot be encoded: %v)", r.Err)
		} else {
			d.Reason += fmt.Sprintf(" (its item left out: with it the dead letter was %d bytes, over transport.kafka.max_message_bytes %d)", r.Size, limit)
		}
		d.Item = nil
		return Out{Topic: o.Topic, Key: o.Key, Dead: &d, Origin: o.Origin}
	}
	reason, class := fmt.Sprintf("record of %d bytes for %s is over transport.kafka.max_message_bytes %d", r.Size, o.Topic, limit), post.ClassTooBig
	if r.Err != nil {
		reason, class = fmt.Sprintf("record for %s cannot be encoded: %v", o.Topic, r.Err), post.ClassInvalidField
	}
	d := &post.DeadLetter{Stage: stage, Reason: reason, Class: class, Key: o.Key, Raw: r.Head, RawBytes: r.Size, At: time.Now().UTC()}
	return Out{Topic: deadTopic, Key: o.Key, Dead: d, Origin: o.Origin}
}
