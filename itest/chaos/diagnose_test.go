//go:build integration

package chaos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestGroupOffsetsNamesAStalledGroup: what diagnose logs shows a group
// that read a topic only part way, with its lag.
func TestGroupOffsetsNamesAStalledGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("chaosdiag.%d", time.Now().UnixNano()%1e9)
	topic, group := prefix+".in", prefix+".match"
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP("127.0.0.1:9092"), Transport: tr}
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	defer client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	w := &kafka.Writer{Addr: kafka.TCP("127.0.0.1:9092"), Topic: topic, Transport: tr}
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("a")}, kafka.Message{Value: []byte("b")}, kafka.Message{Value: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{topic: {{Partition: 0, Offset: 2}}}}); err != nil {
		t.Fatal(err)
	}
	lines, err := groupOffsets(ctx, "127.0.0.1:9092", prefix)
	if err != nil {
		t.Fatal(err)
	}
	want := group + " " + topic + "/0: committed 2 of end 3 (lag 1)"
	if strings.Join(lines, "\n") != want {
		t.Errorf("got %q, want %q", lines, want)
	}
}
