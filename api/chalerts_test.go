package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// fakeTable is an AlertTable in memory, newest first. reads counts the
// queries a ClickHouse table would run.
type fakeTable struct {
	rows   []sink.AlertRow
	events []string
	desk   []sink.DeskEventRow
	err    error
	reads  int
}

func (f *fakeTable) FindDesk(ctx context.Context, queue, id string) (sink.AlertRow, []sink.DeskEventRow, bool, error) {
	r, found, err := f.Find(ctx, queue, id)
	if !found || err != nil {
		return r, nil, found, err
	}
	events, err := f.DeskEvents(ctx, queue, []string{id})
	f.reads--
	return r, events[id], true, err
}

func (f *fakeTable) AddDeskEvent(_ context.Context, r sink.DeskEventRow) error {
	if f.err == nil {
		f.desk = append(f.desk, r)
	}
	return f.err
}

func (f *fakeTable) DeskEvents(_ context.Context, queue string, ids []string) (map[string][]sink.DeskEventRow, error) {
	f.reads++
	out := map[string][]sink.DeskEventRow{}
	for _, r := range f.desk {
		if r.Queue == queue && slices.Contains(ids, r.AlertID) {
			out[r.AlertID] = append(out[r.AlertID], r)
		}
	}
	return out, f.err
}

func (f *fakeTable) Latest(_ context.Context, queue string, offset, limit int) ([]sink.AlertRow, error) {
	f.reads++
	var out []sink.AlertRow
	for _, r := range f.rows {
		if r.Queue == queue {
			out = append(out, r)
		}
	}
	out = out[min(offset, len(out)):]
	return out[:min(limit, len(out))], f.err
}

func (f *fakeTable) Find(_ context.Context, queue, id string) (sink.AlertRow, bool, error) {
	f.reads++
	for _, r := range f.rows {
		if r.Queue == queue && r.ID == id {
			return r, true, f.err
		}
	}
	return sink.AlertRow{}, false, f.err
}

func (f *fakeTable) AddEvent(_ context.Context, id, queue, event, actor string, at time.Time, note string) error {
	f.events = append(f.events, fmt.Sprintf("%s %s %s %s %s %s", id, queue, event, actor, at.Format(time.RFC3339), note))
	return f.err
}

func TestCHAlertsOverTheSinkTable(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 500, time.UTC)
	acked := now.Add(-time.Hour)
	tab := &fakeTable{rows: []sink.AlertRow{
		{ID: "a3", Queue: "care", Payload: `{"post":{}}`, CreatedAt: now},
		{ID: "a2", Queue: "care", Payload: "not json", AcknowledgedAt: acked, AcknowledgedBy: "sam"},
		{ID: "a1", Queue: "care"},
		{ID: "p1", Queue: "pr"},
	}}
	c := &CHAlerts{Table: tab, Now: func() time.Time { return now }}
	page, more, err := c.List(context.Background(), "care", 0, 2)
	if err != nil || !more || len(page) != 2 || page[0].ID != "a3" || string(page[0].Item) != `{"post":{}}` || page[1].Item != nil {
		t.Fatalf("page 1: %+v more=%v err=%v", page, more, err)
	}
	if page, more, _ = c.List(context.Background(), "care", 2, 2); more || len(page) != 1 || page[0].ID != "a1" {
		t.Fatalf("page 2: %+v more=%v", page, more)
	}
	a, err := c.Ack(context.Background(), "care", "a3", "rita", "on it")
	if err != nil || a.AcknowledgedBy != "rita" || !a.AcknowledgedAt.Equal(now.Truncate(time.Second)) {
		t.Fatalf("ack: %+v %v", a, err)
	}
	if a, err = c.Ack(context.Background(), "care", "a2", "rita", ""); err != nil || a.AcknowledgedBy != "sam" {
		t.Fatalf("ack of an acknowledged alert: %+v %v", a, err)
	}
	if _, err = c.Ack(context.Background(), "pr", "a1", "rita", ""); !errors.Is(err, ErrAlertNotFound) {
		t.Fatalf("ack in another queue: %v", err)
	}
	want := "a3 care acknowledged rita 2026-12-07T03:00:00Z on it"
	if len(tab.events) != 1 || tab.events[0] != want {
		t.Fatalf("events %q, want [%q]", tab.events, want)
	}
	tab.err = errors.New("clickhouse down")
	if _, _, err := c.List(context.Background(), "care", 0, 2); err == nil {
		t.Fatal("List hid the table's error")
	}
}

// TestCHAlertsReadsOnce: a desk action reads the alert and its events in
// one query (each query is a round trip to ClickHouse and a read of the
// alert's granules), and reads the events again only after a write that
// may race another replica's (claim, assign, unclaim, snooze, resolve,
// reopen); a note, a link and a read of one alert read once.
func TestCHAlertsReadsOnce(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	tab := &fakeTable{rows: []sink.AlertRow{{ID: "a1", Queue: "care"}}}
	c := &CHAlerts{Table: tab, Now: func() time.Time { return now }}
	ctx := context.Background()
	for _, s := range []struct {
		name  string
		do    func() error
		reads int
	}{
		{"get", func() error { _, err := c.Get(ctx, "care", "a1"); return err }, 1},
		{"note", func() error {
			_, _, err := c.Act(ctx, "care", "a1", DeskEvent{Action: ActNote, Actor: "rita", At: now, Text: "x"}, false)
			return err
		}, 1},
		{"link", func() error {
			_, _, err := c.Act(ctx, "care", "a1", DeskEvent{Action: ActLink, Actor: "rita", At: now, URL: "https://x.com/a/status/1"}, false)
			return err
		}, 1},
		{"claim", func() error {
			_, _, err := c.Act(ctx, "care", "a1", DeskEvent{Action: ActClaim, Actor: "rita", At: now}, false)
			return err
		}, 2},
		{"claim again (a no-op: no write, no re-read)", func() error {
			_, _, err := c.Act(ctx, "care", "a1", DeskEvent{Action: ActClaim, Actor: "rita", At: now}, false)
			return err
		}, 1},
		{"resolve", func() error {
			_, _, err := c.Act(ctx, "care", "a1", DeskEvent{Action: ActResolve, Actor: "rita", At: now, Outcome: "replied"}, false)
			return err
		}, 2},
		{"ack", func() error { _, err := c.Ack(ctx, "care", "a1", "rita", ""); return err }, 1},
	} {
		tab.reads = 0
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if tab.reads != s.reads {
			t.Errorf("%s: %d reads, want %d", s.name, tab.reads, s.reads)
		}
	}
}

