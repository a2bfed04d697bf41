package stream

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/segmentio/kafka-go"
)

// A table is a compacted Kafka topic used as a replicated key-value map:
// the latest record of a key is its value, an empty record deletes it. The
// live watchlist set is one: published by `earshot watchlist publish`,
// followed by every matcher.

// EnsureTable creates topic as a single-partition compacted topic, if missing.
func (k *Kafka) EnsureTable(ctx context.Context, topic string) error {
	res, err := k.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: k.cfg.ReplicationFactor,
		ConfigEntries: []kafka.ConfigEntry{
			{ConfigName: "cleanup.policy", ConfigValue: "compact"},
			{ConfigName: "max.message.bytes", ConfigValue: fmt.Sprint(k.cfg.MaxMessageBytes)},
		},
	}}})
	if err != nil {
		return fmt.Errorf("creating table topic %s: %w", topic, err)
	}
	if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("creating table topic %s: %w", topic, err)
	}
	if err := k.waitTopics(ctx, topic); err != nil {
		return err
	}
	return k.checkLimits(ctx, []string{topic})
}

// ReadTable reads topic from the start to its current end and returns the
// live entries.
func (k *Kafka) ReadTable(ctx context.Context, topic string) (map[string][]byte, int64, error) {
	end, err := k.tableEnd(ctx, topic)
	if err != nil {
		return nil, 0, err
	}
	table := map[string][]byte{}
	if end == 0 {
		return table, 0, nil
	}
	r := k.tableReader(topic, 0)
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("reading table %s: %w", topic, err)
		}
		apply(table, m)
		if m.Offset >= end-1 {
			return table, m.Offset + 1, nil
		}
	}
}

func apply(table map[string][]byte, m kafka.Message) {
	if len(m.Value) == 0 {
		delete(table, string(m.Key))
	} else {
		table[string(m.Key)] = m.Value
	}
}

// tableEnd returns the next offset of the table's partition. Right after a
// topic is created its leader may not serve yet, so retriable errors are
// retried for a while.
func (k *Kafka) tableEnd(ctx context.Context, topic string) (int64, error) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		res, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
		switch {
		case err != nil:
			last = err
		case len(res.Topics[topic]) != 1:
			last = fmt.Errorf("no partition 0 in %v", res.Topics)
		case res.Topics[topic][0].Error != nil:
			last = res.Topics[topic][0].Error
		default:
			return res.Topics[topic][0].LastOffset, nil
		}
		var ke kafka.Error
		if errors.As(last, &ke) && !ke.Temporary() {
			break
		}
		if !Sleep(ctx, b.Next()) {
			break
		}
	}
	return 0, fmt.Errorf("reading the end of table %s: %w", topic, last)
}

func (k *Kafka) tableReader(topic string, offset int64) *kafka.Reader {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: k.cfg.Brokers, Dialer: k.dialer, Topic: topic, Partition: 0, MinBytes: 1, MaxBytes: k.cfg.MaxMessageBytes + 1<<20, MaxWait: time.Second})
	r.SetOffset(offset)
	return r
}

// FollowTable calls onChange with the whole table after every change made
// after offset from, batching changes that arrive within settle of each
// other, until ctx ends.
func (k *Kafka) FollowTable(ctx context.Context, topic string, table map[string][]byte, from int64, settle time.Duration, onChange func(map[string][]byte)) error {
	r := k.tableReader(topic, from)
	defer r.Close()
	table = maps.Clone(table)
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("following table %s: %w", topic, err)
		}
		apply(table, m)
		// Take whatever else arrives promptly, then act once.
		for {
			sctx, cancel := context.WithTimeout(ctx, settle)
			m, err := r.ReadMessage(sctx)
			cancel()
			if err != nil {
				break
			}
			apply(table, m)
		}
		onChange(maps.Clone(table))
	}
}

// PublishTable makes topic hold exactly entries: it writes every entry whose
// value differs and a tombstone for every key no longer present.
func (k *Kafka) PublishTable(ctx context.Context, topic string, entries map[string][]byte) (written, deleted int, err error) {
	current, _, err := k.ReadTable(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	var msgs []kafka.Message
	for key, v := range entries {
		if string(current[key]) != string(v) {
			msgs = append(msgs, kafka.Message{Key: []byte(key), Value: v})
			written++
		}
	}
	for key := range current {
		if _, ok := entries[key]; !ok {
			msgs = append(msgs, kafka.Message{Key: []byte(key)}) // a tombstone
			deleted++
		}
	}
	if len(msgs) == 0 {
		return 0, 0, nil
	}
	w := &kafka.Writer{Addr: kafka.TCP(k.cfg.Brokers...), Transport: k.transport, Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: k.cfg.BatchTimeout, BatchBytes: int64(k.cfg.MaxMessageBytes)}
	defer w.Close()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		return 0, 0, fmt.Errorf("publishing to table %s: %w", topic, summarize(err))
	}
	return written, deleted, nil
}
