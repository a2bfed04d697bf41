package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/createtopics"
	"github.com/segmentio/kafka-go/protocol/describeconfigs"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// flakyBroker answers the requests EnsureTopics makes, failing the first
// `fails` CreateTopics as a broker that died mid-request does.
type flakyBroker struct {
	mu      sync.Mutex
	fails   int
	creates int
	failErr error
}

func (f *flakyBroker) RoundTrip(_ context.Context, _ net.Addr, req protocol.Message) (protocol.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r := req.(type) {
	case *createtopics.Request:
		f.creates++
		if f.fails > 0 {
			f.fails--
			return nil, f.failErr
		}
		res := &createtopics.Response{}
		for _, t := range r.Topics {
			res.Topics = append(res.Topics, createtopics.ResponseTopic{Name: t.Name})
		}
		return res, nil
	case *metadata.Request:
		res := &metadata.Response{Brokers: []metadata.ResponseBroker{{NodeID: 1, Host: "127.0.0.1", Port: 9}}, ControllerID: 1}
		for _, t := range r.TopicNames {
			res.Topics = append(res.Topics, metadata.ResponseTopic{Name: t, Partitions: []metadata.ResponsePartition{{PartitionIndex: 0, LeaderID: 1}}})
		}
		return res, nil
	case *describeconfigs.Request:
		return &describeconfigs.Response{}, nil
	}
	return nil, fmt.Errorf("unexpected request %T", req)
}

// TestEnsureTopicsRetriesABrokerThatWentAway: a stage process that starts
// while the broker restarts (WaitReady passed, then the broker died) must
// wait for it as WaitReady does, not exit: the chaos soak's broker restarts
// found stages exiting with "creating topics …: unexpected EOF".
func TestEnsureTopicsRetriesABrokerThatWentAway(t *testing.T) {
	c := DefaultKafkaConfig()
	c.Brokers = []string{"127.0.0.1:9"}
	k, err := NewKafka(c, "t.deadletter", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	fb := &flakyBroker{fails: 3, failErr: io.ErrUnexpectedEOF}
	k.client.Transport = fb
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.EnsureTopics(ctx, "t.posts", "t.matched"); err != nil {
		t.Fatalf("EnsureTopics after three failed attempts: %v", err)
	}
	if fb.creates != 4 {
		t.Errorf("%d CreateTopics, want 4", fb.creates)
	}

	// With connect_timeout set, it gives up after it, saying why.
	c.ConnectTimeout = 500 * time.Millisecond
	k2, err := NewKafka(c, "t.deadletter", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	k2.client.Transport = &flakyBroker{fails: 1 << 30, failErr: io.ErrUnexpectedEOF}
	start := time.Now()
	if err := k2.EnsureTopics(ctx, "t.posts"); err == nil {
		t.Fatal("a broker that never comes back: no error")
	} else if time.Since(start) > 10*time.Second {
		t.Errorf("gave up after %v, connect_timeout is 500ms", time.Since(start))
	}
}
