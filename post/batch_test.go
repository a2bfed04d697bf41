package post

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
)

// recordedValues are the records of testdata/recorded.tsv: single items as
// writers before the batch envelope wrote them.
func recordedValues(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/recorded.tsv")
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

func TestSplitRecordSingleItemAsBefore(t *testing.T) {
	for _, rec := range recordedValues(t) {
		items, rest, err := SplitRecord(rec)
		if err != nil || rest != nil || len(items) != 1 || !bytes.Equal(items[0], rec) {
			t.Fatalf("a record of the previous encoder: %d items, rest %q, %v", len(items), rest, err)
		}
	}
}

func TestBatchRoundTrip(t *testing.T) {
	recs := recordedValues(t)
	b := AppendBatch(nil, recs)
	if !IsBatch(b) {
		t.Fatal("not a batch")
	}
	if max := EnvelopeOverhead(len(recs)); len(b)-sum(recs) > max {
		t.Errorf("envelope of %d bytes, EnvelopeOverhead says at most %d", len(b)-sum(recs), max)
	}
	items, rest, err := SplitRecord(b)
	if err != nil || rest != nil || len(items) != len(recs) {
		t.Fatalf("%d items of %d, rest %q, %v", len(items), len(recs), rest, err)
	}
	for i := range items {
		if !bytes.Equal(items[i], recs[i]) {
			t.Fatalf("item %d changed", i)
		}
		if _, err := Decode(items[i]); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	// An item need not be valid to be carried: it is decoded on its own.
	items, _, err = SplitRecord(AppendBatch(nil, [][]byte{[]byte("{}"), {}, recs[0]}))
	if err != nil || len(items) != 3 || len(items[1]) != 0 {
		t.Fatalf("%q %v", items, err)
	}
}

func sum(bs [][]byte) int {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n
}

func TestSplitRecordDamaged(t *testing.T) {
	good := AppendBatch(nil, [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)})
	cases := []struct {
		name  string
		in    []byte
		items int
		want  string
	}{
		{"newer envelope", append([]byte{0, 'E', 'B', 3}, good[4:]...), 0, "envelope version 3"},
		{"header cut", []byte{0, 'E', 'B'}, 0, "truncated header"},
		{"no count", []byte{0, 'E', 'B', 1}, 0, "bad item count"},
		{"no items", []byte{0, 'E', 'B', 1, 0}, 0, "holds no items"},
		{"count past the limit", []byte{0, 'E', 'B', 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 'x'}, 0, "says 4294967295 items, more than"},
		{"count past the bytes", []byte{0, 'E', 'B', 1, 3, 1, 'x'}, 0, "says 3 items in 2 bytes"},
		{"second item cut", good[:len(good)-3], 1, "item 2 of 2"},
		{"length past the end", append(good[:len(good)-8:len(good)-8], 0x7f, 'x'), 1, "item 2 of 2"},
		{"bytes after", append(good[:len(good):len(good)], 'z'), 2, "1 bytes after"},
	}
	for _, c := range cases {
		items, rest, err := SplitRecord(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
		if len(items) != c.items || len(rest) == 0 {
			t.Errorf("%s: %d items and %d bytes left, want %d items and the rest", c.name, len(items), len(rest), c.items)
		}
	}
}

// FuzzSplitRecord: any bytes split without a panic, into items and a rest
// that lie inside the input, and never ask for more memory than the input.
func FuzzSplitRecord(f *testing.F) {
	f.Add(AppendBatch(nil, [][]byte{[]byte(`{"v":1}`), []byte("x")}))
	f.Add([]byte{0, 'E', 'B', 1, 3, 1, 'a'})
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, rest, err := SplitRecord(b)
		n := len(rest)
		for _, it := range items {
			n += len(it)
		}
		if n > len(b) {
			t.Fatalf("%d bytes out of %d", n, len(b))
		}
		if err == nil && IsBatch(b) && len(items) == 0 {
			t.Fatal("a batch of no items without an error")
		}
		if IsBatch(b) && cap(items) > len(b) {
			t.Fatalf("room for %d items in %d bytes", cap(items), len(b))
		}
	})
}
