package stream

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// recorded are the records of post/testdata/recorded.tsv, as the
// distributed pipeline wrote them before batch records existed.
func recorded(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("../post/testdata/recorded.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var out [][]byte
	for sc.Scan() {
		_, rec, _ := strings.Cut(sc.Text(), "\t")
		out = append(out, []byte(rec))
	}
	return out
}

// TestDecodeRecordOfThePreviousEncoder: records written one item each, by
// builds before the batch envelope, still read as one item each.
func TestDecodeRecordOfThePreviousEncoder(t *testing.T) {
	for i, rec := range recorded(t) {
		ds := decodeRecord(nil, rec, 3, int64(i), false)
		if len(ds) != 1 || ds[0].Err != nil || ds[0].Item == nil || ds[0].Partition != 3 || ds[0].Offset != int64(i) || !bytes.Equal(ds[0].Raw, rec) {
			t.Fatalf("record %d: %+v", i, ds)
		}
		want, _ := post.Decode(rec)
		if ds[0].Item.Key() != want.Key() {
			t.Fatalf("record %d: %s, want %s", i, ds[0].Item.Key(), want.Key())
		}
	}
}

// TestDecodeRecordBatchBadItems: a batch record's items are decoded one by
// one; each bad one is a delivery with its own bytes and reason, and the
// good ones around it still come through, all at the record's offset.
func TestDecodeRecordBatchBadItems(t *testing.T) {
	recs := recorded(t)
	badUTF8 := []byte("{\"v\":1,\"post\":{\"platform\":\"x\",\"id\":\"1\",\"text\":\"\xff\"}}")
	noID := []byte(`{"v":1,"post":{"platform":"x","created_at":"2026-12-07T00:00:00Z"}}`)
	b := post.AppendBatch(nil, [][]byte{recs[0], badUTF8, noID, recs[1]})
	ds := decodeRecord(nil, b, 1, 42, false)
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	for i, d := range ds {
		if d.Partition != 1 || d.Offset != 42 {
			t.Errorf("delivery %d at %d/%d, want the record's 1/42", i, d.Partition, d.Offset)
		}
	}
	if ds[0].Item == nil || ds[3].Item == nil {
		t.Errorf("good items lost: %v %v", ds[0].Err, ds[3].Err)
	}
	if ds[1].Err == nil || !strings.Contains(ds[1].Err.Error(), "UTF-8") || !bytes.Equal(ds[1].Raw, badUTF8) {
		t.Errorf("bad UTF-8 item: %v, raw %q", ds[1].Err, ds[1].Raw)
	}
	if ds[2].Err == nil || !strings.Contains(ds[2].Err.Error(), "no id") || !bytes.Equal(ds[2].Raw, noID) {
		t.Errorf("item without id: %v, raw %q", ds[2].Err, ds[2].Raw)
	}

	// A damaged envelope: the items before the damage, and one delivery
	// for the rest, with the reason.
	ds = decodeRecord(nil, b[:len(b)-5], 1, 43, false)
	if len(ds) != 4 || ds[3].Err == nil || !strings.Contains(ds[3].Err.Error(), "item 4 of 4") || ds[3].Offset != 43 {
		t.Fatalf("damaged: %d deliveries, last %+v", len(ds), ds[len(ds)-1])
	}
	// An envelope of a newer version is one dead letter, never a guess.
	nb := bytes.Clone(b)
	nb[3] = 9
	ds = decodeRecord(nil, nb, 0, 0, false)
	if len(ds) != 1 || ds[0].Err == nil || !strings.Contains(ds[0].Err.Error(), "envelope version 9") {
		t.Fatalf("newer envelope: %+v", ds)
	}
}

// testProducer is a producer whose topics' partition counts are known
// without a broker.
func testProducer(items, bytes, max int, parts map[string]int) *kafkaProducer {
	p := &kafkaProducer{max: max, items: items, bytes: bytes, batched: map[string]bool{}, parts: partitionCounts{n: map[string]partitionCount{}}}
	for t, n := range parts {
		p.batched[t] = true
		c := partitionCount{at: time.Now().Add(time.Hour), ids: make([]int, n)}
		for i := range c.ids {
			c.ids[i] = i
		}
		p.parts.n[t] = c
	}
	return p
}

func testItem(id string, text string) *post.Item {
	return &post.Item{Post: &post.Post{Platform: "t", ID: id, Text: text, CreatedAt: time.Unix(1e9, 0).UTC()}}
}

// TestProducerGroupsByPartition: every item of a batch record hashes to
// the partition the record's key hashes to (so it lands where it would
// alone), each key's items keep their order, records hold at most
// batch_items, and the alert queues' and dead letters' records carry one
// item each, as before.
func TestProducerGroupsByPartition(t *testing.T) {
	const n = 4
	p := testProducer(7, 1<<20, 8<<20, map[string]int{"posts": n})
	var outs []Out
	for i := range 200 {
		it := testItem(fmt.Sprintf("k%d", i%37), fmt.Sprint(i)) // repeated keys: order per key must hold
		outs = append(outs, Out{Topic: "posts", Key: it.Key(), Item: it})
	}
	outs = append(outs, Out{Topic: "alerts.x", Key: "k1", Item: testItem("k1", "alert")})
	outs = append(outs, Out{Topic: "dead", Key: "k2", Dead: &post.DeadLetter{Stage: "s", Reason: "r"}})
	msgs := produced(t, p, outs)

	ids := []int{0, 1, 2, 3}
	seen := map[string][]string{} // key → texts, in record order
	items := 0
	for _, m := range msgs {
		parts, rest, err := post.SplitRecord(m.Value)
		if err != nil || rest != nil {
			t.Fatal(err)
		}
		if m.Topic != "posts" {
			if post.IsBatch(m.Value) {
				t.Errorf("a record of %s is a batch", m.Topic)
			}
			continue
		}
		if len(parts) > 7 {
			t.Errorf("record of %d items, batch_items 7", len(parts))
		}
		want := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: m.Key}, ids...)
		for _, b := range parts {
			it, err := post.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			items++
			if got := (kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: []byte(it.Key())}, ids...); got != want {
				t.Errorf("item %s (partition %d) in a record keyed %s (partition %d)", it.Key(), got, m.Key, want)
			}
			seen[it.Key()] = append(seen[it.Key()], it.Post.Text)
		}
	}
	if items != 200 {
		t.Fatalf("%d items in the records, want 200", items)
	}
	if len(msgs) >= 100 {
		t.Errorf("%d records for 202 outs: not batched", len(msgs))
	}
	for key, texts := range seen {
		var want []string
		for i := range 200 {
			if fmt.Sprintf("t:k%d", i%37) == key {
				want = append(want, fmt.Sprint(i))
			}
		}
		if strings.Join(texts, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", key, texts, want)
		}
	}
}

