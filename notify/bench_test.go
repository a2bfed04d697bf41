package notify

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// The cost of building each channel's message for one alert, beside the
// webhook stage's encoding of the same alert (post.Encode) as the baseline.
func BenchmarkMessage(b *testing.B) {
	for _, size := range []struct {
		name string
		text string
	}{{"tweet", strings.Repeat("our app is down again @acme <fix it> & now ", 7)[:280]}, {"1MiB", worst()}} {
		it := alert("1", "care", "P1", size.text)
		v := func() view { return viewOf(it, "https://earshot.example.com") }
		for _, c := range []struct {
			name  string
			build func() error
		}{
			{"webhook-baseline", func() error { _, err := post.Encode(nil, it); return err }},
			{"slack", func() error { _, err := slackAlert(v()); return err }},
			{"teams", func() error { _, err := teamsAlert(v()); return err }},
			{"pagerduty", func() error { _, err := pagerdutyEvent(v(), "k"); return err }},
			{"alertmanager", func() error { _, err := alertmanagerAlerts(v(), it.Alert.CreatedAt); return err }},
			{"email", func() error { _, _, _, err := emailAlert(v()); return err }},
		} {
			b.Run(size.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(size.text)))
				for b.Loop() {
					if err := c.build(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// One alert through the stage to a local Slack receiver: dedup, rate
// limit, message and HTTP round trip.
func BenchmarkStageSlack(b *testing.B) {
	rx := newReceiver(b, http.StatusOK)
	n, err := New(Config{Channels: map[string]Channel{"s": {Kind: Slack, URLEnv: "S", Queues: []string{"q"}, RateLimit: RateLimit{Messages: MaxRateMessages}}}},
		func(string) string { return rx.URL }, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := n.Stage("s", "q")
	its := make([]*post.Item, 0, 1024)
	for i := range cap(its) {
		its = append(its, alert(strings.Repeat("x", 8)+string(rune('a'+i%26))+itoa(i), "q", "P1", "our app is down again"))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		it := its[i%len(its)]
		i++
		it.Alert.ID = "a-" + itoa(i) // a new alert each time: dedup would skip a repeat
		if _, err := st(context.Background(), post.Batch{Items: []*post.Item{it}}); err != nil {
			b.Fatal(err)
		}
		n.channels["s"].sent = n.channels["s"].sent[:0] // the rate limit is not what is measured
	}
}

func itoa(i int) string {
	var b [20]byte
	p := len(b)
	for {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[p:])
		}
	}
}

// A batch of 50 alerts held in quiet hours (the runner's batch size for
// notify), with the held counts in memory only and with a state file,
// which is written (and synced) once per batch before it is committed.
func BenchmarkStageQuietHold(b *testing.B) {
	for _, name := range []string{"memory", "state-file"} {
		b.Run(name, func(b *testing.B) {
			c := Config{Channels: map[string]Channel{"s": {Kind: Slack, URLEnv: "S", Queues: []string{"q"},
				QuietHours: &QuietHours{Timezone: "UTC", Hours: "00:00-23:59", Bypass: "none"}}}}
			if name == "state-file" {
				c.StateFile = filepath.Join(b.TempDir(), "state.json")
			}
			n, err := New(c, func(string) string { return "http://127.0.0.1:1" }, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			n.now = func() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) }
			st := n.Stage("s", "q")
			batch := make([]*post.Item, 50)
			for j := range batch {
				batch[j] = alert(itoa(j), "q", []string{"P2", "P3", "P4"}[j%3], "our app is down again")
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				for _, it := range batch {
					i++
					it.Alert.ID = "a-" + itoa(i)
				}
				out, err := st(context.Background(), post.Batch{Items: batch})
				if err != nil || len(out.Rejected) > 0 {
					b.Fatal(err, out.Rejected)
				}
			}
		})
	}
}
