//go:build integration

package stream

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/internal/tlsconf"
	"github.com/earshot-dev/earshot/post"
)

const broker = "127.0.0.1:9092"

func newKafka(t testing.TB) (*Kafka, string) {
	t.Helper()
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	// EARSHOT_BENCH_KAFKA names another broker; with EARSHOT_BENCH_KAFKA_CA
	// it is dialled in TLS, and with EARSHOT_BENCH_KAFKA_SASL (mechanism:user)
	// and EARSHOT_BENCH_KAFKA_PASSWORD it authenticates: the cost of a
	// secure connection, measured against a plaintext one on the same broker.
	if v := os.Getenv("EARSHOT_BENCH_KAFKA"); v != "" {
		cfg.Brokers = []string{v}
	}
	if ca := os.Getenv("EARSHOT_BENCH_KAFKA_CA"); ca != "" {
		cfg.TLS = tlsconf.Config{Enabled: true, CAFile: ca}
	}
	if mech, user, ok := strings.Cut(os.Getenv("EARSHOT_BENCH_KAFKA_SASL"), ":"); ok {
		cfg.SASL = KafkaSASL{Mechanism: mech, Username: user, PasswordEnv: "EARSHOT_BENCH_KAFKA_PASSWORD"}
	}
	if v := os.Getenv("EARSHOT_BENCH_BATCH_TIMEOUT"); v != "" {
		cfg.BatchTimeout, _ = time.ParseDuration(v)
	}
	k := mustKafka(t, cfg, "unused.deadletter", quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	topic := fmt.Sprintf("stream.%s.%d", strings.NewReplacer("/", ".", "=", "-").Replace(t.Name()), time.Now().UnixNano())
	if err := k.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	dropAfter(t, topic)
	return k, topic
}

// dropAfter deletes topics from the shared local broker when a passing test
// ends; a failing test's are kept, to be looked at.
func dropAfter(t testing.TB, topics ...string) {
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tr := &kafka.Transport{} // not kafka.DefaultTransport, whose connections stay open
		defer tr.CloseIdleConnections()
		cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second, Transport: tr}
		if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
			t.Logf("dropping topics %v: %v", topics, err)
		}
	})
}

// fetchN fetches until n records have come or the deadline passes.
func fetchN(t *testing.T, c Consumer, n int) []Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []Delivery
	for len(got) < n {
		ds, err := c.Fetch(ctx, n-len(got), 20*time.Millisecond)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", len(got), n, err)
		}
		got = append(got, ds...)
	}
	return got
}

