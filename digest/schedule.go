package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/notify"
)

// Sender delivers a digest; *notify.Notifier is one.
type Sender interface {
	SendEmail(ctx context.Context, channel string, m notify.Mail) error
	SendText(ctx context.Context, channel, text string) error
}

// Produced is a digest made for one period.
type Produced struct {
	Report   *Report
	Loc      *time.Location
	Rendered *Rendered
	PDF      []byte // nil when no Chromium could print it
}

// Scheduler makes each digest when its schedule says, archives it and
// delivers it, at least once and once per (digest, period) as far as it
// can tell: the ledger records each step durably before and after it, so
// a restart neither skips a period nor sends a finished step again. A step
// cut short between the SMTP server's acceptance and the ledger's record
// is sent again with the same Message-ID (digest and period), which mail
// clients use to drop the copy; a Slack or Teams post cut short that way
// is posted twice.
type Scheduler struct {
	Digests  []Digest
	Archive  Archive
	Produce  func(ctx context.Context, d Digest, at time.Time) (*Produced, error)
	Send     Sender
	Channels map[string]string // notify channel → kind
	BaseURL  string            // the API's public URL, for links in chat; "" none
	Delay    time.Duration     // a period is made this long after its end, so that late rows land; default 2m
	Now      func() time.Time
	Log      *slog.Logger
	// Retry is the longest a digest whose making or delivery failed waits
	// before the next try (default 5m); the first wait is 15s, doubling
	// (at a process's start the sink may not have created the tables yet).
	Retry time.Duration
	// Keep is how many periods of each digest the archive keeps; default
	// 366 (a year of a daily digest).
	Keep int
	// Registerer takes the metrics; nil: none.
	Registerer prometheus.Registerer

	ledger  *ledger
	waitFor map[string]time.Time
	fails   map[string]int // consecutive failures per digest
	m       schedMetrics
}

type schedMetrics struct {
	sent     *prometheus.CounterVec
	failures *prometheus.CounterVec
	last     *prometheus.GaugeVec
}

func newSchedMetrics(reg prometheus.Registerer) schedMetrics {
	f := promauto.With(reg)
	return schedMetrics{
		sent:     f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_digest_messages_total", Help: "Digest messages delivered, by digest and kind (email, chat)."}, []string{"digest", "kind"}),
		failures: f.NewCounterVec(prometheus.CounterOpts{Name: "earshot_digest_failures_total", Help: "Digest periods not made or not delivered on a try (retried later)."}, []string{"digest"}),
		last:     f.NewGaugeVec(prometheus.GaugeOpts{Name: "earshot_digest_last_period_end_seconds", Help: "End (Unix time) of the last period of a digest made and delivered: alert when it falls behind its schedule."}, []string{"digest"}),
	}
}

// MaxCatchUp is how many missed periods of a digest are made after a
// stop; older ones are logged as missed.
const MaxCatchUp = 7

// init sets the defaults, once, and opens the ledger, until it opens.
func (s *Scheduler) init() error {
	if s.ledger != nil {
		return nil
	}
	if s.waitFor == nil {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
		s.Delay = cmpOr(s.Delay, 2*time.Minute)
		s.Retry = cmpOr(s.Retry, 5*time.Minute)
		s.Keep = cmpOr(s.Keep, 366)
		s.waitFor, s.fails = map[string]time.Time{}, map[string]int{}
		s.m = newSchedMetrics(s.Registerer)
	}
	l, err := openLedger(filepath.Join(s.Archive.Dir, "deliveries.json"))
	if err != nil {
		return err
	}
	s.ledger = l
	return nil
}

