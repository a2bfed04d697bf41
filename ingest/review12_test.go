package ingest

import (
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
)

// TestIngestedAtIsTheClock: route raises an alert as of its post's
// ingested_at when that is within the hour (docs/routing.md), so a pushed
// or file line that carried its own ingested_at chose its alert's time: 59
// minutes back, its first-response deadline had passed on arrival (a P1
// breached at once, escalated at once) and it went to the shift of an hour
// ago. ingested_at is when earshot heard the post, whatever the line says.
func TestIngestedAtIsTheClock(t *testing.T) {
	now := time.Date(2026, 12, 7, 17, 0, 30, 0, time.UTC)
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return now }
	dec := NewDecoder(FormatAuto, "push", n)
	for _, line := range []string{
		`{"platform":"x","id":"1","text":"acme outage","author":{"handle":"a"},"created_at":"2026-12-07T16:01:00Z","ingested_at":"2026-12-07T16:01:30Z"}`,
		`{"platform":"x","id":1,"text":"acme outage","author":{"handle":"a"},"created_at":"2026-12-07T16:01:00Z","ingested_at":"2026-12-07T16:01:30Z"}`,
		`{"v":1,"post":{"platform":"x","id":"1","text":"acme outage","author":{"handle":"a"},"created_at":"2026-12-07T16:01:00Z","ingested_at":"2026-12-07T16:01:30Z"}}`,
		`{"platform":"x","id":"1","text":"acme outage","author":{"handle":"a"},"created_at":"2026-12-07T16:01:00Z","ingested_at":"2099-01-01T00:00:00Z"}`,
	} {
		evs, err := dec.Decode([]byte(line), nil)
		if err != nil || len(evs) != 1 || evs[0].Post == nil {
			t.Fatalf("%s: %v, %d events", line, err, len(evs))
		}
		if got := evs[0].Post.IngestedAt; !got.Equal(now) {
			t.Errorf("%s: ingested_at %s, want the clock %s", line, got.Format(time.RFC3339), now.Format(time.RFC3339))
		}
	}
}
