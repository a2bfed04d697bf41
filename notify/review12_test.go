package notify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStateFileFromAClockAheadStillFlushes: the rate limit's digest goes
// out once its window has passed since the first alert it holds. A state
// file written while the clock ran ahead (or before it stepped back) put
// that first alert in the future, and the counts stayed unsent until the
// clock caught up: a year of silence on the channel for them. A time
// ahead of the clock is taken as now.
func TestStateFileFromAClockAheadStillFlushes(t *testing.T) {
	rx := newReceiver(t, 200)
	state := filepath.Join(t.TempDir(), "notify-state.json")
	cfg, env := quietSlack(rx.URL, &QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-07:00"})
	cfg.StateFile = state
	ch := cfg.Channels["care-slack"]
	ch.RateLimit = RateLimit{Messages: 1, Per: time.Minute}
	cfg.Channels["care-slack"] = ch
	body := `{"version":1,"channels":{"care-slack":{"since":"2027-12-07T12:00:00Z","pending":[{"queue":"care","priority":"P3","n":3}],` +
		`"held_since":"2027-12-07T22:00:00Z","held":[{"queue":"care","priority":"P4","n":2}]}}}`
	if err := os.WriteFile(state, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	n, clk := notifier(t, cfg, env)
	clk.at(time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)) // a year before the file's times; not quiet in Berlin
	n.Flush(context.Background())
	clk.add(2 * time.Minute) // past the rate limit's window
	n.Flush(context.Background())
	var all []string
	for _, b := range rx.got() {
		all = append(all, string(b))
	}
	text := strings.Join(all, "\n")
	if !strings.Contains(text, "3 more P3 alerts in care") && !strings.Contains(text, "3 P3 alerts in care") {
		t.Errorf("the rate limit's digest did not go out: %q", text)
	}
	if !strings.Contains(text, "2 P4 alerts in care") {
		t.Errorf("the quiet hours' digest did not go out: %q", text)
	}
	if strings.Contains(text, "Tue 23:00") {
		t.Errorf("a digest dates its alerts in the future: %q", text)
	}
}
