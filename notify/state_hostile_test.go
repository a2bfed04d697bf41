package notify

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A state file edited by hand or damaged into valid JSON must not put into
// a digest what no alert could: a priority that is none of P1-P4 (here one
// that pings a whole Slack channel, and a million made-up ones that would
// make one digest of megabytes), or counts that add up past the int range
// into a negative number. Such entries are dropped with a warning and the
// counts saturate; the good entries beside them are kept.
func TestStateFileWithHostileCountsIsReadSafely(t *testing.T) {
	rx := newReceiver(t, 200)
	state := filepath.Join(t.TempDir(), "notify-state.json")
	cfg, env := quietSlack(rx.URL, &QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-07:00"})
	cfg.StateFile = state
	var b strings.Builder
	b.WriteString(`{"version":1,"channels":{"care-slack":{"held_since":"2026-12-07T22:00:00Z","held":[`)
	fmt.Fprintf(&b, `{"queue":"care","priority":"P2","n":%d},{"queue":"care","priority":"P2","n":%d},`, math.MaxInt, math.MaxInt)
	b.WriteString(`{"queue":"care","priority":"P3 <!channel>","n":1},{"queue":"care-na","priority":"P3","n":2}`)
	for i := range 100_000 {
		fmt.Fprintf(&b, `,{"queue":"care","priority":"P%d","n":1}`, i+5)
	}
	b.WriteString(`]}}}`)
	if err := os.WriteFile(state, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	n, clk := notifier(t, cfg, env)
	clk.at(time.Date(2026, 12, 8, 6, 0, 0, 0, time.UTC)) // 07:00 in Berlin: quiet hours over
	n.Flush(context.Background())
	got := rx.got()
	if len(got) != 1 {
		t.Fatalf("%d messages, want the one digest", len(got))
	}
	msg := string(got[0])
	if len(msg) > 4096 {
		t.Errorf("a digest of %d bytes", len(msg))
	}
	for _, bad := range []string{"<!channel>", "P5", " -", "P3 <"} {
		if strings.Contains(msg, bad) {
			t.Errorf("the digest carries %q: %.300s", bad, msg)
		}
	}
	if !strings.Contains(msg, "2 P3 alerts in care-na") || !strings.Contains(msg, "P2 alerts in care") {
		t.Errorf("the good counts are lost: %.300s", msg)
	}
}
