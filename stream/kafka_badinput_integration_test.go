//go:build integration

package stream

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

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
	// the huge post is too_big; the dead letter cut to fit keeps its own class (none given: other)
	if d := byKey["t:huge"]; d != nil && d.Class != post.ClassTooBig {
		t.Errorf("huge post's dead letter: class %q, want too_big", d.Class)
	}
	if d := byKey["t:rejected"]; d != nil && d.Class != post.ClassOther {
		t.Errorf("rejected post's dead letter: class %q, want other", d.Class)
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

// TestBatchRecordBadItemsThroughARunner: a batch record on a real broker
// holding good items, an item of invalid UTF-8 and an item without an id,
// and after it a record whose envelope is cut short, go through a stage's
// runner: the good items reach the output, each bad item is a dead letter
// of its own with its reason and its own bytes, the cut envelope's rest is
// one dead letter, and the group's offset moves past both records: nothing
// stalls, nothing is lost.
func TestBatchRecordBadItemsThroughARunner(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	prefix := fmt.Sprintf("f_bad.stream.%d", time.Now().UnixNano())
	in, out, dead := prefix+".posts", prefix+".matched", prefix+".deadletter"
	k := mustKafka(t, cfg, dead, quiet)
	k.BatchTopics(in, out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := k.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.EnsureTopics(ctx, in, out, dead); err != nil {
		t.Fatal(err)
	}
	dropAfter(t, in, out, dead)

	good := benchItems(4)
	enc := func(it *post.Item) []byte { b, _ := post.Encode(nil, it); return b }
	badUTF8 := []byte("{\"v\":1,\"post\":{\"platform\":\"x\",\"id\":\"u\",\"text\":\"\xff\xfe\"}}")
	noID := []byte(`{"v":1,"post":{"platform":"x","created_at":"2026-12-07T00:00:00Z"}}`)
	rec := post.AppendBatch(nil, [][]byte{enc(good[0]), badUTF8, enc(good[1]), noID})
	cut := post.AppendBatch(nil, [][]byte{enc(good[2]), enc(good[3])})
	cut = cut[:len(cut)-10]
	// Both on one partition, in order.
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: in, Transport: k.transport, Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })}
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("a"), Value: rec}, kafka.Message{Key: []byte("a"), Value: cut}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	c, _ := k.Consumer(prefix+".match", in)
	p, _ := k.Producer()
	defer p.Close()
	r := &Runner{
		Name: "match", In: c, Out: p, DeadTopic: dead, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
		Topic:  func(*post.Item) string { return out },
		Config: RunnerConfig{BatchSize: 100, Linger: 20 * time.Millisecond, Workers: 1, ShutdownTimeout: 5 * time.Second},
		Stage:  func(_ context.Context, b post.Batch) (post.Batch, error) { return b, nil },
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() { stop(); <-done; c.Close() }()

	oc, _ := k.Consumer(prefix+".check", out)
	defer oc.Close()
	got := map[string]bool{}
	for _, d := range fetchN(t, oc, 3) { // good[0], good[1], good[2]
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		got[d.Item.Key()] = true
	}
	for _, it := range good[:3] {
		if !got[it.Key()] {
			t.Errorf("good item %s did not come through: %v", it.Key(), got)
		}
	}
	dc, _ := k.Consumer(prefix+".check", dead)
	defer dc.Close()
	var reasons []string
	for _, d := range fetchN(t, dc, 3) {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		reasons = append(reasons, d.Dead.Reason)
		want := post.ClassDecode // the bad UTF-8, the cut envelope
		if strings.Contains(d.Dead.Reason, "no id") {
			want = post.ClassInvalidField
		}
		if d.Dead.Class != want {
			t.Errorf("dead letter %q: class %q, want %q", d.Dead.Reason, d.Dead.Class, want)
		}
		switch {
		case strings.Contains(d.Dead.Reason, "UTF-8"):
			// JSON carries the invalid bytes as U+FFFD; the size is exact.
			if !strings.HasPrefix(d.Dead.Raw, `{"v":1,"post":{"platform":"x","id":"u"`) || d.Dead.RawBytes != len(badUTF8) {
				t.Errorf("bad UTF-8 item's dead letter carries %q (%d bytes)", d.Dead.Raw, d.Dead.RawBytes)
			}
		case strings.Contains(d.Dead.Reason, "no id"):
			if d.Dead.Raw != string(noID) {
				t.Errorf("item without id's dead letter carries %q", d.Dead.Raw)
			}
		case strings.Contains(d.Dead.Reason, "batch record: item 2 of 2"):
		default:
			t.Errorf("unexpected dead letter %q", d.Dead.Reason)
		}
	}
	if len(reasons) != 3 {
		t.Fatalf("dead letters %q", reasons)
	}
	eventuallyLag(t, k, prefix+".match", in)
}