// Run makes and delivers digests until ctx ends. A ledger that cannot be
// read (corrupt, too big) stops the digests, not the caller: Run logs why
// every Retry and goes on once it reads (moved away: every digest then
// starts with its next period).
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		if err := s.init(); err != nil {
			if s.waitFor == nil { // not even the defaults
				return err
			}
			for _, d := range s.Digests {
				s.m.failures.WithLabelValues(Slug(d.Name)).Inc()
			}
			s.Log.Error("no digest is made or delivered until the ledger reads", "retry_in", s.Retry, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(s.Retry):
			}
			continue
		}
		break
	}
	for {
		if err := s.Tick(ctx); err != nil {
			return err
		}
		next := s.Now().Add(time.Minute)
		for _, d := range s.Digests {
			if t, err := d.Next(s.Now()); err == nil && t.Add(s.Delay).Before(next) {
				next = t.Add(s.Delay)
			}
		}
		timer := time.NewTimer(max(time.Until(next), time.Second))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Tick makes and delivers every period that is due; Run calls it. Its
// error is only the ledger's: a digest that fails is logged and retried.
func (s *Scheduler) Tick(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	now := s.Now()
	for _, d := range s.Digests {
		if ctx.Err() != nil {
			return nil
		}
		slug := Slug(d.Name)
		if now.Before(s.waitFor[slug]) {
			continue
		}
		if err := s.catchUp(ctx, d, now); err != nil {
			s.m.failures.WithLabelValues(slug).Inc()
			s.fails[slug]++
			wait := min(s.Retry, 15*time.Second<<min(s.fails[slug]-1, 20))
			s.waitFor[slug] = now.Add(wait)
			level := slog.LevelWarn // a process's first minute: the tables may not be there yet
			if s.fails[slug] > 2 {
				level = slog.LevelError
			}
			s.Log.Log(ctx, level, "digest not delivered; trying again later", "digest", d.Name, "retry_in", wait, "failures", s.fails[slug], "err", err)
			continue
		}
		s.fails[slug] = 0
	}
	return nil
}

// catchUp delivers each period of d that ended after the last one done
// and at least Delay before now.
func (s *Scheduler) catchUp(ctx context.Context, d Digest, now time.Time) error {
	slug := Slug(d.Name)
	cursor, ok := s.ledger.cursor(slug)
	if !ok { // a new digest starts with its next period
		return s.ledger.setCursor(slug, now)
	}
	if cursor.After(now.Add(maxClockAhead)) {
		// The clock ran ahead when the cursor was set (or has stepped back
		// since): waiting for it to catch up would leave the digest silent,
		// and its last-period metric in the future, for as long. Start
		// again from the latest period due, and forget the periods the
		// wrong clock made of a time still to come: they are made again
		// when due. One the ledger has as sent is not sent again.
		runs := d
		runs.Period = 0 // the time between runs
		since, _, err := runs.Window(now.Add(-s.Delay))
		if err != nil {
			since = now
		}
		s.Log.Error("the digest ledger is ahead of the clock: starting again from the latest period due", "digest", d.Name, "ledger", cursor, "now", now)
		if err := s.ledger.rewind(slug, since, now); err != nil {
			return err
		}
		cursor = since
	}
	var ends []time.Time
	for t, err := d.Next(cursor); !t.IsZero() && !t.After(now.Add(-s.Delay)); t, err = d.Next(t) {
		if err != nil {
			return err
		}
		ends = append(ends, t)
		if len(ends) > 1000 {
			ends = ends[len(ends)-MaxCatchUp:]
		}
	}
	if len(ends) > MaxCatchUp {
		s.Log.Warn("digest periods missed while stopped: making the latest only", "digest", d.Name, "missed", len(ends)-MaxCatchUp, "from", ends[0], "to", ends[len(ends)-MaxCatchUp-1])
		ends = ends[len(ends)-MaxCatchUp:]
	}
	for _, end := range ends {
		if err := s.deliver(ctx, d, end); err != nil {
			return fmt.Errorf("period ending %s: %w", end.Format(time.RFC3339), err)
		}
		if err := s.ledger.setCursor(slug, end); err != nil {
			return err
		}
		s.m.last.WithLabelValues(slug).Set(float64(end.Unix()))
	}
	return nil
}

// maxClockAhead is how far the ledger's cursor may be ahead of the clock
// (a clock stepped back a little) before the scheduler takes it as the
// mark of a clock that ran ahead and starts again from the present.
const maxClockAhead = time.Hour

// MessageID is the Message-ID of a digest's email for the period ending
// at until: the same on every try.
func MessageID(slug string, until time.Time) string {
	return "digest." + slug + "." + PeriodID(until) + "@earshot"
}

// deliver makes, archives and sends one period, skipping the steps the
// ledger says are done.
func (s *Scheduler) deliver(ctx context.Context, d Digest, end time.Time) error {
	slug, period := Slug(d.Name), PeriodID(end)
	key := slug + "/" + period
	var steps []string
	if len(d.Audience.Emails) > 0 {
		steps = append(steps, "email")
	}
	for _, c := range d.Audience.Channels {
		steps = append(steps, "chat:"+c)
	}
	if s.ledger.done(key, steps) {
		return nil
	}
	p, err := s.Produce(ctx, d, end)
	if err != nil {
		return err
	}
	if _, err := WriteDir(s.Archive.Path(slug, period), p.Report, p.Loc, p.Rendered, p.PDF); err != nil {
		return fmt.Errorf("archiving: %w", err)
	}
	if err := s.Archive.Prune(slug, s.Keep); err != nil {
		s.Log.Warn("pruning the digest archive", "digest", d.Name, "err", err)
	}
	for _, step := range steps {
		if s.ledger.state(key, step) == "sent" {
			continue
		}
		if err := s.ledger.mark(key, step, "sending"); err != nil {
			return err
		}
		var err error
		if step == "email" {
			err = s.Send.SendEmail(ctx, emailChannel(d, s.Channels), s.mail(d, p))
		} else {
			ch := strings.TrimPrefix(step, "chat:")
			err = s.Send.SendText(ctx, ch, s.chat(p, s.Channels[ch]))
		}
		if err != nil {
			s.ledger.mark(key, step, "failed")
			return fmt.Errorf("%s: %w", step, err)
		}
		if err := s.ledger.mark(key, step, "sent"); err != nil {
			return err
		}
		s.m.sent.WithLabelValues(slug, strings.SplitN(step, ":", 2)[0]).Inc()
		s.Log.Info("digest delivered", "digest", d.Name, "period", period, "to", step)
	}
	return nil
}

func emailChannel(d Digest, kinds map[string]string) string {
	c, _ := d.Audience.emailChannel(kinds)
	return c
}

// Mail is the digest's email: text and HTML, the chart inline, the PDF and
// the CSVs attached.
func Mail(slug string, p *Produced, to []string) notify.Mail {
	r := p.Rendered
	m := notify.Mail{To: to, Subject: r.Subject, Text: r.Text, HTML: r.Email, MessageID: MessageID(slug, p.Report.Until)}
	if r.Chart != nil {
		m.Inline = append(m.Inline, notify.Attachment{Name: ChartCID, ContentType: "image/png", Data: r.Chart})
	}
	if p.PDF != nil {
		m.Attached = append(m.Attached, notify.Attachment{Name: slug + "-" + PeriodID(p.Report.Until) + ".pdf", ContentType: "application/pdf", Data: p.PDF})
	}
	for _, name := range slices.Sorted(maps.Keys(r.CSV)) {
		m.Attached = append(m.Attached, notify.Attachment{Name: name, ContentType: "text/csv", Data: r.CSV[name]})
	}
	return m
}

func (s *Scheduler) mail(d Digest, p *Produced) notify.Mail {
	return Mail(Slug(d.Name), p, d.Audience.Emails)
}

// chat is the Slack or Teams text: the summary and a link to the page.
func (s *Scheduler) chat(p *Produced, kind string) string {
	text := p.Rendered.Summary
	switch kind {
	case "slack":
		text = notify.EscapeSlack(text)
	case "teams":
		text = notify.EscapeMarkdown(text) // the spike's terms are any team's keywords
	}
	if s.BaseURL != "" {
		link := strings.TrimRight(s.BaseURL, "/") + "/v1/digests/" + p.Report.Slug + "/" + PeriodID(p.Report.Until) + "/" + FileHTML
		if kind == "slack" {
			return text + "<" + link + "|Open the digest>"
		}
		return text + "[Open the digest](" + link + ")"
	}
	return text + "Archived as " + p.Report.Key() + " (earshot digest list)."
}

// ledger is the durable record of deliveries: per digest the end of the
// last period done, per (digest, period) the state of each step.
type ledger struct {
	path string
	mu   sync.Mutex
	st   ledgerState
}

type ledgerState struct {
	Cursors map[string]time.Time         `json:"cursors"`
	Steps   map[string]map[string]string `json:"steps"` // slug/period → step → sending|sent|failed
}

// maxLedgerPeriods bounds the periods remembered per digest.
const maxLedgerPeriods = 100

// maxLedgerBytes bounds the ledger read: MaxDigests × maxLedgerPeriods
// periods of a few steps each are well under it.
const maxLedgerBytes = 64 << 20

func openLedger(path string) (*ledger, error) {
	l := &ledger{path: path, st: ledgerState{Cursors: map[string]time.Time{}, Steps: map[string]map[string]string{}}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, os.MkdirAll(filepath.Dir(path), 0o750)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLedgerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxLedgerBytes {
		return nil, fmt.Errorf("%s: over %d bytes (move it away to start afresh: every digest then starts with its next period)", path, maxLedgerBytes)
	}
	if err := json.Unmarshal(b, &l.st); err != nil {
		return nil, fmt.Errorf("%s: %w (move it away to start afresh: every digest then starts with its next period)", path, err)
	}
	if l.st.Cursors == nil {
		l.st.Cursors = map[string]time.Time{}
	}
	if l.st.Steps == nil {
		l.st.Steps = map[string]map[string]string{}
	}
	return l, nil
}

func (l *ledger) cursor(slug string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.st.Cursors[slug]
	return t, ok
}

func (l *ledger) setCursor(slug string, t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.Cursors[slug] = t.UTC()
	return l.save()
}

func (l *ledger) state(key, step string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.Steps[key][step]
}

func (l *ledger) done(key string, steps []string) bool {
	for _, s := range steps {
		if l.state(key, s) != "sent" {
			return false
		}
	}
	return true
}

func (l *ledger) mark(key, step, state string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st.Steps[key] == nil {
		l.st.Steps[key] = map[string]string{}
		l.prune(key)
	}
	l.st.Steps[key][step] = state
	return l.save()
}

// rewind sets slug's cursor back to cursor and forgets the steps of its
// periods ending after now.
func (l *ledger) rewind(slug string, cursor, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.st.Steps {
		s, period, _ := strings.Cut(k, "/")
		if end, err := time.Parse(periodLayout, period); s == slug && err == nil && end.After(now) {
			delete(l.st.Steps, k)
		}
	}
	l.st.Cursors[slug] = cursor.UTC()
	return l.save()
}

// prune keeps the newest maxLedgerPeriods periods of key's digest.
func (l *ledger) prune(key string) {
	slug, _, _ := strings.Cut(key, "/")
	var keys []string
	for k := range l.st.Steps {
		if strings.HasPrefix(k, slug+"/") {
			keys = append(keys, k)
		}
	}
	if len(keys) <= maxLedgerPeriods {
		return
	}
	slices.Sort(keys) // period IDs sort by time
	for _, k := range keys[:len(keys)-maxLedgerPeriods] {
		delete(l.st.Steps, k)
	}
}

func (l *ledger) save() error {
	b, err := json.MarshalIndent(l.st, "", " ")
	if err != nil {
		return err
	}
	return durable.WriteFile(l.path, b, 0o640)
}
