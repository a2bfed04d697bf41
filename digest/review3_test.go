package digest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A schedule whose runs bunch together at some hour is refused, not only
// one that runs every minute all day: the check looked at one gap only.
func TestValidateRefusesBunchedRuns(t *testing.T) {
	k := Known{Channels: map[string]string{"mail": "email"}}
	for _, sched := range []string{"0-59 0 * * *", "0,1 0 * * *", "* 5 * * MON", "0,30 9 * * *", "* * 15 * *"} {
		d := Digest{Name: "x", Schedule: sched, Audience: Audience{Emails: []string{"a@example.com"}}}
		if err := Validate([]Digest{d}, k); err == nil || !strings.Contains(err.Error(), "digests run at most hourly") {
			t.Errorf("%q: %v, want refused as more than hourly", sched, err)
		}
	}
	for _, sched := range []string{"0 * * * *", "0 8 * * MON", "0 0,12 * * *", "@daily", "0 6 1 * *", "0 9 * * 1-5", "30 1,2 * * SUN"} {
		d := Digest{Name: "x", Schedule: sched, Audience: Audience{Emails: []string{"a@example.com"}, Timezone: "America/New_York"}}
		if err := Validate([]Digest{d}, k); err != nil {
			t.Errorf("%q: %v", sched, err)
		}
	}
}

// A symlink planted in the archive cannot serve a file outside it (the
// state dir's token store beside the archive, /etc/passwd), whether the
// link is a file of a period or a period's directory.
func TestArchiveOpenStaysInside(t *testing.T) {
	state := t.TempDir()
	secret := filepath.Join(state, "tokens.json")
	os.WriteFile(secret, []byte(`{"secret":"s3cr3t"}`), 0o600)
	a := Archive{Dir: filepath.Join(state, "digests")}
	until := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	period := PeriodID(until)
	dir := a.Path("legal-weekly", period)
	os.MkdirAll(dir, 0o750)
	m, _ := json.Marshal(Meta{Name: "legal weekly", Slug: "legal-weekly", Period: period, Until: until})
	os.WriteFile(filepath.Join(dir, FileMeta), m, 0o640)
	if err := os.Symlink(secret, filepath.Join(dir, "digest.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../tokens.json", filepath.Join(dir, "tokens.json")); err != nil {
		t.Fatal(err)
	}
	// A whole period directory linked outside, with its own meta.json.
	outside := filepath.Join(state, "elsewhere")
	os.MkdirAll(outside, 0o750)
	os.WriteFile(filepath.Join(outside, FileMeta), m, 0o640)
	os.WriteFile(filepath.Join(outside, FileHTML), []byte("outside"), 0o640)
	other := PeriodID(until.Add(-24 * time.Hour))
	if err := os.Symlink(outside, a.Path("legal-weekly", other)); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{period, "digest.json"}, {period, "tokens.json"}, {other, FileHTML}} {
		b, err := a.Open("legal-weekly", c[0], c[1])
		if err == nil || bytes.Contains(b, []byte("s3cr3t")) || bytes.Contains(b, []byte("outside")) {
			t.Errorf("%s/%s: %q, %v: read through a link out of the archive", c[0], c[1], b, err)
		}
	}
	// Nor does the linked period's meta.json list it or name its scope.
	if _, err := a.Meta("legal-weekly", other); err == nil {
		t.Errorf("Meta read the meta.json of a period linked out of the archive")
	}
	if ms, _, err := a.Page("", 10, 10, func(Meta) bool { return true }); err != nil || len(ms) != 1 || ms[0].Period != period {
		t.Errorf("Page: %+v, %v; want the one period inside", ms, err)
	}
	// A link inside the archive still works.
	os.WriteFile(filepath.Join(dir, "terms.csv"), []byte("term\n"), 0o640)
	os.Symlink("terms.csv", filepath.Join(dir, "copy.csv"))
	if b, err := a.Open("legal-weekly", period, "copy.csv"); err != nil || string(b) != "term\n" {
		t.Errorf("a link inside: %q, %v", b, err)
	}
}