// eventuallyLag waits for group's lag on topic to reach 0.
func eventuallyLag(t *testing.T, k *Kafka, group, topic string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		lag, err := k.GroupLag(context.Background(), group, topic)
		if err == nil && lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lag of %s on %s still %d (%v) after 30s: the batch records' offsets were not committed", group, topic, lag, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBinaryBatchRecordBadItemsThroughARunner is the same for binary items
// (envelope version 2) on the real broker: the good items come through,
// each bad one and the cut envelope's rest is a dead letter with its
// reason and its bytes in base64, and the group's offset moves past both.
func TestBinaryBatchRecordBadItemsThroughARunner(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	prefix := fmt.Sprintf("f_badbin.stream.%d", time.Now().UnixNano())
	in, out, dead := prefix+".posts", prefix+".matched", prefix+".deadletter"
	k := mustKafka(t, cfg, dead, quiet)
	k.BatchTopics(in, out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := k.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.EnsureTopics(ctx, in, out, dead); err != nil {
		t.Fatal(err)
	}
	dropAfter(t, in, out, dead)

	good := benchItems(4)
	bin := func(it *post.Item) []byte { return post.AppendBinary(nil, it) }
	badUTF8 := bin(good[0])
	badUTF8[bytes.Index(badUTF8, []byte("gym"))] = 0xff
	huge := []byte{post.BinaryVersion, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f} // a length of 2⁶³−1
	rec := post.AppendEnvelope(nil, post.EnvelopeBinary, [][]byte{bin(good[0]), badUTF8, bin(good[1]), huge})
	cut := post.AppendEnvelope(nil, post.EnvelopeBinary, [][]byte{bin(good[2]), bin(good[3])})
	cut = cut[:len(cut)-10]
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: in, Transport: k.transport, Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })}
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("a"), Value: rec}, kafka.Message{Key: []byte("a"), Value: cut}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	c, _ := k.Consumer(prefix+".match", in)
	p, _ := k.Producer()
	defer p.Close()
	r := &Runner{
		Name: "match", In: c, Out: p, DeadTopic: dead, Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
		Topic:  func(*post.Item) string { return out },
		Config: RunnerConfig{BatchSize: 100, Linger: 20 * time.Millisecond, Workers: 1, ShutdownTimeout: 5 * time.Second},
		Stage:  func(_ context.Context, b post.Batch) (post.Batch, error) { return b, nil },
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() { stop(); <-done; c.Close() }()

	oc, _ := k.Consumer(prefix+".check", out)
	defer oc.Close()
	got := map[string]bool{}
	for _, d := range fetchN(t, oc, 3) {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		got[d.Item.Key()] = true
	}
	for _, it := range good[:3] {
		if !got[it.Key()] {
			t.Errorf("good item %s did not come through: %v", it.Key(), got)
		}
	}
	dc, _ := k.Consumer(prefix+".check", dead)
	defer dc.Close()
	raws := map[string][]byte{"invalid UTF-8": badUTF8, "says 9223372036854775807 bytes": huge, "item 2 of 2": nil}
	for _, d := range fetchN(t, dc, 3) {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		raw, err := base64.StdEncoding.DecodeString(d.Dead.Raw)
		if err != nil || !strings.Contains(d.Dead.Reason, "base64") {
			t.Errorf("dead letter %q: raw %q is not base64 (%v)", d.Dead.Reason, d.Dead.Raw, err)
		}
		matched := false
		for reason, want := range raws {
			if strings.Contains(d.Dead.Reason, reason) {
				matched = true
				if want != nil && !bytes.Equal(raw, want) {
					t.Errorf("dead letter %q carries %x, want %x", d.Dead.Reason, raw, want)
				}
				delete(raws, reason)
			}
		}
		if !matched {
			t.Errorf("unexpected dead letter %q", d.Dead.Reason)
		}
	}
	if len(raws) != 0 {
		t.Errorf("no dead letter for %v", raws)
	}
	eventuallyLag(t, k, prefix+".match", in)
}
