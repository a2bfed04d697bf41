package api

import (
	"context"
	"log/slog"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// Tap is the embedded mode's alert feed: give it to pipeline.Taps.Alert.
// Every alert goes to the in-memory store (when there is one) and to the
// live feeds of its queue, with the desk the store holds for it.
func Tap(mem *MemAlerts, hub *Hub, log *slog.Logger) func(*post.Item) {
	return func(it *post.Item) {
		a, err := AlertFromItem(it)
		if err != nil {
			log.Warn("alert tap: not an alert", "err", err)
			return
		}
		if mem != nil {
			mem.Add(a)
			// An incident's update or a retraction is an alert the store
			// holds: the feed gets its desk, not a fresh one.
			if held, err := mem.Get(context.Background(), a.Queue, a.ID); err == nil {
				a = held
			}
		}
		hub.Publish(a)
	}
}

// DeleteTap is the embedded mode's feed of deletes: give it to
// pipeline.Taps.Delete. A post deleted at its source leaves every alert
// the store holds that shows it (an incident's alert whose latest post
// it was, which route does not retract) without it, and the live feeds
// get those alerts as they now read.
func DeleteTap(mem *MemAlerts, hub *Hub) func(*post.Item) {
	return func(it *post.Item) {
		if mem == nil || it == nil || it.Post == nil || it.Post.Kind != post.KindDelete {
			return
		}
		for _, a := range mem.Deleted(it.Key(), it.Post.Source) {
			hub.Publish(a)
		}
	}
}

// Tailer reads records produced from now on, on every partition of the
// topics, until ctx ends; *stream.Kafka is one (stream owns every Kafka
// reader, and Tail joins no consumer group).
type Tailer interface {
	Tail(ctx context.Context, topics []string, fn func(topic string, d stream.Delivery)) error
}

// LiveFeed feeds the live feeds from the queues' alert topics in
// distributed mode. Each API process reads every topic from its end with
// no consumer group (so each instance sees every alert, no offsets are
// kept, and no group is left behind on the broker: the live feed is live,
// the history is in ClickHouse).
type LiveFeed struct {
	Source Tailer
	Topics map[string]string // queue → topic
	Hub    *Hub
	Log    *slog.Logger
}

// Run reads until ctx ends.
func (f *LiveFeed) Run(ctx context.Context) error {
	queueOf := make(map[string]string, len(f.Topics))
	topics := make([]string, 0, len(f.Topics))
	for q, t := range f.Topics {
		queueOf[t] = q
		topics = append(topics, t)
	}
	log := f.Log.With("component", "api.feed")
	return f.Source.Tail(ctx, topics, func(topic string, d stream.Delivery) {
		if d.Err != nil || d.Item == nil || d.Item.Alert == nil {
			log.Warn("live feed: a record that is not an alert is skipped", "queue", queueOf[topic], "topic", topic, "partition", d.Partition, "offset", d.Offset, "err", d.Err)
			return
		}
		a, err := AlertFromItem(d.Item)
		if err != nil {
			return
		}
		f.Hub.Publish(a)
	})
}
