//go:build integration

package insights

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// TestSLAFiguresAgreeOn1816: every SLA figure — the cookbook's
// sla_compliance (the dashboard's panel), markets_alerts_sla, the digests'
// digest_alerts, desk_sla, overdue_alerts (the dashboard's list) and the
// desk's own count (sink DeskCounts, which feeds the earshot_alerts_*
// metrics) — takes the first response to be the
// first claim, assignment, resolve or acknowledgement (docs/desk.md#sla-clocks).
func TestSLAFiguresAgreeOn1816(t *testing.T) {
	conn := openCH(t, "default", "")
	ctx := context.Background()
	db := fmt.Sprintf("insights_sla_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
	})
	if _, err := (sink.Config{Database: db}).Schema().Migrate(ctx, conn, nil); err != nil {
		t.Fatal(err)
	}
	const m = time.Minute
	created := at(1 * h)
	due := created.Add(15 * m)
	// Four legal alerts due 15 minutes after they were raised.
	ids := []string{"claimed", "acked_late", "unanswered", "resolved"}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".alerts ("+sink.InsertColumns()["alerts"]+")")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := b.Append(id, "legal", "legal-team", "P1", "rule", "x:"+id, []string{"acme"}, "EMEA",
			"", uint32(0), uint8(0), uint8(0), "", uint8(0), created.UTC(), due.UTC(), "{}", at(50*h), "DACH"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	deskCols := "alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at"
	events := []struct {
		alert, event string
		at           time.Time
	}{
		{"claimed", "desk.claim:e1", created.Add(1 * m)},    // claimed in time, never acknowledged: met
		{"acked_late", "acknowledged", created.Add(30 * m)}, // acknowledged after the deadline: breached
		// unanswered: breached
		{"resolved", "desk.resolve:e2", created.Add(10 * m)}, // resolved in time without a claim: met
		{"resolved", "acknowledged", created.Add(40 * m)},    // a late acknowledgement changes nothing
	}
	for range 2 { // redelivered
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".alert_events ("+deskCols+")")
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range events {
			if err := b.Append(e.alert, "legal", e.event, "ann", e.at.UTC(), "", fmt.Sprintf("e%d", i), uint64(e.at.UnixNano()),
				"", "", time.Unix(0, 0).UTC(), "", at(50*h)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}

	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	asOf := "2026-11-12T00:00:00Z"
	p := with(map[string]string{"as_of": asOf}, "since", "until")
	for _, tc := range []struct {
		query  string
		params map[string]string
		want   []string
	}{
		// queue | region | with_sla | met | breached | pending | compliance
		{"sla_compliance", p, []string{"legal | EMEA | 4 | 2 | 2 | 0 | 0.5"}},
		// region | market | alerts | with_sla | met | breached | pending | compliance
		{"markets_alerts_sla", p, []string{"EMEA | DACH | 4 | 4 | 2 | 2 | 0 | 0.5"}},
		// queue | alerts | spikes | with_sla | met | breached | pending | compliance
		{"digest_alerts", p, []string{"legal | 4 | 0 | 4 | 2 | 2 | 0 | 0.5"}},
		// queue | alerts | open | claimed | resolved | with_sla | first_response_breached | resolve_breached
		{"desk_sla", with(map[string]string{"as_of": asOf, "resolve_within": "1h"}, "since", "until"), []string{"legal | 4 | 2 | 1 | 1 | 4 | 2 | 3"}},
		// Open past the deadline: only the one nobody answered.
		{"overdue_alerts", map[string]string{"as_of": asOf}, []string{"unanswered | legal | legal-team | P1 | EMEA | 2026-11-10 01:00:00 | 2026-11-10 01:15:00 | 168300"}},
		// The lifecycle counts a resolve on the desk (desk.resolve:<id>,
		// what the API writes) as resolved.
		// queue | created | acknowledged | escalated | retracted | resolved
		{"alert_events_by_queue", with(nil, "since", "until"), []string{"legal | 0 | 2 | 0 | 0 | 1"}},
		// Judged before any deadline: the two answered in time are met
		// already, the two unanswered pending.
		{"sla_compliance", with(map[string]string{"as_of": "2026-11-10T01:12:00Z"}, "since", "until"), []string{"legal | EMEA | 4 | 2 | 0 | 2 | 1"}},
	} {
		got, err := c.Run(ctx, conn, db, tc.query, tc.params)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if rows := render(got); !slices.Equal(rows, tc.want) {
			t.Errorf("%s %v:\n got %q\nwant %q", tc.query, tc.params, rows, tc.want)
		}
	}

	// The desk's own breach list (the earshot_alerts_* metrics).
	tables := &sink.AlertTables{Conn: conn, DB: db}
	counts, err := tables.DeskCounts(ctx, sink.DeskQuery{Since: t0, Now: at(48 * h), BreachedFrom: t0, MaxBreached: 10})
	if err != nil {
		t.Fatal(err)
	}
	var breached []string
	for _, k := range counts.Breached {
		breached = append(breached, k.ID)
	}
	slices.Sort(breached)
	if want := []string{"acked_late", "unanswered"}; !slices.Equal(breached, want) {
		t.Errorf("DeskCounts breached %q, want %q", breached, want)
	}
}
