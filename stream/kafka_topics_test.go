package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/createtopics"
	"github.com/segmentio/kafka-go/protocol/describeconfigs"
	"github.com/segmentio/kafka-go/protocol/listoffsets"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// flakyBroker answers the requests EnsureTopics makes, failing the first
// `fails` CreateTopics as a broker that died mid-request does, and
// answering the first `unserved` ListOffsets "Not Leader For Partition" for
// every partition, as a broker does that has named a new partition's
// leader but does not serve it yet.
type flakyBroker struct {
	mu       sync.Mutex
	fails    int
	creates  int
	failErr  error
	unserved int
	lists    int
	listCode int16 // the ListOffsets error code once served (an ACL's refusal); 0 none
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
	case *listoffsets.Request:
		f.lists++
		code := f.listCode
		if f.unserved > 0 {
			f.unserved--
			code = 6 // NOT_LEADER_OR_FOLLOWER
		}
		res := &listoffsets.Response{}
		for _, t := range r.Topics {
			rt := listoffsets.ResponseTopic{Topic: t.Topic}
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, listoffsets.ResponsePartition{Partition: p.Partition, ErrorCode: code})
			}
			res.Topics = append(res.Topics, rt)
		}
		return res, nil
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

// EnsureTopics returns only once the leaders serve every partition: a
// broker names a new partition's leader before the leader serves it, and
// each reader and writer that came meanwhile met "Not Leader For
// Partition" (every stage logged it at start). A partition that is never
// served (a broker of the cluster down) holds the start up for leaderWait
// only, with a warning naming it.
func TestEnsureTopicsWaitsForServingLeaders(t *testing.T) {
	c := DefaultKafkaConfig()
	c.Brokers = []string{"127.0.0.1:9"}
	var out syncBuf
	k, err := NewKafka(c, "t.deadletter", slog.New(slog.NewTextHandler(&out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	fb := &flakyBroker{unserved: 3}
	k.client.Transport = fb
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.EnsureTopics(ctx, "t.posts", "t.matched"); err != nil {
		t.Fatal(err)
	}
	if fb.lists != 4 {
		t.Errorf("%d ListOffsets, want 4: three answered Not Leader, the fourth served", fb.lists)
	}
	if out.String() != "" {
		t.Errorf("a wait of a moment logged:\n%s", out.String())
	}

	k.leaderWait = 300 * time.Millisecond
	k.client.Transport = &flakyBroker{unserved: 1 << 30}
	start := time.Now()
	if err := k.EnsureTopics(ctx, "t.posts"); err != nil {
		t.Fatalf("a partition not served: %v, want a warning and a start", err)
	}
	if d := time.Since(start); d < k.leaderWait || d > 10*time.Second {
		t.Errorf("started after %v, want leaderWait (%v)", d, k.leaderWait)
	}
	if s := out.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "t.posts partition 0") || !strings.Contains(s, "Not Leader") {
		t.Errorf("the warning does not name the partition and why:\n%s", s)
	}

	// A refusal is not waited out: the readers and writers report it.
	k.leaderWait = defaultLeaderWait
	k.client.Transport = &flakyBroker{listCode: 29} // TOPIC_AUTHORIZATION_FAILED
	start = time.Now()
	if err := k.EnsureTopics(ctx, "t.posts"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a refused ListOffsets held the start up %v", d)
	}
}
