package post

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// emptyToNil makes empty slices nil: JSON keeps `"keywords":[]` as an
// empty slice, the binary codec as none, and no stage tells them apart.
func emptyToNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			emptyToNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				emptyToNil(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && !v.IsNil() {
			v.SetZero()
		}
		for i := range v.Len() {
			emptyToNil(v.Index(i))
		}
	}
}

// The recorded records of every topic, decoded from JSON, come out of the
// binary codec as they went in, smaller.
func TestBinaryRecordedRoundTrip(t *testing.T) {
	for _, rec := range recordedValues(t) {
		it, err := Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		b := AppendBinary(nil, it)
		got, err := DecodeBinary(b)
		if err != nil {
			t.Fatalf("%s: %v", it.Key(), err)
		}
		emptyToNil(reflect.ValueOf(it))
		if !reflect.DeepEqual(got, it) {
			t.Errorf("%s: binary round trip\n got %+v\nwant %+v", it.Key(), got, it)
		}
		if len(b) >= len(rec) {
			t.Errorf("%s: binary %d bytes, JSON %d", it.Key(), len(b), len(rec))
		}
		t.Logf("%s: JSON %d bytes, binary %d", it.Key(), len(rec), len(b))
	}
}

// fill sets every field of v, recursively, to a value that is not zero and
// differs from field to field, so that a field the codec forgets (one
// added to the struct later) fails the round trip.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zone := time.FixedZone("", 3600*(*n%5-2)+1800)
			v.Set(reflect.ValueOf(time.Date(2026, 12, 7, 10, *n%60, 5, *n*1000+7, zone)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), n)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%dé", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(-1000 * *n))
	case reflect.Uint64:
		v.SetUint(math.MaxUint64 - uint64(*n))
	case reflect.Float64, reflect.Float32:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: no case for " + v.Kind().String())
	}
}

func TestBinaryEveryField(t *testing.T) {
	var it Item
	n := 0
	fill(reflect.ValueOf(&it).Elem(), &n)
	// An item with every field set is no valid item (a volume record with
	// a post); check the codec, not the rules, field by field.
	b := AppendBinary(nil, &it)
	var got Item
	r := reader{s: string(b[1:]), budget: 1 << 30}
	r.b = []byte(r.s)
	post, vol := &Post{}, &Volume{}
	for pos := 0; pos < len(r.s) && r.err == nil; {
		f := r.next(&pos, len(r.s))
		switch f.num {
		case 1:
			got.Post = post
			r.post(post, f.lo, f.hi)
		case 2:
			got.Matches = append(got.Matches, Match{})
			r.match(&got.Matches[len(got.Matches)-1], f.lo, f.hi)
		case 3:
			got.Enrichment = new(Enrichment)
			r.enrichment(got.Enrichment, f.lo, f.hi)
		case 4:
			got.Alert = new(Alert)
			r.alert(got.Alert, f.lo, f.hi)
		case 5:
			got.Volume = vol
			r.volume(vol, f.lo, f.hi)
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Suppression goes through DecodeBinary below.
	got.Suppression = it.Suppression
	if !reflect.DeepEqual(&got, &it) {
		t.Errorf("every field:\n got %+v\nwant %+v", got, it)
	}

	// A valid item with every field of a post, match, enrichment, alert.
	it.Volume, it.Suppression = nil, nil
	it.Post.Kind = KindEdit
	it.Post.Platform = "s5" // a platform is a token of [a-z0-9._-]
	full, err := DecodeBinary(AppendBinary(nil, &it))
	if err != nil || !reflect.DeepEqual(full, &it) {
		t.Errorf("valid item: %v\n got %+v\nwant %+v", err, full, &it)
	}
	// The same through JSON: both codecs keep the same things.
	j, err := Encode(nil, &it)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := Decode(j)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, full) {
		t.Errorf("JSON and binary differ:\nJSON   %+v\nbinary %+v", fromJSON, full)
	}
	sup := &Item{Post: samplePost(), Suppression: &Suppression{Rule: "r", Reason: "dnr", At: time.Unix(5, 6).UTC()}}
	if got, err := DecodeBinary(AppendBinary(nil, sup)); err != nil || !reflect.DeepEqual(got, sup) {
		t.Errorf("suppression: %v %+v", err, got)
	}
}

func TestBinaryTimes(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 40, 0, time.FixedZone("", -5*3600)),
		time.Date(2026, 12, 7, 10, 0, 0, 123, time.FixedZone("", 5*3600+45*60)),
	} {
		p := samplePost()
		p.CreatedAt = at
		it, err := DecodeBinary(AppendBinary(nil, &Item{Post: p}))
		if err != nil {
			t.Fatal(err)
		}
		j, _ := Encode(nil, &Item{Post: p})
		viaJSON, err := Decode(j)
		if err != nil {
			t.Fatal(err)
		}
		if !it.Post.CreatedAt.Equal(at) || it.Post.CreatedAt.String() != viaJSON.Post.CreatedAt.String() {
			t.Errorf("%v: binary %v, JSON %v", at, it.Post.CreatedAt, viaJSON.Post.CreatedAt)
		}
	}
}