// TestProducerSplitsBySize: items that together pass batch_bytes go into
// more records, none over the bound, and an item as large as a record may
// be goes alone, never dropped; with batch_items 1 nothing is a batch.
func TestProducerSplitsBySize(t *testing.T) {
	const max = 64 << 10
	p := testProducer(500, 16<<10, max, map[string]int{"posts": 1})
	var outs []Out
	for i := range 40 {
		outs = append(outs, Out{Topic: "posts", Key: fmt.Sprint("t:k", i), Item: testItem(fmt.Sprint("k", i), strings.Repeat("x", 3000))})
	}
	huge := testItem("huge", strings.Repeat("y", max-2*framing))
	outs = append(outs, Out{Topic: "posts", Key: "t:huge", Item: huge})
	msgs := produced(t, p, outs)
	items := 0
	for _, m := range msgs {
		parts, _, err := post.SplitRecord(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		items += len(parts)
		if len(parts) > 1 && len(m.Key)+len(m.Value) > 16<<10 {
			t.Errorf("batch record of %d bytes, batch_bytes 16384", len(m.Key)+len(m.Value))
		}
		if len(m.Key)+len(m.Value)+framing > max {
			t.Errorf("record of %d bytes, max_message_bytes %d", len(m.Key)+len(m.Value), max)
		}
	}
	if items != 41 || len(msgs) < 41*3000/(16<<10) {
		t.Errorf("%d items in %d records", items, len(msgs))
	}

	one := testProducer(1, 16<<10, max, map[string]int{"posts": 1})
	for _, m := range produced(t, one, outs[:10]) {
		if post.IsBatch(m.Value) {
			t.Fatal("batch_items 1 wrote a batch record")
		}
	}
}

// produced is what p would write for outs.
func produced(t *testing.T, p *kafkaProducer, outs []Out) []kafka.Message {
	t.Helper()
	enc, err := p.encode(outs)
	if err != nil {
		t.Fatal(err)
	}
	return p.records(context.Background(), outs, enc)
}

func TestKafkaConfigBatch(t *testing.T) {
	for _, c := range []struct {
		items, bytes int
		want         string
	}{
		{0, 1 << 20, "batch_items"},
		{1e12, 1 << 20, "batch_items"},
		{post.MaxBatchItems + 1, 1 << 20, "batch_items"},
		{100, -1, "batch_bytes"},
		{100, 4095, "batch_bytes"},
		{100, 1e12, "batch_bytes"},
		{100, 9 << 20, "batch_bytes"}, // over max_message_bytes
	} {
		cfg := DefaultKafkaConfig()
		cfg.BatchItems, cfg.BatchBytes = c.items, c.bytes
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "transport.kafka."+c.want) {
			t.Errorf("batch_items %d, batch_bytes %d: %v, want an error naming %s", c.items, c.bytes, err, c.want)
		}
	}
	for _, bad := range []time.Duration{-1, 1e12 * time.Millisecond} {
		cfg := DefaultKafkaConfig()
		cfg.CommitInterval = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "commit_interval") {
			t.Errorf("commit_interval %v: %v", bad, err)
		}
		cfg = DefaultKafkaConfig()
		cfg.FetchIdle = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "fetch_idle") {
			t.Errorf("fetch_idle %v: %v", bad, err)
		}
	}
	cfg := DefaultKafkaConfig()
	cfg.BatchItems = 1
	if err := cfg.Validate(); err != nil {
		t.Errorf("batch_items 1 (batching off): %v", err)
	}
	// A smaller max_message_bytes alone is enough: batch_bytes left at its
	// default follows it down.
	for _, max := range []int{64 << 10, 8 << 20} {
		cfg = DefaultKafkaConfig()
		cfg.MaxMessageBytes = max
		if err := cfg.Validate(); err != nil {
			t.Errorf("max_message_bytes %d with the default batch_bytes: %v", max, err)
		}
		if got, want := cfg.batchBytes(), min(1<<20, max); got != want {
			t.Errorf("max_message_bytes %d: records of up to %d bytes, want %d", max, got, want)
		}
	}
}

