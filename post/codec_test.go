package post

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func samplePost() *Post {
	return &Post{
		Platform:   "bluesky",
		ID:         "3kabc",
		Author:     Author{ID: "did:plc:x", Handle: "maria.bsky.social", Name: "Μαρία", Followers: 1200, Location: "Αθήνα", Verified: true},
		Text:       "Η Acme μου χάλασε το κινητό 😡 #fail @acme https://acme.example/x",
		CreatedAt:  time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
		Lang:       "el",
		URLs:       []string{"https://acme.example/x"},
		Hashtags:   []string{"fail"},
		Mentions:   []string{"acme"},
		ReplyTo:    "bluesky:3kprev",
		QuoteOf:    "bluesky:3kq",
		Geo:        &Geo{Lat: 37.98, Lon: 23.72, Place: "Athens", Country: "GR"},
		Country:    "GR",
		IngestedAt: time.Date(2026, 11, 1, 10, 0, 1, 0, time.UTC),
	}
}

func TestRoundTrip(t *testing.T) {
	items := []*Item{
		{Post: samplePost()},
		{Post: samplePost(), Matches: []Match{{Watchlist: "acme", Version: 3, Brand: "acme", Keywords: []string{"acme"}}}},
		{
			Post:       samplePost(),
			Matches:    []Match{{Watchlist: "acme", Version: 3, Keywords: []string{"acme", "χάλασε"}}},
			Enrichment: &Enrichment{Lang: "el", Sentiment: -0.6, SentimentLabel: "negative", Country: "GR", Region: "EMEA"},
			Alert:      &Alert{ID: "a1", Queue: "care", Priority: "P2", Rule: "negative", CreatedAt: time.Date(2026, 11, 1, 10, 0, 2, 0, time.UTC)},
		},
	}
	for i, in := range items {
		b, err := Encode(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Decode(b)
		if err != nil {
			t.Fatalf("item %d: %v\n%s", i, err, b)
		}
		if !reflect.DeepEqual(in, out) {
			t.Errorf("item %d: round trip changed it:\n in: %+v\nout: %+v", i, in, out)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	f := func(name, in, wantErr string) {
		t.Helper()
		_, err := Decode([]byte(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got error %v, want one containing %q", name, err, wantErr)
		}
	}
	f("malformed", `{"v":1,"post":{`, "decoding item")
	f("not an object", `[1,2]`, "decoding item")
	f("no version", `{"post":{"platform":"x","id":"1","created_at":"2026-01-01T00:00:00Z"}}`, "missing wire version")
	f("future version", `{"v":99,"post":{"platform":"x","id":"1","created_at":"2026-01-01T00:00:00Z"}}`, "newer than")
	f("no post", `{"v":1}`, `no "post"`)
	f("no id", `{"v":1,"post":{"platform":"x","created_at":"2026-01-01T00:00:00Z"}}`, "no id")
	f("no time", `{"v":1,"post":{"platform":"x","id":"1"}}`, "no created_at")
	f("bad kind", `{"v":1,"post":{"kind":"undelete","platform":"x","id":"1"}}`, `unknown kind "undelete"`)
	if _, err := Decode([]byte(`{"v":1,"post":{"kind":"delete","platform":"x","id":"1"}}`)); err != nil {
		t.Errorf("a delete needs no created_at: %v", err)
	}
	f("invalid utf8", "{\"v\":1,\"post\":{\"platform\":\"x\",\"id\":\"1\",\"text\":\"a\xffb\"}}", "invalid UTF-8 at byte 48")
	_, err := Decode([]byte("\xc3"))
	if !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("truncated rune: got %v, want ErrInvalidUTF8", err)
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	in := `{"v":1,"future":{"x":1},"post":{"platform":"x","id":"1","created_at":"2026-01-01T00:00:00Z","shiny":true}}`
	it, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if it.Key() != "x:1" {
		t.Errorf("key = %q", it.Key())
	}
}

func TestCut(t *testing.T) {
	long := bytes.Repeat([]byte("é"), RawLimit) // 2 bytes a rune
	got := Cut(long)
	if len(got) > RawLimit || !strings.HasPrefix(string(long), got) || len(got) < RawLimit-1 {
		t.Errorf("Cut gave %d bytes", len(got))
	}
	if Cut([]byte("short")) != "short" {
		t.Error("Cut changed a short input")
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(nil, &Item{Post: samplePost()})
	f.Add(good)
	f.Add([]byte(`{"v":1,"post":null}`))
	f.Add([]byte("\xff"))
	vol, _ := Encode(nil, CountVolume([]*Item{{Post: samplePost()}})[0])
	f.Add(vol)
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same thing.
		again, err := Encode(nil, it)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		it2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode of re-encoded: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(it, it2) {
			t.Fatalf("not stable:\n%+v\n%+v", it, it2)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	it := &Item{Post: samplePost(), Matches: []Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}}}
	buf, _ := Encode(nil, it)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = Encode(buf[:0], it)
	}
}

func BenchmarkDecode(b *testing.B) {
	buf, _ := Encode(nil, &Item{Post: samplePost(), Matches: []Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}}})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeFresh is Encode as the Kafka producer calls it: into no
// buffer, one record at a time.
func BenchmarkEncodeFresh(b *testing.B) {
	it := &Item{Post: samplePost(), Matches: []Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}}}
	buf, _ := Encode(nil, it)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = Encode(nil, it)
	}
	_ = buf
}
