// Package stream moves items between stages: the transports (Kafka and
// in-memory queues), the stage runner with its commit watermark, dead
// letters and the pipeline's metrics.
package stream

import (
	"context"
	"errors"
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

// Out is one record to produce. Exactly one of Item and Dead is set.
type Out struct {
	Topic string
	Key   string
	Item  *post.Item
	Dead  *post.DeadLetter
}

// Producer writes records; Produce returns once all are acknowledged.
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
