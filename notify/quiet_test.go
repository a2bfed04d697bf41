package notify

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// at sets the fake clock to a UTC time.
func (c *clock) at(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func quietSlack(url string, q *QuietHours) (Config, map[string]string) {
	return Config{Channels: map[string]Channel{
		"care-slack": {Kind: Slack, URLEnv: "S", Queues: []string{"care", "care-na"}, QuietHours: q},
	}}, map[string]string{"S": url}
}

// Alerts that come in quiet hours wait; P1 goes through; one digest counts
// the held ones when the local clock shows the end, the next day.
func TestQuietHoursHoldAlertsUntilTheyEndAcrossMidnight(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	cfg, env := quietSlack(rx.URL, &QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-07:00"})
	n, clk := notifier(t, cfg, env)
	ctx := context.Background()
	clk.at(time.Date(2026, 12, 7, 20, 59, 0, 0, time.UTC)) // 21:59 in Berlin (UTC+1): not yet
	run(t, n, "care-slack", "care", alert("0", "care", "P3", "before"))
	if got := len(rx.got()); got != 1 {
		t.Fatalf("before quiet hours: %d messages, want 1", got)
	}
	clk.at(time.Date(2026, 12, 7, 21, 30, 0, 0, time.UTC)) // 22:30
	run(t, n, "care-slack", "care", alert("1", "care", "P3", "slow"), alert("2", "care", "P2", "slow"))
	run(t, n, "care-slack", "care-na", alert("3", "care-na", "P3", "slow"))
	run(t, n, "care-slack", "care", alert("2", "care", "P2", "slow")) // redelivered: counted once
	run(t, n, "care-slack", "care", alert("4", "care", "P1", "fire"))
	if got := rx.got(); len(got) != 2 || !strings.Contains(string(got[1]), "P1 alert in care") {
		t.Fatalf("in quiet hours: want only the P1 sent, got %d messages", len(got))
	}
	for _, at := range []time.Time{
		time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC),  // midnight in Berlin
		time.Date(2026, 12, 8, 5, 59, 59, 0, time.UTC), // 06:59:59
	} {
		clk.at(at)
		n.Flush(ctx)
		if got := len(rx.got()); got != 2 {
			t.Fatalf("at %v (still quiet): %d messages, want 2", at, got)
		}
	}
	clk.at(time.Date(2026, 12, 8, 6, 0, 0, 0, time.UTC)) // 07:00 in Berlin
	n.Flush(ctx)
	n.Flush(ctx) // sent once
	got := rx.got()
	if len(got) != 3 {
		t.Fatalf("after quiet hours: %d messages, want 3 (one digest)", len(got))
	}
	d := string(got[2])
	for _, want := range []string{"1 P2 alert in care", "1 P3 alert in care,", "1 P3 alert in care-na", "held since Mon 22:30"} {
		if !strings.Contains(d, want) {
			t.Errorf("digest lacks %q: %s", want, d)
		}
	}
	if strings.Index(d, "P2") > strings.Index(d, "P3") {
		t.Errorf("digest not most urgent first: %s", d)
	}
}

// Quiet hours follow the local clock when it changes: in New York, 07:00
// is 12:00 UTC the day before summer time starts and 11:00 UTC the day it
// does (8 March 2026), and 06:00 UTC again after it ends (1 November).
func TestQuietHoursFollowTheLocalClockAcrossDST(t *testing.T) {
	q, err := (&QuietHours{Timezone: "America/New_York", Hours: "22:00-07:00", Bypass: "P2"}).parse("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		utc   time.Time
		quiet bool
	}{
		{time.Date(2026, 3, 7, 11, 30, 0, 0, time.UTC), true},  // 06:30 EST
		{time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), false},  // 07:00 EST
		{time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), true},   // 01:59 EST, just before the switch
		{time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), true},    // 03:00 EDT: 02:00-03:00 never shows
		{time.Date(2026, 3, 8, 10, 59, 0, 0, time.UTC), true},  // 06:59 EDT
		{time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC), false},  // 07:00 EDT (06:00 on a fixed EST clock)
		{time.Date(2026, 3, 9, 1, 59, 0, 0, time.UTC), false},  // 21:59 EDT
		{time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC), true},    // 22:00 EDT
		{time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), true},  // 01:30 EDT, the first time
		{time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), true},  // 01:30 EST, the second time
		{time.Date(2026, 11, 1, 11, 59, 0, 0, time.UTC), true}, // 06:59 EST
		{time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), false}, // 07:00 EST
	} {
		if got := q.at(c.utc); got != c.quiet {
			t.Errorf("%v (%v in New York): quiet %v, want %v", c.utc, c.utc.In(q.loc).Format("15:04 MST"), got, c.quiet)
		}
	}
	// Through the channel: a P3 held at 06:30 EDT goes out at 07:00 EDT,
	// an hour earlier in UTC than it would in winter; P2 bypasses.
	rx := newReceiver(t, http.StatusOK)
	cfg, env := quietSlack(rx.URL, &QuietHours{Timezone: "America/New_York", Hours: "22:00-07:00", Bypass: "P2"})
	n, clk := notifier(t, cfg, env)
	clk.at(time.Date(2026, 3, 8, 10, 30, 0, 0, time.UTC))
	run(t, n, "care-slack", "care", alert("1", "care", "P3", "x"), alert("2", "care", "P2", "x"))
	if got := len(rx.got()); got != 1 {
		t.Fatalf("%d messages in quiet hours, want the P2 only", got)
	}
	clk.at(time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC))
	n.Flush(context.Background())
	if got := rx.got(); len(got) != 2 || !strings.Contains(string(got[1]), "1 P3 alert in care held since Sun 06:30") {
		t.Fatalf("at 07:00 EDT: %d messages, last %s", len(got), got[len(got)-1])
	}
}

