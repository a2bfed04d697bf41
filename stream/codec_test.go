package stream

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestProducerBinary: with the binary codec the items of batched topics
// go out as binary items in envelopes of version 2 — alone too, and with
// batch_items 1 — and read back as they went in; alerts and dead letters,
// which other programs read, stay one JSON record each.
func TestProducerBinary(t *testing.T) {
	for _, items := range []int{7, 1} {
		p := testProducer(items, 1<<20, 8<<20, map[string]int{"posts": 4})
		p.binary = true
		var outs []Out
		want := map[string]*post.Item{}
		for i := range 50 {
			it := testItem(fmt.Sprintf("k%d", i), fmt.Sprint("text ", i))
			want[it.Key()] = it
			outs = append(outs, Out{Topic: "posts", Key: it.Key(), Item: it})
		}
		outs = append(outs, Out{Topic: "alerts.x", Key: "t:a", Item: testItem("a", "alert")})
		outs = append(outs, Out{Topic: "dead", Key: "t:b", Dead: &post.DeadLetter{Stage: "s", Reason: "r"}})
		n := 0
		for _, m := range produced(t, p, outs) {
			if m.Topic != "posts" {
				if post.IsBatch(m.Value) || m.Value[0] != '{' {
					t.Errorf("a record of %s is not one JSON item: %q", m.Topic, m.Value)
				}
				continue
			}
			if !post.IsBinaryRecord(m.Value) {
				t.Fatalf("batch_items %d: a posts record is not a binary envelope: %q", items, m.Value)
			}
			for _, d := range decodeRecord(nil, m.Value, 0, 0, false) {
				if d.Err != nil {
					t.Fatal(d.Err)
				}
				if !reflect.DeepEqual(d.Item, want[d.Item.Key()]) {
					t.Errorf("%s: %+v, want %+v", d.Item.Key(), d.Item.Post, want[d.Item.Key()].Post)
				}
				n++
			}
		}
		if n != 50 {
			t.Errorf("batch_items %d: %d items read back, want 50", items, n)
		}
	}
}

// TestDecodeRecordBinaryBadItems: a bad binary item is a delivery of its
// own with the reason and its bytes in base64 (a dead letter's raw is
// text); the good ones around it come through; a damaged binary envelope
// gives its rest the same way.
func TestDecodeRecordBinaryBadItems(t *testing.T) {
	good := post.AppendBinary(nil, testItem("1", "good"))
	bad := bytes.Clone(good)
	bad[bytes.Index(bad, []byte("good"))] = 0xff
	b := post.AppendEnvelope(nil, post.EnvelopeBinary, [][]byte{good, bad, {1, 0x0a, 0xff, 0xff, 0xff, 0x0f}, good})
	ds := decodeRecord(nil, b, 2, 7, false)
	if len(ds) != 4 || ds[0].Item == nil || ds[3].Item == nil {
		t.Fatalf("%d deliveries: %+v", len(ds), ds)
	}
	for i, want := range map[int]string{1: "invalid UTF-8", 2: "says 33554431 bytes"} {
		d := ds[i]
		if d.Err == nil || !strings.Contains(d.Err.Error(), want) || !strings.Contains(d.Err.Error(), "base64") {
			t.Errorf("item %d: %v, want %q", i, d.Err, want)
		}
		raw, err := base64.StdEncoding.DecodeString(string(d.Raw))
		if err != nil || len(raw) == 0 || !bytes.Contains(b, raw) {
			t.Errorf("item %d: raw %q is not its bytes in base64 (%v)", i, d.Raw, err)
		}
	}
	ds = decodeRecord(nil, b[:len(b)-3], 2, 8, false)
	last := ds[len(ds)-1]
	if len(ds) != 4 || last.Err == nil || !strings.Contains(last.Err.Error(), "item 4 of 4") || !strings.Contains(last.Err.Error(), "base64") {
		t.Fatalf("damaged: %d deliveries, last %+v", len(ds), last)
	}
}

