package digest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/notify"
)

type sent struct{ channel, id, text string }

type fakeSender struct {
	log      []sent
	failChat error
	failMail error
}

func (f *fakeSender) SendEmail(_ context.Context, ch string, m notify.Mail) error {
	if f.failMail != nil {
		return f.failMail
	}
	f.log = append(f.log, sent{ch, m.MessageID, m.Subject})
	return nil
}

func (f *fakeSender) SendText(_ context.Context, ch, text string) error {
	if f.failChat != nil {
		return f.failChat
	}
	f.log = append(f.log, sent{ch, "", text})
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func scheduler(t *testing.T, dir string, clk *clock, send Sender) (*Scheduler, *[]time.Time) {
	d := weekly
	d.Audience.Channels = []string{"legal-slack"}
	var made []time.Time
	s := &Scheduler{Digests: []Digest{d}, Archive: Archive{Dir: dir}, Send: send, Now: clk.now, Delay: time.Minute,
		Channels: map[string]string{"mail": "email", "legal-slack": "slack"}, BaseURL: "https://earshot.example.com",
		Produce: func(ctx context.Context, d Digest, at time.Time) (*Produced, error) {
			made = append(made, at)
			r, err := Build(ctx, seeded(), nil, d, at, clk.now())
			if err != nil {
				return nil, err
			}
			loc, _ := d.Location()
			out, err := Render(r, loc)
			return &Produced{Report: r, Loc: loc, Rendered: out}, err
		}}
	s.Log = slog.New(slog.DiscardHandler)
	s.Registerer = prometheus.NewRegistry()
	if err := s.init(); err != nil {
		t.Fatal(err)
	}
	return s, &made
}

func TestSchedulerOncePerPeriod(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)} // a Wednesday
	send := &fakeSender{}
	s, made := scheduler(t, dir, clk, send)
	ctx := context.Background()
	s.Tick(ctx) // a new digest starts with its next period: nothing yet
	if len(send.log) != 0 {
		t.Fatalf("sent on first sight: %v", send.log)
	}
	clk.t = t1.Add(30 * time.Second) // Monday 08:00:30 Athens: not yet (delay 1m)
	s.Tick(ctx)
	if len(send.log) != 0 {
		t.Fatalf("sent before the delay: %v", send.log)
	}
	clk.t = t1.Add(2 * time.Minute)
	s.Tick(ctx)
	s.Tick(ctx)
	if len(send.log) != 2 || send.log[0].channel != "mail" || send.log[0].id != "digest.legal-weekly.20261207T0600Z@earshot" || send.log[1].channel != "legal-slack" {
		t.Fatalf("sent %+v", send.log)
	}
	if !strings.Contains(send.log[1].text, "<https://earshot.example.com/v1/digests/legal-weekly/20261207T0600Z/digest.html|Open the digest>") {
		t.Errorf("chat text %q", send.log[1].text)
	}
	if len(*made) != 1 {
		t.Errorf("made %d times", len(*made))
	}
	if _, err := os.Stat(filepath.Join(dir, "legal-weekly", "20261207T0600Z", FileMeta)); err != nil {
		t.Errorf("not archived: %v", err)
	}
	// A restart: nothing is sent again.
	s2, _ := scheduler(t, dir, clk, send)
	s2.Tick(ctx)
	if len(send.log) != 2 {
		t.Errorf("sent again after a restart: %+v", send.log[2:])
	}
	// Three weeks stopped: the three missed periods, oldest first.
	clk.t = t1.Add(21*24*time.Hour + 2*time.Minute)
	s2.Tick(ctx)
	var ids []string
	for _, m := range send.log[2:] {
		if m.id != "" {
			ids = append(ids, m.id)
		}
	}
	if strings.Join(ids, " ") != "digest.legal-weekly.20261214T0600Z@earshot digest.legal-weekly.20261221T0600Z@earshot digest.legal-weekly.20261228T0600Z@earshot" {
		t.Errorf("catch-up sent %v", ids)
	}
	// The archive keeps the newest Keep periods.
	clk.t = t1.Add(35*24*time.Hour + 2*time.Minute)
	s2.Keep = 2
	s2.Tick(ctx)
	if got, _ := s2.Archive.List(nil); len(got) != 2 || got[0].Period != "20270111T0600Z" || got[1].Period != "20270104T0600Z" {
		t.Errorf("archive after pruning: %d periods, newest %v", len(got), got)
	}
	if n := testutil.ToFloat64(s2.m.sent.WithLabelValues("legal-weekly", "email")); n != 5 {
		t.Errorf("earshot_digest_messages_total{kind=email} %v after the restart, want 5", n)
	}
	if v := testutil.ToFloat64(s2.m.last.WithLabelValues("legal-weekly")); v != float64(time.Date(2027, 1, 11, 6, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("earshot_digest_last_period_end_seconds %v", v)
	}
}

// A step that failed is tried again after the retry wait, and only it: the
// email that went is not sent twice; a step left "sending" by a kill is
// sent again with the same Message-ID.
func TestSchedulerRestartMidSend(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	send := &fakeSender{failChat: errors.New("slack is down")}
	s, _ := scheduler(t, dir, clk, send)
	ctx := context.Background()
	s.Tick(ctx)
	clk.t = t1.Add(2 * time.Minute)
	s.Tick(ctx)
	if len(send.log) != 1 || send.log[0].channel != "mail" {
		t.Fatalf("sent %+v", send.log)
	}
	send.failChat = errors.New("slack is still down")
	s.Tick(ctx) // within the retry wait: nothing
	clk.t = clk.t.Add(16 * time.Second)
	s.Tick(ctx) // the first retry, 15s on: fails again
	clk.t = clk.t.Add(16 * time.Second)
	s.Tick(ctx) // the second wait is 30s: nothing
	if len(send.log) != 1 || s.fails["legal-weekly"] != 2 {
		t.Fatalf("retried too soon: %+v, %d failures", send.log, s.fails["legal-weekly"])
	}
	send.failChat = nil
	// A restart (the wait is not kept): the chat only.
	s2, _ := scheduler(t, dir, clk, send)
	s2.Tick(ctx)
	if len(send.log) != 2 || send.log[1].channel != "legal-slack" {
		t.Fatalf("after restart sent %+v", send.log)
	}
	// Killed after marking the next period's email "sending".
	clk.t = t1.Add(7*24*time.Hour + 2*time.Minute)
	if err := s2.ledger.mark("legal-weekly/20261214T0600Z", "email", "sending"); err != nil {
		t.Fatal(err)
	}
	s3, _ := scheduler(t, dir, clk, send)
	s3.Tick(ctx)
	if len(send.log) != 4 || send.log[2].id != "digest.legal-weekly.20261214T0600Z@earshot" {
		t.Fatalf("after a kill mid-send: %+v", send.log[2:])
	}
}

// A broken ledger is an error that says what to do, not a fresh start that
// would resend or skip; it stops the digests, not the process
// (TestSchedulerWaitsOutACorruptLedger).
func TestSchedulerBadLedger(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "deliveries.json"), []byte("{not json"), 0o600)
	var logs strings.Builder
	s := &Scheduler{Archive: Archive{Dir: dir}, Log: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: prometheus.NewRegistry()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil || !strings.Contains(logs.String(), "move it away") {
		t.Errorf("got %v, logged %q", err, logs.String())
	}
}
