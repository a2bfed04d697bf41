package sink

import (
	"strings"
	"testing"
	"time"
)

// Every runtime read is rendered, with every argument bound, and names
// the database it was given.
func TestRuntimeStatements(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	got, err := RuntimeStatements("earshot", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alerts.latest.1", "alerts.latest.2", "alerts.latest.cluster.1", "alerts.latest.cluster.2", "alerts.find", "alerts.find.cluster", "alerts.desk_events", "alerts.desk_events_since", "alerts.desk_counts.1", "alerts.desk_counts.2",
		"alerts.desk_counts.3", "alerts.desk_counts.4", "alerts.desk_counts.cluster.1", "alerts.desk_counts.cluster.2",
		"alerts.desk_counts.cluster.3", "alerts.desk_counts.cluster.4", "escalations.overdue", "sink.deleted_matches", "sink.post_sources",
		"sink.stored_alerts", "schema.version", "schema.columns", "schema.server_version", "schema.ttl_read"} {
		q, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if strings.Contains(q, "?") && !strings.Contains(q, "'?") {
			t.Errorf("%s: a placeholder left: %s", name, q)
		}
		if name != "schema.server_version" && !strings.Contains(q, "earshot.") && !strings.Contains(q, "'earshot'") {
			t.Errorf("%s does not name the database: %s", name, q)
		}
	}
	if len(got) != 24 {
		t.Errorf("%d statements, want 24: %v", len(got), got)
	}
	if q := got["alerts.desk_counts.2"]; !strings.Contains(q, "toDateTime('2026-12-06 09:00:00', 'UTC')") || !strings.Contains(q, "toDateTime('2026-12-07 09:00:00', 'UTC')") {
		t.Errorf("desk_counts.2 does not bind since and now: %s", q)
	}
	if q := got["alerts.find.cluster"]; !strings.Contains(q, "GLOBAL ANY LEFT JOIN") {
		t.Errorf("find.cluster has no GLOBAL join: %s", q)
	}
	if q := got["alerts.latest.cluster.2"]; !strings.Contains(q, "GLOBAL ANY LEFT JOIN") || !strings.Contains(q, "alert_id GLOBAL IN (") {
		t.Errorf("latest.cluster has no GLOBAL join or IN: %s", q)
	}
}

func TestRuntimeBatches(t *testing.T) {
	got, err := RuntimeBatches("earshot", time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alerts.add_event":      "INSERT INTO earshot.alert_events (" + alertEventColumns + ")",
		"alerts.add_desk_event": "INSERT INTO earshot.alert_events (" + deskEventColumns + ")",
		"audit.insert":          "INSERT INTO earshot.audit_log (" + auditColumns + ")",
		"escalations.mark":      "INSERT INTO earshot.alert_events (" + alertEventColumns + ")",
		"sink.deleted_matches":  "INSERT INTO earshot.deleted_matches (post_key, created_at, watchlist, region, sentiment_label, keywords)",
	}
	if len(got) != len(want) {
		t.Errorf("%d batches, want %d: %v", len(got), len(want), got)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
}