// A torn or corrupt delivery ledger stops the digests, not the process:
// Run (a part of the pipeline's group, where a part returning stops every
// stage) waits, says why, and carries on once the file is moved away.
func TestSchedulerWaitsOutACorruptLedger(t *testing.T) {
	dir := t.TempDir()
	ledger := filepath.Join(dir, "deliveries.json")
	os.WriteFile(ledger, []byte(`{"cursors":{"legal-weekly":"2026-12-0`), 0o640)
	var logs syncBuffer
	s := &Scheduler{Digests: []Digest{weekly}, Archive: Archive{Dir: dir}, Send: &fakeSender{}, Retry: 20 * time.Millisecond,
		Channels: map[string]string{"mail": "email"}, Log: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: prometheus.NewRegistry(),
		Produce: func(context.Context, Digest, time.Time) (*Produced, error) { return nil, errors.New("not due") }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case err := <-done:
		cancel()
		t.Fatalf("Run returned %v on a corrupt ledger: the whole process would stop", err)
	case <-time.After(300 * time.Millisecond):
	}
	if !strings.Contains(logs.String(), "deliveries.json") {
		t.Errorf("nothing logged about the ledger: %s", logs.String())
	}
	os.Rename(ledger, ledger+".bad")
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(ledger)
		if err == nil && json.Valid(b) && strings.Contains(string(b), "legal-weekly") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not start afresh once the ledger was moved away: %q %v", b, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// A ledger far over what the digests can write is refused before it is
// read into memory.
func TestLedgerHugeRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deliveries.json")
	f, _ := os.Create(path)
	f.Truncate(maxLedgerBytes + 1)
	f.Close()
	if _, err := openLedger(path); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("a ledger of %d bytes: %v", maxLedgerBytes+1, err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// "@every 2h" parses (the cron library's descriptor) but has no fixed
// times: its window, worked out back from each run, is not the time since
// the run before (an hour of every two was in no digest). It is refused.
func TestValidateRefusesEvery(t *testing.T) {
	d := Digest{Name: "x", Schedule: "@every 2h", Audience: Audience{Emails: []string{"a@example.com"}}}
	at := time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)
	since, until, _ := d.Window(at)
	next, _ := d.Next(until)
	err := Validate([]Digest{d}, Known{Channels: map[string]string{"mail": "email"}})
	if err == nil && next.Sub(until) != until.Sub(since) {
		t.Errorf("%q accepted, yet a digest covers %v and the next comes %v later", d.Schedule, until.Sub(since), next.Sub(until))
	}
	if err != nil && !strings.Contains(err.Error(), "@every") {
		t.Errorf("%q: %v, want a refusal naming @every", d.Schedule, err)
	}
}

// One meta.json that does not parse (a disk's damage, a hand's edit)
// leaves that period out of the list, not every digest of every tenant.
func TestArchiveListSkipsABadMeta(t *testing.T) {
	a := Archive{Dir: t.TempDir()}
	until := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	for slug, meta := range map[string]string{
		"legal-weekly": `{"name":"legal weekly","slug":"legal-weekly","period":"20261207T0600Z","until":"2026-12-07T06:00:00Z"}`,
		"care-daily":   `{"name":"care daily","slug":"care-d`,
	} {
		d := a.Path(slug, PeriodID(until))
		os.MkdirAll(d, 0o750)
		os.WriteFile(filepath.Join(d, FileMeta), []byte(meta), 0o640)
	}
	ms, err := a.List(nil)
	if err != nil || len(ms) != 1 || ms[0].Slug != "legal-weekly" {
		t.Errorf("List: %+v, %v; want legal weekly alone", ms, err)
	}
}

// The browser that prints the PDF reads no local file and fetches
// nothing, even if a page's markup were not escaped: a file:// frame or
// object (the page itself is a file), a meta refresh, a loopback image.
func TestPDFReadsNoLocalFile(t *testing.T) {
	chromium, err := FindChromium(os.Getenv)
	if err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip(err)
	}
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("s3cr3t-token-value"), 0o644)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for name, body := range map[string]string{
		"iframe":  `<iframe src="file://` + secret + `" width=800 height=400></iframe>`,
		"object":  `<object data="file://` + secret + `" width=800 height=400></object>`,
		"embed":   `<embed src="file://` + secret + `" width=800 height=400>`,
		"img":     `<img src="` + srv.URL + `/x"><img src="file://` + secret + `">`,
		"refresh": `<meta http-equiv="refresh" content="0;url=file://` + secret + `">`,
	} {
		page := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body><p>digest</p>" + body + "</body></html>"
		pdf, err := PDF(context.Background(), chromium, []byte(page))
		if err != nil && name == "refresh" {
			continue // the browser leaves the page and prints nothing: an error, not a leak
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := filepath.Join(t.TempDir(), "x.pdf")
		os.WriteFile(p, pdf, 0o600)
		text, err := exec.Command("pdftotext", p, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(text, []byte("s3cr3t")) {
			t.Errorf("%s: the PDF shows a local file: %q", name, text)
		}
		if !bytes.Contains(text, []byte("digest")) {
			t.Errorf("%s: the page itself is not printed: %q", name, text)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests reached a loopback server", hits.Load())
	}
}

// A digest's Teams message carries the biggest spike's why, whose terms
// are watchlist keywords any team's gatherer writes: markdown in them is
// shown as written, not made a link in another team's channel (notify
// escapes an alert's why for Teams the same way).
func TestTeamsSummaryEscapesMarkdown(t *testing.T) {
	evil := `[Reset your password](https://evil.example/login)`
	p := &Produced{Report: &Report{Slug: "legal-weekly", Until: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)},
		Rendered: &Rendered{Summary: "legal weekly\n1 spike(s); the biggest: terms: \"" + evil + "\" 9.\n"}}
	s := &Scheduler{BaseURL: "https://earshot.example.com"}
	got := s.chat(p, "teams")
	if strings.Contains(got, evil) || strings.Contains(got, "](https://evil") {
		t.Errorf("a term's markdown reached Teams as markdown: %q", got)
	}
	if !strings.HasSuffix(got, "[Open the digest](https://earshot.example.com/v1/digests/legal-weekly/20261207T0600Z/digest.html)") {
		t.Errorf("the digest's own link is gone: %q", got)
	}
}

// An @handle keyword such as @channel or @here in a spike's terms does not
// ping a whole Slack channel: it is broken as notify breaks it in an alert
// (Teams has no such words: a mention there needs an entity).
func TestChatSummaryBreaksBroadcasts(t *testing.T) {
	p := &Produced{Report: &Report{Slug: "legal-weekly", Until: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)},
		Rendered: &Rendered{Summary: "legal weekly\n1 spike(s); the biggest: terms: \"@channel\" 9, \"@Here\" 3.\n"}}
	s := &Scheduler{BaseURL: "https://earshot.example.com"}
	for _, kind := range []string{"slack"} {
		got := strings.ToLower(s.chat(p, kind))
		if strings.Contains(got, "@channel") || strings.Contains(got, "@here") {
			t.Errorf("%s: a broadcast reached the channel: %q", kind, got)
		}
	}
}