func TestQuietHoursConfigRefused(t *testing.T) {
	for _, c := range []struct {
		q    QuietHours
		want string
	}{
		{QuietHours{Timezone: "Europe/Berlin", Hours: "1e12"}, "HH:MM-HH:MM"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-1e12"}, "HH:MM-HH:MM"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-1000000000000h"}, "HH:MM-HH:MM"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-22:00"}, "must differ"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "00:00-00:00"}, "must differ"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "24:00-07:00"}, "00:00 to 23:59"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "22:60-07:00"}, "00:00 to 23:59"},
		{QuietHours{Timezone: "1e12", Hours: "22:00-07:00"}, "IANA"},
		{QuietHours{Timezone: "", Hours: "22:00-07:00"}, "IANA"},
		{QuietHours{Timezone: "Local", Hours: "22:00-07:00"}, "IANA"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-07:00", Bypass: "P5"}, "bypass"},
		{QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-07:00\n"}, ""}, // trimmed
	} {
		cfg, env := quietSlack("http://127.0.0.1:1", &c.q)
		err := cfg.Validate(func(k string) string { return env[k] })
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.q, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "notify.channels.care-slack.quiet_hours")):
			t.Errorf("%+v: %v, want an error naming the key and %q", c.q, err, c.want)
		}
	}
	// A team is for paging channels only.
	cfg := Config{Channels: map[string]Channel{"s": {Kind: Slack, URLEnv: "S", Queues: []string{"care"}, Team: "emea"}}}
	if err := cfg.Validate(func(string) string { return "http://x" }); err == nil || !strings.Contains(err.Error(), "only paging channels") {
		t.Errorf("team on a slack channel: %v", err)
	}
}