// Invalid UTF-8 is written as JSON writes it, with U+FFFD, and never
// read: a reader refuses a string that is not valid UTF-8.
func TestBinaryInvalidUTF8(t *testing.T) {
	p := samplePost()
	p.Text = "bad \xff\xfe text"
	p.Hashtags = []string{"ok", "\xc3"}
	it, err := DecodeBinary(AppendBinary(nil, &Item{Post: p}))
	if err != nil {
		t.Fatal(err)
	}
	if it.Post.Text != "bad \uFFFD text" || it.Post.Hashtags[1] != "\uFFFD" {
		t.Errorf("text %q, hashtags %q", it.Post.Text, it.Post.Hashtags)
	}
	b := AppendBinary(nil, &Item{Post: samplePost()})
	i := bytes.Index(b, []byte(samplePost().Text))
	b[i] = 0xff
	if _, err := DecodeBinary(b); err == nil || !strings.Contains(err.Error(), "post.text: invalid UTF-8") {
		t.Errorf("invalid UTF-8 read: %v", err)
	}
}

func TestDecodeBinaryRejects(t *testing.T) {
	good := AppendBinary(nil, &Item{Post: samplePost()})
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	msg := func(num protowire.Number, body []byte) []byte {
		return protowire.AppendBytes(tag(num, protowire.BytesType), body)
	}
	postOf := func(body ...[]byte) []byte { return cat([]byte{1}, msg(1, cat(body...))) }
	str := func(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }
	ids := cat(str(2, "x"), str(3, "1"))
	created := msg(6, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(nil, 1e9), 0))
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"version 0", []byte{0}, "schema version 0"},
		{"newer version", append([]byte{2}, good[1:]...), "schema version 2"},
		{"no post", []byte{1}, "no post"},
		{"cut", good[:len(good)-3], "are left"},
		{"length 1e12", cat([]byte{1}, tag(1, protowire.BytesType), protowire.AppendVarint(nil, 1e12)), "says 1000000000000 bytes"},
		{"length 2^64-1", cat([]byte{1}, tag(1, protowire.BytesType), protowire.AppendVarint(nil, math.MaxUint64)), "bytes, 0 are left"},
		{"bad tag", []byte{1, 0x80}, "bad field tag"},
		{"field 0", []byte{1, 0x02, 0}, "bad field tag"},
		{"group", cat([]byte{1}, tag(9, protowire.StartGroupType)), "wire type 3"},
		{"wrong type", postOf(tag(2, protowire.VarintType), []byte{1}), "post.platform: wire type 0"},
		{"varint cut", postOf(tag(16, protowire.VarintType), []byte{0x80}), "cut short"},
		{"fixed64 cut", postOf(msg(14, cat(tag(1, protowire.Fixed64Type), []byte{1, 2}))), "cut short"},
		{"post invalid", postOf(str(2, "x")), "no id"},
		{"no created_at", postOf(ids), "no created_at"},
		{"time out of range", postOf(ids, msg(6, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(nil, 1e15), 0))), "out of range"},
		{"nanos out of range", postOf(ids, msg(6, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(nil, 1e9), 1e9))), "out of range"},
		{"offset out of range", postOf(ids, msg(6, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(nil, 1e9), 0), 86400))), "out of range"},
		{"time of 13 bytes", postOf(ids, msg(6, make([]byte, 13))), "13 bytes, want 12 or 16"},
		{"media 1e12", postOf(ids, created, tag(16, protowire.VarintType), protowire.AppendVarint(nil, protowire.EncodeZigZag(1e12))), "post.media: 1000000000000 is out of range"},
		{"sentiment probs", cat(postOf(ids, created), msg(3, msg(6, []byte{1, 2, 3}))), "3 bytes, want 12"},
		{"volume hashes", cat([]byte{1}, msg(1, cat(str(1, KindVolume), ids)), msg(5, msg(1, msg(4, []byte{1, 2, 3})))), "not a whole number"},
		{"volume without kind", cat(postOf(ids, created), msg(5, nil)), "volume record needs kind"},
		// JSON cannot write NaN or an infinity: an item carrying one could
		// never be produced as an alert or a dead letter, and its batch
		// would be retried forever.
		{"lat NaN", postOf(ids, created, msg(14, cat(tag(1, protowire.Fixed64Type), binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN()))))), "geo.lat: NaN is not a finite number"},
		{"lon +Inf", postOf(ids, created, msg(14, cat(tag(2, protowire.Fixed64Type), binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.Inf(1)))))), "geo.lon: +Inf is not a finite number"},
		{"sentiment probs NaN", cat(postOf(ids, created), msg(3, msg(6, binary.LittleEndian.AppendUint32(make([]byte, 8), math.Float32bits(float32(math.NaN())))))), "NaN is not a finite number"},
	}
	for _, c := range cases {
		_, err := DecodeBinary(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// Unknown fields, of every type a writer may use, are skipped.
	unknown := cat(good,
		tag(99, protowire.VarintType), protowire.AppendVarint(nil, 5),
		tag(100, protowire.Fixed32Type), []byte{1, 2, 3, 4},
		tag(101, protowire.Fixed64Type), make([]byte, 8),
		str(102, "later"))
	if it, err := DecodeBinary(unknown); err != nil || it.Post.Text != samplePost().Text {
		t.Errorf("unknown fields: %v", err)
	}
}

func TestBinaryEnvelope(t *testing.T) {
	var items [][]byte
	var want []*Item
	for _, rec := range recordedValues(t) {
		it, err := Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		emptyToNil(reflect.ValueOf(it))
		want = append(want, it)
		items = append(items, AppendBinary(nil, it))
	}
	rec := AppendEnvelope(nil, EnvelopeBinary, items)
	if !IsBatch(rec) || len(rec)-sum(items) > EnvelopeOverhead(len(items)) {
		t.Fatalf("envelope %x…", rec[:8])
	}
	parts, rest, err := SplitRecord(rec)
	if err != nil || rest != nil || len(parts) != len(items) {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	dec := DecoderFor(rec)
	for i, b := range parts {
		got, err := dec(b)
		if err != nil || !reflect.DeepEqual(got, want[i]) {
			t.Errorf("item %d: %v", i, err)
		}
	}
	// A binary item alone, or in a JSON envelope, is read as JSON: refused.
	for _, v := range [][]byte{items[0], AppendBatch(nil, items[:1])} {
		parts, _, _ := SplitRecord(v)
		if _, err := DecoderFor(v)(parts[0]); err == nil {
			t.Errorf("a binary item read as JSON")
		}
	}
	// Records of the previous encoders read as before.
	for _, v := range recordedValues(t) {
		if _, err := DecoderFor(v)(v); err != nil {
			t.Error(err)
		}
		b := AppendBatch(nil, [][]byte{v, v})
		parts, _, _ := SplitRecord(b)
		if _, err := DecoderFor(b)(parts[1]); err != nil {
			t.Error(err)
		}
	}
}

// FuzzDecodeBinary: any bytes decode without a panic, to an error or to an
// item that encodes and decodes to itself.
func FuzzDecodeBinary(f *testing.F) {
	for _, rec := range recordedValues(f) {
		it, err := Decode(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(AppendBinary(nil, it))
	}
	f.Add([]byte{1, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := DecodeBinary(b)
		if err != nil {
			return
		}
		again, err := DecodeBinary(AppendBinary(nil, it))
		if err != nil {
			t.Fatalf("re-encoded item: %v", err)
		}
		emptyToNil(reflect.ValueOf(it))
		if !reflect.DeepEqual(again, it) {
			t.Fatalf("re-encoded item differs:\n%+v\n%+v", again, it)
		}
	})
}

// BenchmarkCodecs compares the binary codec with the JSON one (goccy) on
// the recorded records of each topic, per item.
//
//	go test -run '^$' -bench Codecs -benchmem ./post/
func BenchmarkCodecs(b *testing.B) {
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
		bin := AppendBinary(nil, it)
		for _, c := range []struct {
			name string
			wire []byte
			dec  func([]byte) (*Item, error)
			enc  func([]byte) ([]byte, error)
		}{
			{"json", []byte(rec), Decode, func(dst []byte) ([]byte, error) { return Encode(dst, it) }},
			{"binary", bin, DecodeBinary, func(dst []byte) ([]byte, error) { return AppendBinary(dst, it), nil }},
		} {
			b.Run("decode/"+topic+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(c.wire)))
				b.ReportAllocs()
				defer reportCPU(b)()
				for b.Loop() {
					if _, err := c.dec(c.wire); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("encode/"+topic+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(c.wire)))
				b.ReportAllocs()
				var buf []byte
				defer reportCPU(b)()
				for b.Loop() {
					if buf, err = c.enc(buf[:0]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// Hostile items that are all repetition are refused with a reason, or
// decoded in memory bounded by a fixed multiple of their bytes; a real
// item with a thousand matches decodes.
func TestDecodeBinaryMemoryBounded(t *testing.T) {
	const n = 50_000
	p := samplePost()
	many := &Item{Post: p}
	for i := range 1000 {
		many.Matches = append(many.Matches, Match{Watchlist: fmt.Sprint("w", i), Version: 1, Keywords: []string{"acme"}, Spans: []Span{{Start: 0, End: 4, Term: "acme"}}})
	}
	shapes := map[string]struct {
		it     *Item
		refuse bool
	}{
		"empty hashtags":        {&Item{Post: &Post{Platform: p.Platform, ID: p.ID, CreatedAt: p.CreatedAt, Hashtags: make([]string, n)}}, false},
		"empty matches":         {&Item{Post: p, Matches: make([]Match, n)}, true},
		"empty spans":           {&Item{Post: p, Matches: []Match{{Spans: make([]Span, n)}}}, true},
		"a thousand watchlists": {many, false},
	}
	for name, c := range shapes {
		b := AppendBinary(nil, c.it)
		var err error
		alloc := allocated(func() { _, err = DecodeBinary(b) })
		t.Logf("%s: %d bytes → %d allocated (%.0f×), %v", name, len(b), alloc, float64(alloc)/float64(len(b)), err)
		if c.refuse != (err != nil) || (err != nil && !strings.Contains(err.Error(), "in memory")) {
			t.Errorf("%s: %v", name, err)
		}
		if alloc > 6*(decodeFactor*uint64(len(b))+decodeSlack) {
			t.Errorf("%s: %d bytes allocated for %d bytes of input", name, alloc, len(b))
		}
	}
	// Singular messages given again are merged, not allocated again.
	e := msgOf(3, nil)
	b := AppendBinary(nil, &Item{Post: p})
	for range n {
		b = append(b, e...)
	}
	alloc := allocated(func() { _, _ = DecodeBinary(b) })
	if alloc > 4*uint64(len(b)) {
		t.Errorf("%d empty enrichments: %d bytes allocated for %d", n, alloc, len(b))
	}
}

func msgOf(num protowire.Number, body []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), body)
}

func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}
