package api

import (
	"strings"
	"testing"
	"time"
)

// A search's since and until take an RFC 3339 time or, as the CLI does, a
// duration back from now ("2d", "36h"); anything else says both forms.
func TestSearchTimes(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Time{
		"2d":                   now.Add(-48 * time.Hour),
		"36h":                  now.Add(-36 * time.Hour),
		"2026-11-20T00:00:00Z": time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"":                     {},
	} {
		if got, err := searchTime("since", v, now); err != nil || !got.Equal(want) {
			t.Errorf("%q = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := searchTime("since", "yesterday", now); err == nil || !strings.Contains(err.Error(), "RFC 3339") || !strings.Contains(err.Error(), "7d") {
		t.Errorf("yesterday: %v", err)
	}
}
