//go:build integration

package stream

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// TestOversizedRecordsBecomeDeadLetters: on a real broker with a 256 KiB
// max_message_bytes, a source batch holding a post too big to produce, and
// a dead letter made too big by the item it carries, is produced: the
// post as a dead letter naming it, the dead letter without its item, and
// the rest unchanged, instead of the batch being retried forever.
func TestOversizedRecordsBecomeDeadLetters(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	cfg.MaxMessageBytes = 256 << 10
	prefix := fmt.Sprintf("f_bad.stream.%d", time.Now().UnixNano())
	topic, dead := prefix+".posts", prefix+".deadletter"
	k := mustKafka(t, cfg, dead, quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := k.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.EnsureTopics(ctx, topic, dead); err != nil {
		t.Fatal(err)
	}
	dropAfter(t, topic, dead)
	p, _ := k.Producer()
	defer p.Close()

	big := func(id string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "t", ID: id, Text: strings.Repeat("x", 300<<10), CreatedAt: time.Now()}}
	}
	its := benchItems(3)
	src := &onceSource{b: post.Batch{
		Items:    []*post.Item{its[0], big("huge"), its[1], its[2]},
		Rejected: []post.Rejected{{Item: big("rejected"), Reason: "refused downstream"}},
	}}
	sr := &SourceRunner{Name: "ingest", Src: src, Out: p, Topic: topic, DeadTopic: dead, BatchSize: 10, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry())}
	done := make(chan error, 1)
	go func() { done <- sr.Run(ctx, time.Second) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the source runner is still producing after 30s: the oversized records are being retried")
	}
	if st := sr.Stats(); st.Out != 3 || st.Dead != 2 {
		t.Errorf("stats out %d dead %d, want 3 and 2", st.Out, st.Dead)
	}

	c, _ := k.Consumer(prefix+".g", topic)
	defer c.Close()
	for _, d := range fetchN(t, c, 3) {
		if d.Err != nil || d.Item.Post.ID == "huge" {
			t.Errorf("posts topic holds %+v", d)
		}
	}
	dc, _ := k.Consumer(prefix+".g", dead)
	defer dc.Close()
	byKey := map[string]*post.DeadLetter{}
	for _, d := range fetchN(t, dc, 2) {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		byKey[d.Dead.Key] = d.Dead
	}
	want := "over transport.kafka.max_message_bytes 262144"
	if d := byKey["t:huge"]; d == nil || d.Stage != "ingest" || !strings.Contains(d.Reason, want) || d.RawBytes < 300<<10 || len(d.Raw) > post.RawLimit || d.Item != nil {
		t.Errorf("dead letter for the huge post: %+v", d)
	}
	if d := byKey["t:rejected"]; d == nil || !strings.HasPrefix(d.Reason, "refused downstream (its item left out") || !strings.Contains(d.Reason, want) || d.Item != nil {
		t.Errorf("dead letter for the rejected post: %+v", d)
	}
}

// onceSource yields one batch, then io.EOF.
type onceSource struct {
	b    post.Batch
	done bool
}

func (s *onceSource) Next(context.Context, int) (post.Batch, error) {
	if s.done {
		return post.Batch{}, io.EOF
	}
	s.done = true
	return s.b, nil
}

// TestTopicWithSmallerLimitIsRefused: a topic that already exists with a
// max.message.bytes below transport.kafka.max_message_bytes would make the
// broker refuse records the producer lets through, and their batch would be
// retried forever; earshot refuses to start on it instead, naming both.
func TestTopicWithSmallerLimitIsRefused(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	prefix := fmt.Sprintf("f_bad.stream.%d", time.Now().UnixNano())
	small, fine := prefix+".small", prefix+".fine"
	dropAfter(t, small, fine)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pre := cfg
	pre.MaxMessageBytes = 1 << 20 // as created by another tool, with the broker's usual 1 MiB
	if err := mustKafka(t, pre, "", quiet).EnsureTopics(ctx, small); err != nil {
		t.Fatal(err)
	}
	k := mustKafka(t, cfg, "", quiet)
	err := k.EnsureTopics(ctx, small, fine)
	if err == nil || !strings.Contains(err.Error(), "topic "+small+": max.message.bytes is 1048576, less than transport.kafka.max_message_bytes 8388608") {
		t.Fatalf("EnsureTopics = %v, want the small topic refused", err)
	}
	if strings.Contains(err.Error(), fine) {
		t.Errorf("EnsureTopics refused %s too: %v", fine, err)
	}
	if err := k.EnsureTopics(ctx, fine); err != nil {
		t.Errorf("a topic created with the limit: %v", err)
	}
}
