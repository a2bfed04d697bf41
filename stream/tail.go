package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Tail hands fn every record produced on topics from now on, decoded as
// the transport's consumers decode it, until ctx ends. It is for readers
// that show what happens now and keep nothing, such as the API's live
// feeds: every API replica must see every record, so Tail joins no
// consumer group and commits nothing. It reads each partition on its own
// from the end it has when Tail starts; nothing is left on the broker when
// it stops (a consumer group per start would leave one orphaned group per
// restart, and a shared group would split the records between replicas).
// Partitions added to a topic after the start are read after a restart.
// fn runs on one goroutine per partition and must be safe for that.
func (k *Kafka) Tail(ctx context.Context, topics []string, fn func(topic string, d Delivery)) error {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	say := &retryNotes{log: k.log, brokers: k.cfg.Brokers}
	for _, topic := range topics {
		wg.Go(func() {
			ids, ends := k.tailStart(ctx, topic, say)
			for _, id := range ids {
				cfg := k.readerConfig("", topic)
				cfg.Partition = id
				cfg.StartOffset = 0 // a group setting; the offset is set below
				cfg.QueueCapacity = 256
				from, ok := ends[id]
				if !ok {
					from = kafka.LastOffset // never the start: a live feed does not replay the topic
				}
				r := kafka.NewReader(cfg)
				if err := r.SetOffset(from); err != nil {
					r.Close()
					select {
					case errs <- fmt.Errorf("tailing %s partition %d: %w", topic, id, err):
					default:
					}
					continue
				}
				c := &kafkaConsumer{topic: topic, dead: topic == k.deadTopic}
				wg.Go(func() {
					defer r.Close()
					for {
						m, err := r.ReadMessage(ctx)
						if err != nil {
							if ctx.Err() == nil {
								select {
								case errs <- fmt.Errorf("tailing %s partition %d: %w", topic, id, err):
								default:
								}
							}
							return
						}
						for _, d := range c.decode(nil, m) {
							fn(topic, d)
						}
					}
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// tailStart returns the partitions of topic and the end offset of each,
// retrying with backoff (the topic may not exist yet, the brokers may be
// down) until it has them or ctx ends (then it returns none). say tells
// the operator once what is wrong, not at every retry of every topic.
func (k *Kafka) tailStart(ctx context.Context, topic string, say *retryNotes) ([]int, map[int]int64) {
	b := Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}
	for {
		ids, err := k.partitions(ctx, topic)
		if err == nil {
			var ends map[int]int64
			if ends, err = listOffsets(ctx, k.client, topic, ids, kafka.LastOffsetOf); err == nil {
				say.ok(topic)
				return ids, ends
			}
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		wait := b.Next()
		say.failed(topic, err, wait)
		if !Sleep(ctx, wait) {
			return nil, nil
		}
	}
}

// errNoTopic: the brokers answered, without the topic.
var errNoTopic = errors.New("no metadata for the topic (does it exist?)")

// retryNotes logs the retries of Tail's topics so that an operator reads
// what is wrong once: the brokers out of reach (one WARN for all topics,
// naming the brokers), or a topic that does not exist yet (one INFO per
// topic: it appears with its first record); every further retry at DEBUG;
// and one INFO when what was reported comes right.
type retryNotes struct {
	log     *slog.Logger
	brokers []string
	mu      sync.Mutex
	said    map[string]bool // "" for the brokers, else a topic
}

func (n *retryNotes) failed(topic string, err error, wait time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.said == nil {
		n.said = map[string]bool{}
	}
	key := ""
	if errors.Is(err, errNoTopic) {
		key = topic
		n.answered()
	}
	switch {
	case n.said[key]:
		n.log.Debug("tail: retrying", "topic", topic, "retry_in", wait, "err", err)
	case key == "":
		n.log.Warn("live feed: cannot reach Kafka; retrying quietly with backoff (at most every 10s) until it answers (GET /readyz shows it too)",
			"brokers", strings.Join(n.brokers, ","), "err", err)
	default:
		n.log.Info("live feed: the topic does not exist yet (it appears with its first record); waiting for it", "topic", topic)
	}
	n.said[key] = true
}

func (n *retryNotes) ok(topic string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.answered()
	if n.said[topic] {
		n.log.Info("live feed: the topic exists now; tailing it", "topic", topic)
		delete(n.said, topic)
	}
}

// answered notes that the brokers answered (n.mu held).
func (n *retryNotes) answered() {
	if n.said[""] {
		n.log.Info("live feed: Kafka answers again", "brokers", strings.Join(n.brokers, ","))
		delete(n.said, "")
	}
}

// partitions lists the partition ids of topic.
func (k *Kafka) partitions(ctx context.Context, topic string) ([]int, error) {
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := k.client.Metadata(mctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
		return nil, errNoTopic
	}
	ids := make([]int, 0, len(md.Topics[0].Partitions))
	for _, p := range md.Topics[0].Partitions {
		ids = append(ids, p.ID)
	}
	return ids, nil
}