// TestCHAlertsMarketScopeReadsOnce: a market-scoped responder's action on
// ClickHouse reads the alert once — the market is checked on the read the
// action makes, not on a read of its own before it (which cost a second
// FindDesk, ≈ 10 ms of the server's CPU, per action) — and an alert of
// another market is still not found, with nothing written.
func TestCHAlertsMarketScopeReadsOnce(t *testing.T) {
	tab := &fakeTable{rows: []sink.AlertRow{{ID: "a1", Queue: "care", Market: "DACH"}, {ID: "a2", Queue: "care", Market: "Nordics"}, {ID: "a3", Queue: "care"}}}
	e := newEnv(t, func(c *Config, d *Deps) {
		d.Alerts = &CHAlerts{Table: tab}
		d.Queues = map[string]QueueInfo{"care": {Team: "care-emea", Region: "EMEA"}}
	})
	_, secret, err := e.tokens.Create(NewToken{Name: "maria", Role: Responder, Scope: Scope{Markets: []string{"dach"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tok["responder-dach"] = secret
	for _, s := range []struct {
		path        string
		body        string
		code, reads int
	}{
		{"/v1/queues/care/alerts/a1/notes", `{"text":"on it"}`, 200, 1},
		{"/v1/queues/care/alerts/a1/claim", "", 200, 2}, // the read, and the re-read after the write
		{"/v1/queues/care/alerts/a1/ack", "", 200, 1},
		{"/v1/queues/care/alerts/a2/notes", `{"text":"not mine"}`, 404, 1},
		{"/v1/queues/care/alerts/a2/claim", "", 404, 1},
		{"/v1/queues/care/alerts/a2/ack", "", 404, 1},
		{"/v1/queues/care/alerts/a3/resolve", `{"outcome":"replied"}`, 404, 1}, // an alert of no market
		{"/v1/queues/care/alerts/a9/notes", `{"text":"none"}`, 404, 1},
	} {
		tab.reads = 0
		r := e.do("responder-dach", "POST", s.path, s.body)
		if r.code != s.code || tab.reads != s.reads {
			t.Errorf("%s: %d after %d reads, want %d after %d: %s", s.path, r.code, tab.reads, s.code, s.reads, r.body)
		}
	}
	for _, r := range tab.desk {
		if r.AlertID != "a1" {
			t.Errorf("an event written on %s, of a market the caller does not see: %+v", r.AlertID, r)
		}
	}
	for _, ev := range tab.events {
		if !strings.HasPrefix(ev, "a1 ") {
			t.Errorf("an event written outside the caller's market: %s", ev)
		}
	}
	if len(tab.desk) != 2 || len(tab.events) != 1 {
		t.Errorf("%d desk events, %d acks on a1, want 2 and 1", len(tab.desk), len(tab.events))
	}
}

// TestCHAlertsAckAnswersTheDesk: an acknowledgement on ClickHouse answers
// the alert with its desk, as the in-memory store's does (and as every
// other answer on the alert does): acknowledging an alert rita holds says
// it is claimed by rita. It answered "new", with no holder, notes or
// links, since Ack built its answer from the alert's row alone.
func TestCHAlertsAckAnswersTheDesk(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	tab := &fakeTable{rows: []sink.AlertRow{{ID: "a1", Queue: "care"}, {ID: "a2", Queue: "care", AcknowledgedAt: now.Add(-time.Hour), AcknowledgedBy: "sam"}}}
	c := &CHAlerts{Table: tab, Now: func() time.Time { return now }}
	ctx := context.Background()
	for _, id := range []string{"a1", "a2"} {
		if _, _, err := c.Act(ctx, "care", id, DeskEvent{Action: ActClaim, Actor: "rita", At: now}, false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Act(ctx, "care", id, DeskEvent{Action: ActNote, Actor: "rita", At: now, Text: "on it"}, false); err != nil {
			t.Fatal(err)
		}
		tab.reads = 0
		a, err := c.Ack(ctx, "care", id, "sam", "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" || len(a.Desk.Notes) != 1 || a.AcknowledgedBy == "" {
			t.Errorf("ack of %s answered %+v acknowledged by %q, want claimed by rita with one note", id, a.Desk, a.AcknowledgedBy)
		}
		if tab.reads != 1 {
			t.Errorf("ack of %s: %d reads, want 1", id, tab.reads)
		}
	}
	// The in-memory store answers the same.
	m := NewMemAlerts(10)
	m.Add(Alert{ID: "a1", Queue: "care", CreatedAt: now})
	if _, _, err := m.Act(ctx, "care", "a1", DeskEvent{Action: ActClaim, Actor: "rita", At: now}, false); err != nil {
		t.Fatal(err)
	}
	if a, err := m.Ack(ctx, "care", "a1", "sam", ""); err != nil || a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" {
		t.Fatalf("in memory: %+v %v", a.Desk, err)
	}
}
