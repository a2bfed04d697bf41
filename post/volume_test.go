package post

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func volumePost(platform, id, lang, kind string, at time.Time) *Item {
	return &Item{Post: &Post{Kind: kind, Platform: platform, ID: id, Lang: lang, CreatedAt: at}}
}

func TestCountVolume(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 15, 7, 0, time.UTC)
	items := []*Item{
		volumePost("x", "1", "en", "", t0),
		volumePost("x", "2", "en", "", t0.Add(60*time.Second)), // next minute
		volumePost("x", "3", "", "", t0),
		volumePost("bsky", "1", "en", "", t0.In(time.FixedZone("X", 3600))), // same instant, other zone
		volumePost("x", "1", "en", KindEdit, t0),                            // the same post again
		volumePost("x", "4", "en", KindDelete, time.Time{}),                 // not a post heard
	}
	out := CountVolume(items)
	if len(out) != 1 {
		t.Fatalf("%d items, want 1", len(out))
	}
	it := out[0]
	if it.Post.Kind != KindVolume || it.Volume == nil || !strings.HasPrefix(it.Key(), "earshot:volume-") {
		t.Fatalf("item %+v is not a volume record", it.Post)
	}
	m := t0.Truncate(time.Minute)
	want := []VolumeCell{
		{Minute: m, Platform: "bsky", Lang: "en", Posts: []uint64{PostHash("bsky:1")}},
		{Minute: m, Platform: "x", Lang: "", Posts: []uint64{PostHash("x:3")}},
		{Minute: m, Platform: "x", Lang: "en", Posts: []uint64{PostHash("x:1"), PostHash("x:1")}},
		{Minute: m.Add(time.Minute), Platform: "x", Lang: "en", Posts: []uint64{PostHash("x:2")}},
	}
	if !reflect.DeepEqual(it.Volume.Cells, want) {
		t.Errorf("cells:\n got %+v\nwant %+v", it.Volume.Cells, want)
	}
	// The same posts give the same record, so its key is stable.
	if again := CountVolume(items); again[0].Key() != it.Key() {
		t.Errorf("key %s then %s", it.Key(), again[0].Key())
	}
	if CountVolume([]*Item{volumePost("x", "4", "", KindDelete, time.Time{})}) != nil {
		t.Error("deletes only: want no volume record")
	}
}

func TestCountVolumeSplitsBigBatches(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var items []*Item
	n := 2*MaxVolumePosts + 10
	for i := range n {
		items = append(items, volumePost("x", strings.Repeat("i", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), "en", "", t0.Add(time.Duration(i%3)*time.Minute)))
	}
	out := CountVolume(items)
	if len(out) != 3 {
		t.Fatalf("%d records, want 3", len(out))
	}
	total := 0
	for _, it := range out {
		k := 0
		for _, c := range it.Volume.Cells {
			k += len(c.Posts)
		}
		if k > MaxVolumePosts {
			t.Errorf("record of %d posts, more than %d", k, MaxVolumePosts)
		}
		total += k
		b, err := Encode(nil, it)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 900_000 {
			t.Errorf("record of %d bytes; Kafka's default limit is 1 MB", len(b))
		}
	}
	if total != n {
		t.Errorf("%d posts counted, want %d", total, n)
	}
}

func TestVolumeRoundTrip(t *testing.T) {
	it := CountVolume([]*Item{volumePost("x", "1", "el", "", time.Date(2026, 11, 1, 10, 0, 30, 0, time.UTC))})[0]
	b, err := Encode(nil, it)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"v":2,`) {
		t.Errorf("volume record written as %.20s…, want version 2", b)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, it) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, it)
	}
	// Other items stay version 1, for readers built before volume records.
	b, _ = Encode(nil, &Item{Post: samplePost()})
	if !strings.HasPrefix(string(b), `{"v":1,`) {
		t.Errorf("post written as %.20s…, want version 1", b)
	}
}

func TestDecodeRejectsBadVolume(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"v":1,"post":{"kind":"volume","platform":"earshot","id":"v"},"volume":{"cells":[{"minute":"2026-11-01T10:00:00Z","platform":"x","lang":"","posts":[1]}]}}`, "wire version 2"},
		{`{"v":2,"post":{"kind":"volume","platform":"earshot","id":"v"}}`, "needs kind"},
		{`{"v":2,"post":{"platform":"x","id":"1","created_at":"2026-11-01T10:00:00Z"},"volume":{"cells":[]}}`, "needs kind"},
		{`{"v":2,"post":{"kind":"volume","platform":"earshot","id":"v"},"volume":{"cells":[]}}`, "no cells"},
		{`{"v":2,"post":{"kind":"volume","platform":"earshot","id":"v"},"volume":{"cells":[{"minute":"2026-11-01T10:00:05Z","platform":"x","posts":[1]}]}}`, "not the start of a minute"},
		{`{"v":2,"post":{"kind":"volume","platform":"earshot","id":"v"},"volume":{"cells":[{"minute":"2026-11-01T10:00:00Z","platform":"","posts":[1]}]}}`, "no platform"},
		{`{"v":2,"post":{"kind":"volume","platform":"earshot","id":"v"},"volume":{"cells":[{"minute":"2026-11-01T10:00:00Z","platform":"x","posts":[]}]}}`, "no posts"},
		{`{"v":2,"post":{"kind":"volume","platform":"","id":"v"},"volume":{"cells":[{"minute":"2026-11-01T10:00:00Z","platform":"x","posts":[1]}]}}`, "no platform or id"},
		{`{"v":3,"post":{"platform":"x","id":"1","created_at":"2026-11-01T10:00:00Z"}}`, "newer"},
	} {
		_, err := Decode([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s): %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	// A post may not call itself a volume record on the way in.
	p := samplePost()
	p.Kind = KindVolume
	if err := p.Validate(); err == nil {
		t.Error("Validate accepted a post of kind volume")
	}
}