func TestPaceUntil(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, c := range []struct {
		name     string
		prev     time.Time
		prevFull bool
		start    time.Time
		pace     time.Duration
		want     time.Time
	}{
		{"no pacing", t0, false, t0.Add(ms), 0, t0.Add(ms)},
		{"first batch", time.Time{}, false, t0, 5 * ms, t0},
		{"small and recent: held to pace after it", t0, false, t0.Add(ms), 5 * ms, t0.Add(5 * ms)},
		{"full: the input is ahead, not held", t0, true, t0.Add(ms), 5 * ms, t0.Add(ms)},
		{"after a pause: not held", t0, false, t0.Add(9 * ms), 5 * ms, t0.Add(9 * ms)},
		{"exactly pace after: not held", t0, false, t0.Add(5 * ms), 5 * ms, t0.Add(5 * ms)},
	} {
		if got := paceUntil(c.prev, c.prevFull, c.start, c.pace); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got.Sub(t0), c.want.Sub(t0))
		}
	}
	for _, bad := range []time.Duration{-1, 1e12 * time.Millisecond} {
		cfg := DefaultKafkaConfig()
		cfg.BatchInterval = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "batch_interval") {
			t.Errorf("batch_interval %v: %v", bad, err)
		}
	}
	cfg := DefaultKafkaConfig()
	cfg.BatchInterval = 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("batch_interval 0 (no pacing): %v", err)
	}
}

// TestKafkaCommitsEveryIntervalByDefault: offsets go out every 100ms by
// default, not in a round trip per batch (BENCHMARKS.md, "Distributed
// mode"); 0 still asks for a synchronous commit per batch.
func TestKafkaCommitsEveryIntervalByDefault(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultKafkaConfig()
	if cfg.CommitInterval != 100*time.Millisecond {
		t.Errorf("default commit_interval %v, want 100ms", cfg.CommitInterval)
	}
	if got := mustKafka(t, cfg, "dead", quiet).readerConfig("g", "t").CommitInterval; got != 100*time.Millisecond {
		t.Errorf("reader commit interval %v, want 100ms", got)
	}
	cfg.CommitInterval = 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("commit_interval 0 (a commit per batch): %v", err)
	}
}