func TestKafkaCommitsResumeAndRedeliver(t *testing.T) {
	k, topic := newKafka(t)
	ctx := context.Background()
	p, _ := k.Producer()
	defer p.Close()
	if err := p.Produce(ctx, outsOf(topic, benchItems(100))); err != nil {
		t.Fatal(err)
	}
	group := topic + ".g"

	// First member: reads everything, commits only the first 60 it saw.
	c1, _ := k.Consumer(group, topic)
	got := fetchN(t, c1, 100)
	w := newWatermark()
	first := w.add(got[:60])
	w.add(got[60:]) // in flight, never finished
	if err := c1.Commit(ctx, w.done(first)); err != nil {
		t.Fatal(err)
	}
	c1.Close()

	// Second member: gets exactly the 40 uncommitted records again.
	c2, _ := k.Consumer(group, topic)
	defer c2.Close()
	again := fetchN(t, c2, 40)
	seen := map[string]bool{}
	for _, d := range got[60:] {
		seen[d.Item.Key()] = true
	}
	for _, d := range again {
		if !seen[d.Item.Key()] {
			t.Errorf("redelivered %s, which was committed", d.Item.Key())
		}
		delete(seen, d.Item.Key())
	}
	if len(seen) != 0 {
		t.Errorf("%d uncommitted records were not redelivered", len(seen))
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if extra, err := c2.Fetch(fctx, 10, 0); err == nil {
		t.Errorf("got %d more records than were uncommitted", len(extra))
	}
}

func benchItems(n int) []*post.Item {
	its := make([]*post.Item, n)
	for i := range its {
		its[i] = &post.Item{Post: &post.Post{
			Platform: "bench", ID: strconv.Itoa(i), Author: post.Author{Handle: "someone", Followers: 1200, Location: "Αθήνα"},
			Text:      "Just got back from the gym. Really love my new Acme phone, great service 😀 #monday https://example.com/p/1",
			CreatedAt: time.Now(), Lang: "en", Hashtags: []string{"monday"}, URLs: []string{"https://example.com/p/1"},
		}}
	}
	return its
}

func recordBytes(its []*post.Item) int64 {
	b, _ := post.Encode(nil, its[0])
	return int64(len(b))
}

// BenchmarkKafkaProduce measures records/s produced with acks=all in
// batches of 1000, as the runner produces them.
func BenchmarkKafkaProduce(b *testing.B) {
	k, topic := newKafka(b)
	p, _ := k.Producer()
	defer p.Close()
	outs := outsOf(topic, benchItems(1000))
	b.SetBytes(recordBytes(benchItems(1)) * int64(len(outs)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Produce(context.Background(), outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(outs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkKafkaConsume measures records/s fetched, decoded and committed
// by a consumer group, in batches of 1000.
func BenchmarkKafkaConsume(b *testing.B) {
	k, topic := newKafka(b)
	p, _ := k.Producer()
	defer p.Close()
	const per = 1000
	outs := outsOf(topic, benchItems(per))
	total := 0
	for total < max(b.N, 1)*per {
		if err := p.Produce(context.Background(), outs); err != nil {
			b.Fatal(err)
		}
		total += per
	}
	c, _ := k.Consumer(topic+".g", topic)
	defer c.Close()
	ctx := context.Background()
	// Wait for the group to form before timing.
	first, err := c.Fetch(ctx, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(recordBytes(benchItems(1)) * per)
	b.ReportAllocs()
	b.ResetTimer()
	n := len(first)
	for n < b.N*per {
		ds, err := c.Fetch(ctx, per, 5*time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range ds {
			if d.Err != nil {
				b.Fatal(d.Err)
			}
		}
		if err := c.Commit(ctx, []Position{{ds[len(ds)-1].Partition, ds[len(ds)-1].Offset}}); err != nil {
			b.Fatal(err)
		}
		n += len(ds)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// The lag is the group's distance from its commits to the topic's end: it
// counts the records a stage has fetched but not committed, as a stalled
// stage holds them, not only those it has not fetched yet.
func TestKafkaLagCountsUncommitted(t *testing.T) {
	k, topic := newKafka(t)
	ctx := context.Background()
	p, _ := k.Producer()
	defer p.Close()
	if err := p.Produce(ctx, outsOf(topic, benchItems(100))); err != nil {
		t.Fatal(err)
	}
	c, _ := k.Consumer(topic+".g", topic)
	defer c.Close()
	got := fetchN(t, c, 100) // the reader is at the end of every partition
	waitLag(t, c, 100)

	w := newWatermark()
	first := w.add(got[:60])
	w.add(got[60:]) // in flight, as in a stalled stage
	if err := c.Commit(ctx, w.done(first)); err != nil {
		t.Fatal(err)
	}
	// One call, as one scrape, gets the lag as it is, not the last reading.
	time.Sleep(lagEvery)
	if n := c.Lag(); n != 40 {
		t.Errorf("lag %d after committing 60 of 100, want 40", n)
	}

	// Another member of the group reports the same: it is the group's lag.
	c2, _ := k.Consumer(topic+".g", topic)
	defer c2.Close()
	waitLag(t, c2, 40)
}

// waitLag waits for c's lag, read in the background, to become want.
func waitLag(t *testing.T, c Consumer, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := c.Lag()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lag %d, want %d", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKafkaBatchRecords: on a batched topic, 100 items go out in records
// of up to batch_items; a consumer gets every item, never a record split
// between two fetches (its offset is committed with the fetch that holds
// all of it); a group that committed part of them gets exactly the items of
// the uncommitted records again; and a record of the previous encoder, one
// item, written beside them, still reads.
func TestKafkaBatchRecords(t *testing.T) {
	k, topic := newKafka(t)
	k.cfg.BatchItems = 10
	k.BatchTopics(topic)
	ctx := context.Background()
	p, _ := k.Producer()
	defer p.Close()
	if err := p.Produce(ctx, outsOf(topic, benchItems(100))); err != nil {
		t.Fatal(err)
	}
	old := recorded(t)[0]
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Transport: k.transport}
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("old"), Value: old}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	records, err := k.GroupLag(ctx, "nobody", topic)
	if err != nil {
		t.Fatal(err)
	}
	if records < 11 || records > 40 {
		t.Errorf("%d records for 100 items of batch_items 10 and one old record", records)
	}

	group := topic + ".g"
	c1, _ := k.Consumer(group, topic)
	type pos struct {
		p int
		o int64
	}
	fetchOf := map[pos]int{}
	var got []Delivery
	var fetches [][]Delivery
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(got) < 101 {
		ds, err := c1.Fetch(fctx, 3, 20*time.Millisecond)
		if err != nil {
			t.Fatalf("after %d of 101 items: %v", len(got), err)
		}
		for _, d := range ds {
			if d.Err != nil {
				t.Fatal(d.Err)
			}
			if f, ok := fetchOf[pos{d.Partition, d.Offset}]; ok && f != len(fetches) {
				t.Fatalf("record %d/%d split between fetches %d and %d", d.Partition, d.Offset, f, len(fetches))
			}
			fetchOf[pos{d.Partition, d.Offset}] = len(fetches)
		}
		got = append(got, ds...)
		fetches = append(fetches, ds)
	}
	keys := map[string]bool{}
	for _, d := range got {
		keys[d.Item.Key()] = true
	}
	oldIt, _ := post.Decode(old)
	if len(keys) != 101 || !keys[oldIt.Key()] {
		t.Fatalf("%d distinct items, the old record's %v", len(keys), keys[oldIt.Key()])
	}

	// Commit the first half of the fetches only; the rest are redelivered.
	wm := newWatermark()
	var tickets []ticket
	for _, ds := range fetches {
		tickets = append(tickets, wm.add(ds))
	}
	half := len(fetches) / 2
	for _, tk := range tickets[:half] {
		if err := c1.Commit(ctx, wm.done(tk)); err != nil {
			t.Fatal(err)
		}
	}
	c1.Close()
	want := map[string]bool{}
	for _, ds := range fetches[half:] {
		for _, d := range ds {
			want[d.Item.Key()] = true
		}
	}
	c2, _ := k.Consumer(group, topic)
	defer c2.Close()
	again := fetchN(t, c2, len(want))
	for _, d := range again {
		if !want[d.Item.Key()] {
			t.Errorf("redelivered %s, which was committed", d.Item.Key())
		}
		delete(want, d.Item.Key())
	}
	if len(want) != 0 {
		t.Errorf("%d items of uncommitted records not redelivered", len(want))
	}
}
