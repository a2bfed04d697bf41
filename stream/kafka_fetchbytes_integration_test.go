//go:build integration

package stream

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// A batch is bounded in bytes as well as in records: with posts of up to
// max_post_bytes (1 MiB), the sink's 10,000-record batches would hold
// 10 GB (a backlog after an outage fills them at once), and the process
// ran out of memory on every restart at the same offsets. A fetch stops
// gathering once its records pass the bound (a record is never split, so
// the one that passes it is in).
func TestFetchBoundsBatchBytes(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	topic := fmt.Sprintf("f_review8.bytes.%d", time.Now().UnixNano())
	k := mustKafka(t, cfg, topic+".dead", quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tr := &kafka.Transport{}
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second, Transport: tr}
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}}})
	if err != nil || res.Errors[topic] != nil {
		t.Fatalf("creating %s: %v %v", topic, err, res.Errors)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
		tr.CloseIdleConnections()
	})
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Transport: tr, BatchBytes: 16 << 20, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	const n, size = 12, 256 << 10
	var msgs []kafka.Message
	for i := range n {
		v, err := post.Encode(nil, &post.Item{Post: &post.Post{Platform: "t", ID: fmt.Sprint(i), Text: strings.Repeat("x", size), CreatedAt: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte("k"), Value: v})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("writing: %v", err)
	}
	c, err := k.Consumer(topic+".g", topic)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*kafkaConsumer).maxBytes = 1 << 20 // four records' worth
	var got, most int
	for got < n {
		ds, err := c.Fetch(ctx, 1000, 2*time.Second)
		if err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		got += len(ds)
		most = max(most, len(ds))
	}
	if most > 5 {
		t.Errorf("a batch held %d records of %d KiB, past the bound of 1 MiB (4 of them, and the one that passes it)", most, size>>10)
	}
}
