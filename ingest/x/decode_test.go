package x

import (
	"bufio"
	"os"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
)

func FuzzLine(f *testing.F) {
	for _, path := range []string{"../testdata/x/streaming_output_clean_16affbc.jsonl", "../testdata/x/edited.jsonl", "../testdata/x/tweets_compliance.jsonl", "../testdata/x/streaming_output_with_error.jsonl"} {
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
	f.Add([]byte(`{"data":{"delete":{"tweet":{"id":"1","author_id":"2"},"event_at":"2026-11-01T00:00:00Z"}}}`))
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	d := &Decoder{N: n}
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := d.Line(b, nil)
		if err != nil {
			return
		}
		if len(evs) == 0 {
			t.Fatalf("accepted %q with no events", b)
		}
		for _, ev := range evs {
			if ev.Post == nil && ev.Skip == "" {
				t.Fatalf("no post and no skip kind for %q", b)
			}
			if ev.Post != nil {
				if err := canon.Invariant(ev.Post); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func TestComplianceStream(t *testing.T) {
	d := &Decoder{N: canon.NewNormalizer()}
	evs, err := d.Line([]byte(`{"data":{"delete":{"tweet":{"id":"1576994746135764992","author_id":"2"},"event_at":"2026-11-01T00:00:00.000Z"}}}`), nil)
	if err != nil || len(evs) != 1 || evs[0].Post == nil || evs[0].Post.Kind != "delete" || evs[0].Post.ID != "1576994746135764992" {
		t.Fatalf("compliance delete: %+v, %v", evs, err)
	}
	evs, err = d.Line([]byte(`{"data":{"tweet_edit":{"tweet":{"id":"3"},"initial_tweet_id":"1","edit_tweet_ids":["1","3"],"event_at":"2026-11-01T00:00:00.000Z"}}}`), nil)
	if err != nil || len(evs) != 1 || evs[0].Skip != "compliance" {
		t.Fatalf("compliance edit event: %+v, %v; want counted as skipped", evs, err)
	}
}
