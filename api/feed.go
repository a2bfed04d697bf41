package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// Tap is the embedded mode's alert feed: give it to pipeline.Taps.Alert.
// Every alert goes to the in-memory store (when there is one) and to the
// live feeds of its queue.
func Tap(mem *MemAlerts, hub *Hub, log *slog.Logger) func(*post.Item) {
	return func(it *post.Item) {
		a, err := AlertFromItem(it)
		if err != nil {
			log.Warn("alert tap: not an alert", "err", err)
			return
		}
		if mem != nil {
			mem.Add(a)
		}
		hub.Publish(a)
	}
}

// KafkaFeed feeds the live feeds from the queues' Kafka topics in
// distributed mode. Each API process reads every topic from its end in a
// consumer group of its own (so each instance sees every alert, and no
// group's offsets matter: the live feed is live, the history is in
// ClickHouse).
type KafkaFeed struct {
	Brokers []string
	Dialer  *kafka.Dialer     // TLS and SASL, from stream.KafkaConn.Dialer; nil: plaintext
	Topics  map[string]string // queue → topic
	Hub     *Hub
	Log     *slog.Logger
	Group   string // default earshot-api-<host>-<random>
}

// Run reads until ctx ends.
func (f *KafkaFeed) Run(ctx context.Context) error {
	group := f.Group
	if group == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:])
		group = fmt.Sprintf("earshot-api-%s-%s", host, hex.EncodeToString(b[:]))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(f.Topics))
	for queue, topic := range f.Topics {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: f.Brokers, Dialer: f.Dialer, GroupID: group, Topic: topic, StartOffset: kafka.LastOffset,
			MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond, CommitInterval: time.Second,
			ReadBackoffMin: 50 * time.Millisecond, ReadBackoffMax: time.Second,
		})
		log := f.Log.With("component", "api.feed", "queue", queue, "topic", topic)
		wg.Go(func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("live feed of %s: %w", topic, err)
					}
					return
				}
				it, err := post.Decode(m.Value)
				if err != nil || it.Alert == nil {
					log.Warn("live feed: a record that is not an alert is skipped", "offset", m.Offset, "err", err)
					continue
				}
				a, err := AlertFromItem(it)
				if err != nil {
					continue
				}
				f.Hub.Publish(a)
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
