//go:build integration

package pipeline

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// TestRuntimeStatementsOn1816 runs every statement of migrate --print's
// "runtime" (rendered by the recording connection, arguments bound as
// literals) on the shared ClickHouse 18.16, over a fresh schema with an
// alert and a desk claim: what sqlcheck.py checks on a current release
// must hold on the oldest one earshot supports, and the desk counts must
// be those of the rows.
func TestRuntimeStatementsOn1816(t *testing.T) {
	ctx := context.Background()
	conn, err := sink.Open(sink.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("runtime_itest_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	if _, err := sink.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO " + db + ".alerts (alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at) SELECT concat('al', toString(n)), 'care', 'care-team', 'P1', 'r', 'p:1', ['acme'], 'EMEA', '', 1, 0, 0, '', 0, now() - 7200, if(n = 1, now() - 3600, now() + 3600), '{}', now() FROM (SELECT arrayJoin([1, 2]) AS n)",
		"INSERT INTO " + db + ".alert_events (alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at) SELECT 'al2', 'care', 'desk.claim:e1', 'ann', now() - 7000, '', 'e1', 1, 'ann', '', toDateTime(0), '', now()",
	} { // INSERT ... SELECT: 18.16 hangs on an INSERT ... VALUES through Exec
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	spec, err := SchemaSpec(db)
	if err != nil {
		t.Fatal(err)
	}
	runtime := spec["runtime"].(map[string]string)
	names := make([]string, 0, len(runtime))
	for name := range runtime {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rows, err := conn.Query(ctx, runtime[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var got []string
		if name == "alerts.desk_counts.1" || name == "alerts.desk_counts.cluster.1" {
			for rows.Next() {
				var queue, state string
				var n uint64
				if err := rows.Scan(&queue, &state, &n); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s/%s/%d", queue, state, n))
			}
			sort.Strings(got)
			if fmt.Sprint(got) != "[care/claimed/1 care/new/1]" {
				t.Errorf("%s: %v, want [care/claimed/1 care/new/1]", name, got)
			}
		} else {
			for rows.Next() {
			}
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		rows.Close()
	}
	t.Logf("%d runtime statements ran", len(names))
}
