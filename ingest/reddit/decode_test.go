package reddit

import (
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
)

func FuzzLine(f *testing.F) {
	for _, s := range []string{
		`{"id":"c1","author":"ann","body":"hi","created_utc":1763719200,"subreddit":"g","parent_id":"t3_s1"}`,
		`{"id":"s1","title":"t","selftext":"[deleted]","created_utc":1763719100.5,"subreddit":"g"}`,
		`{"kind":"Listing","data":{"children":[{"kind":"t1","data":{"id":"c2","body":"x","created_utc":1}},{"kind":"Listing","data":{"children":[]}}]}}`,
		`{"kind":"t3","data":{"id":"s2","title":"x","url":"https://e.com","created_utc":"2026-11-01T00:00:00Z"}}`,
	} {
		f.Add([]byte(s))
	}
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	d := &Decoder{N: n}
	f.Fuzz(func(t *testing.T, b []byte) {
		if canon.Scan(b) != nil {
			return
		}
		evs, err := d.LineScanned(b, nil)
		if err != nil {
			return
		}
		if len(evs) == 0 {
			t.Fatalf("accepted %q with no events", b)
		}
		for _, ev := range evs {
			if ev.Post == nil && ev.Skip == "" {
				t.Fatalf("no post and no skip for %q", b)
			}
			if ev.Post != nil {
				if err := canon.Invariant(ev.Post); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
