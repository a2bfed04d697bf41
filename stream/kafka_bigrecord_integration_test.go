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

// A record larger than the consumer's fetch size (a topic whose
// max.message.bytes is above earshot's max_message_bytes, written by
// another program) must neither stall the consumer nor hide the records
// after it: it comes out as a delivery (a dead letter downstream), and the
// good record behind it follows.
func TestRecordLargerThanTheFetchSizeDoesNotStall(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	cfg.MaxMessageBytes = 64 << 10 // fetches of 64 KiB + 1 MiB
	topic := fmt.Sprintf("f_review2.big.%d", time.Now().UnixNano())
	k := mustKafka(t, cfg, topic+".dead", quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tr := &kafka.Transport{}
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second, Transport: tr}
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: fmt.Sprint(8 << 20)}},
	}}})
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
	defer tr.CloseIdleConnections()
	good, err := post.Encode(nil, &post.Item{Post: &post.Post{Platform: "t", ID: "after", Text: "fine", CreatedAt: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	huge := `{"v":1,"post":{"platform":"t","id":"huge","text":"` + strings.Repeat("x", 3<<20) + `"}}`
	for _, v := range [][]byte{[]byte(huge), good} {
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: v}); err != nil {
			t.Fatalf("writing: %v", err)
		}
	}
	c, err := k.Consumer(topic+".g", topic)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fctx, fcancel := context.WithTimeout(ctx, 45*time.Second)
	defer fcancel()
	var got []Delivery
	for len(got) < 2 {
		ds, err := c.Fetch(fctx, 10, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("after %d deliveries: %v (a stall behind the large record)", len(got), err)
		}
		got = append(got, ds...)
	}
	if d := got[len(got)-1]; d.Err != nil || d.Item == nil || d.Item.Post.ID != "after" {
		t.Fatalf("the record after the large one: %+v", d)
	}
	t.Logf("the large record: %d bytes, err %v", len(got[0].Raw), got[0].Err)
}