func TestKafkaConfigCodec(t *testing.T) {
	for c, ok := range map[string]bool{"": true, "binary": true, "json": true, "JSON": false, "protobuf": false} {
		cfg := DefaultKafkaConfig()
		cfg.Codec = c
		if err := cfg.Validate(); (err == nil) != ok || (!ok && !strings.Contains(err.Error(), "transport.kafka.codec")) {
			t.Errorf("codec %q: %v", c, err)
		}
	}
}

// TestProducerBinaryTooLarge: a binary item too large for a record is
// refused before anything is written, and its dead letter's head is the
// item in JSON (text), not its binary bytes.
func TestProducerBinaryTooLarge(t *testing.T) {
	p := testProducer(500, 1<<20, 64<<10, map[string]int{"posts": 2})
	p.binary = true
	big := testItem("big", strings.Repeat("a", 100<<10))
	_, err := p.encode([]Out{{Topic: "posts", Key: "t:1", Item: testItem("1", "small")}, {Topic: "posts", Key: big.Key(), Item: big}})
	var tl *TooLargeError
	if !errors.As(err, &tl) || len(tl.Records) != 1 || tl.Records[0].Index != 1 || !strings.HasPrefix(tl.Records[0].Head, `{"v":1,`) || tl.Records[0].Size < 100<<10 {
		t.Fatalf("%v %+v", err, tl)
	}
}

// encodeOnly is a Producer that encodes what it is given as Kafka's
// producer does, and writes nothing.
type encodeOnly struct{ p *kafkaProducer }

func (e encodeOnly) Produce(_ context.Context, outs []Out) error {
	_, err := e.p.encode(outs)
	return err
}
func (e encodeOnly) Close() error { return nil }

// TestProducerUnencodableIsADeadLetter: an item JSON cannot write (a
// number that is NaN, a time past year 9999: a stage's bug, or a poison
// record's) used to fail every produce of its batch, which the runner
// retried for ever. It is a dead letter with the reason, without the item,
// and the rest of the batch goes on; so is a dead letter whose item
// cannot be written.
func TestProducerUnencodableIsADeadLetter(t *testing.T) {
	p := testProducer(500, 1<<20, 1<<20, map[string]int{"matched": 2})
	nan := testItem("nan", "acme")
	nan.Post.Geo = &post.Geo{Lat: math.NaN()}
	late := testItem("late", "acme")
	late.Alert = &post.Alert{ID: "a1", Queue: "care", DueAt: time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC).Add(2 * time.Hour)}
	ok := testItem("ok", "acme")
	outs := []Out{
		{Topic: "alerts.care", Key: late.Key(), Item: late},
		{Topic: "matched", Key: ok.Key(), Item: ok},
		{Topic: "dead", Dead: &post.DeadLetter{Stage: "route", Reason: "refused", Item: nan}},
	}
	p.binary = false // the JSON codec on the batched topic too
	outs = append(outs, Out{Topic: "matched", Key: nan.Key(), Item: nan})
	if err := produce(context.Background(), encodeOnly{p}, "route", "dead", outs); err != nil {
		t.Fatalf("produce: %v, want the unencodable items dead-lettered and the rest written", err)
	}
	if outs[1].Item != ok {
		t.Errorf("the encodable item was replaced: %+v", outs[1])
	}
	for _, i := range []int{0, 3} {
		d := outs[i].Dead
		if outs[i].Topic != "dead" || d == nil || d.Item != nil || !strings.Contains(d.Reason, "cannot be encoded") || d.Key != outs[i].Key {
			t.Errorf("out %d: %+v, want a dead letter saying it cannot be encoded", i, outs[i])
		} else if d.Class != post.ClassInvalidField {
			t.Errorf("out %d: class %q, want invalid_field", i, d.Class)
		}
	}
	if d := outs[2].Dead; d == nil || d.Item != nil || !strings.Contains(d.Reason, "refused (its item left out: it cannot be encoded") {
		t.Errorf("the dead letter of an unencodable item: %+v", d)
	}
}
