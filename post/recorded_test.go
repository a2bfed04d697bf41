package post

import (
	"bufio"
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

// testdata/recorded.tsv holds records as the distributed pipeline wrote them
// to each topic (bench/distributed -keep, 2026-12-07): "topic<TAB>record".
// Whatever codec later builds write, these must still decode to the same
// items, and re-encoding them must keep each one's wire version.
func TestRecordedRecordsDecode(t *testing.T) {
	f, err := os.Open("testdata/recorded.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	seen := map[string]bool{}
	for sc.Scan() {
		topic, rec, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		kind := strings.SplitN(topic, ".", 2)[0]
		seen[kind] = true
		it, err := Decode([]byte(rec))
		if err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		want := map[string]func(*Item) bool{
			"posts":    func(it *Item) bool { return it.Matches == nil && it.Enrichment == nil && it.Post.Text != "" },
			"matched":  func(it *Item) bool { return len(it.Matches) > 0 && it.Enrichment == nil },
			"enriched": func(it *Item) bool { return len(it.Matches) > 0 && it.Enrichment != nil && it.Enrichment.Region != "" },
			"alerts":   func(it *Item) bool { return it.Alert != nil && it.Alert.ID != "" && it.Enrichment != nil },
			"volume":   func(it *Item) bool { return it.Volume != nil && it.Post.Kind == KindVolume },
		}[kind]
		if want == nil || !want(it) {
			t.Errorf("%s: decoded to %+v", topic, it)
		}
		b, err := Encode(nil, it)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(b)
		if err != nil || !reflect.DeepEqual(again, it) {
			t.Errorf("%s: re-encoded record does not decode to the same item: %v", topic, err)
		}
		v := `{"v":1,`
		if kind == "volume" {
			v = `{"v":2,`
		}
		if !bytes.HasPrefix(b, []byte(v)) || !strings.HasPrefix(rec, v) {
			t.Errorf("%s: recorded %.8s, re-encoded %.8s, want %s", topic, rec, b, v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 5 {
		t.Errorf("records of %v, want posts, matched, enriched, alerts and volume", seen)
	}
}

// BenchmarkRecorded is the wire codec's cost per hop on the recorded
// records of each topic: what a stage pays to decode its input record and
// encode its output, for comparing a codec against the CPU per post that
// bench/distributed measures.
//
//	go test -run '^$' -bench Recorded -benchmem ./post/
func BenchmarkRecorded(b *testing.B) {
	raw, err := os.ReadFile("testdata/recorded.tsv")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		topic, rec, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		topic = strings.SplitN(topic, ".", 2)[0]
		it, err := Decode([]byte(rec))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("decode/"+topic, func(b *testing.B) {
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := Decode([]byte(rec)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encode/"+topic, func(b *testing.B) {
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			var buf []byte
			defer reportCPU(b)()
			for b.Loop() {
				if buf, err = Encode(buf[:0], it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