// Page reads at most scan meta.json: a caller that keeps few digests gets a
// short page and a position to go on from, and every digest once in all.
func TestArchivePageScanBudget(t *testing.T) {
	a := Archive{Dir: t.TempDir()}
	start := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	for d := 0; d < 10; d++ {
		until := start.AddDate(0, 0, d)
		for _, slug := range []string{"a", "b"} {
			dir := a.Path(slug, PeriodID(until))
			os.MkdirAll(dir, 0o750)
			m, _ := json.Marshal(Meta{Slug: slug, Period: PeriodID(until), Until: until})
			os.WriteFile(filepath.Join(dir, FileMeta), m, 0o640)
		}
	}
	onlyB := func(m Meta) bool { return m.Slug == "b" }
	var got []string
	after, pages := "", 0
	for {
		ms, next, err := a.Page(after, 3, 4, onlyB)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 3 {
			t.Fatalf("page of %d, limit 3", len(ms))
		}
		for _, m := range ms {
			got = append(got, m.Period)
		}
		pages++
		if next == "" || pages > 20 {
			break
		}
		after = next
	}
	if len(got) != 10 || got[0] != PeriodID(start.AddDate(0, 0, 9)) || got[9] != PeriodID(start) || pages != 5 {
		t.Errorf("%d pages gave %v", pages, got)
	}
	for _, bad := range []string{"x", "20261201T0600Z", "20261201T0600Z/../a", "2026/a"} {
		if _, _, err := a.Page(bad, 3, 4, onlyB); !errors.Is(err, ErrBadPosition) {
			t.Errorf("position %q: %v", bad, err)
		}
	}
}
