package bluesky

import (
	"bufio"
	"os"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
)

func seeds(f *testing.F, paths ...string) {
	for _, path := range paths {
		fh, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
}

func testDecoder() *Decoder {
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	return &Decoder{N: n}
}

func FuzzDecode(f *testing.F) {
	seeds(f, "../testdata/bluesky/jetstream_v1_golden_10events.jsonl", "../testdata/bluesky/jetstream_v1_window_152events.jsonl")
	d := testDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := d.Decode(b)
		if err != nil {
			return
		}
		if ev.Post == nil && ev.Skip == "" {
			t.Fatalf("no post and no skip kind for %q", b)
		}
		if ev.Post != nil {
			if err := canon.Invariant(ev.Post); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestSkipKindsBounded(t *testing.T) {
	d := testDecoder()
	ev, err := d.Decode([]byte(`{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"com.example.anything.at.all","rkey":"k","record":{}}}`))
	if err != nil || ev.Skip != "other" || ev.Cursor != 1 {
		t.Errorf("unknown collection: %+v, %v; want skip other, cursor 1", ev, err)
	}
}