// What the channels hold back survives a restart with a state file: the
// quiet hours' alerts and the rate limit's digest are sent by the next
// process, once. Each stage call saves before it returns (before the batch
// is committed), so a process killed after it (kill -9) loses nothing.
func TestHeldAlertsSurviveARestartWithAStateFile(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	state := filepath.Join(t.TempDir(), "notify-state.json")
	cfg, env := quietSlack(rx.URL, &QuietHours{Timezone: "Europe/Berlin", Hours: "22:00-07:00"})
	cfg.StateFile = state
	ch := cfg.Channels["care-slack"]
	ch.RateLimit = RateLimit{Messages: 1, Per: time.Minute}
	cfg.Channels["care-slack"] = ch

	first, clk := notifier(t, cfg, env)
	clk.at(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)) // day: the rate limit
	run(t, first, "care-slack", "care", alert("1", "care", "P3", "x"), alert("2", "care", "P3", "x"), alert("3", "care", "P3", "x"))
	clk.at(time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)) // 23:00 in Berlin: quiet
	run(t, first, "care-slack", "care-na", alert("4", "care-na", "P2", "x"), alert("5", "care-na", "P2", "x"))
	if got := len(rx.got()); got != 1 {
		t.Fatalf("%d messages, want 1", got)
	}
	// The first process is gone without stopping; the second starts.
	second, clk2 := notifier(t, cfg, env)
	clk2.at(time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC))
	second.Flush(context.Background()) // the rate limit's digest is due; quiet hours are not over
	got := rx.got()
	if len(got) != 2 || !strings.Contains(string(got[1]), "2 more P3 alerts in care in the last 1 min") {
		t.Fatalf("after the restart: %d messages, last %s", len(got), got[len(got)-1])
	}
	clk2.at(time.Date(2026, 12, 8, 6, 0, 0, 0, time.UTC))
	second.Flush(context.Background())
	got = rx.got()
	if len(got) != 3 || !strings.Contains(string(got[2]), "2 P2 alerts in care-na held since Mon 23:00") {
		t.Fatalf("quiet hours over: %d messages, last %s", len(got), got[len(got)-1])
	}
	third, clk3 := notifier(t, cfg, env) // nothing left to send
	clk3.at(time.Date(2026, 12, 9, 6, 0, 0, 0, time.UTC))
	third.Flush(context.Background())
	if got := len(rx.got()); got != 3 {
		t.Errorf("a third process sent again: %d messages", got)
	}

	// A torn or foreign file is refused at start, not silently emptied.
	if err := os.WriteFile(state, []byte(`{"version":1,"channels":{"care-slack":{"held":[{"queue":"care","priority":"P3","n":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, func(k string) string { return env[k] }, nil, nil); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Errorf("a torn state file: %v", err)
	}
}

// A paging channel with a team pages only while its team is the one at
// work on the alert's queue; the resolve goes to the pager that paged.
func TestFollowTheSunPagesTheTeamOnDutyNow(t *testing.T) {
	emea, apac := newReceiver(t, http.StatusAccepted), newReceiver(t, http.StatusAccepted)
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		"page-emea": {Kind: PagerDuty, URL: emea.URL, RoutingKeyEnv: "K", Queues: []string{"care-oncall"}, Team: "emea"},
		"page-apac": {Kind: PagerDuty, URL: apac.URL, RoutingKeyEnv: "K", Queues: []string{"care-oncall"}, Team: "apac"},
	}}, map[string]string{"K": "key"})
	// The org says: EMEA 07:00-19:00 UTC, APAC otherwise.
	n.FollowTheSun(func(q string, t time.Time) string {
		if q != "care-oncall" {
			return ""
		}
		if h := t.UTC().Hour(); h >= 7 && h < 19 {
			return "emea"
		}
		return "apac"
	})
	page := func(it *post.Item) {
		for _, ch := range []string{"page-emea", "page-apac"} {
			if rej := run(t, n, ch, "care-oncall", it); len(rej) != 0 {
				t.Fatal(rej[0].Reason)
			}
		}
	}
	clk.at(time.Date(2026, 12, 7, 18, 59, 0, 0, time.UTC))
	a := alert("1", "care-oncall", "P1", "fire")
	page(a)
	clk.at(time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)) // a day boundary of the rota
	page(alert("2", "care-oncall", "P1", "fire"))
	retracted := *a
	ra := *a.Alert
	ra.Retracted = true
	retracted.Alert = &ra
	page(&retracted)
	e, p := emea.got(), apac.got()
	if len(e) != 2 || !strings.Contains(string(e[0]), `"a-1"`) || !strings.Contains(string(e[1]), `"resolve"`) {
		t.Errorf("emea got %d: %s", len(e), e)
	}
	if len(p) != 1 || !strings.Contains(string(p[0]), `"a-2"`) || strings.Contains(string(p[0]), "resolve") {
		t.Errorf("apac got %d: %s", len(p), p)
	}
	// Nobody at work on the queue: the team the alert was raised for.
	n.FollowTheSun(func(string, time.Time) string { return "" })
	b := alert("3", "care-oncall", "P1", "fire")
	b.Alert.Team, b.Alert.Unstaffed = "apac", true
	page(b)
	if got := len(apac.got()); got != 2 {
		t.Errorf("unstaffed alert of team apac: apac got %d messages, want 2", got)
	}
}
