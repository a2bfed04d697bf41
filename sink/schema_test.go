package sink

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/earshot-dev/earshot/strictyaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The cluster rendering of the whole schema is kept as a golden file, so a
// change to it shows in review; sqlcheck parses it on a current engine.
func TestClusterRenderingGolden(t *testing.T) {
	s := Schema{DB: "earshot", Cluster: "prod", Retention: Retention{"posts": "90d", "terms_daily": "36h"}}
	got := strings.Join(append(s.Statements(), s.RetentionStatements()...), ";\n\n") + ";\n"
	path := "testdata/cluster.sql"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("cluster rendering differs from %s (run go test ./sink -update after checking the change)", path)
	}
}

func TestClusterRendering(t *testing.T) {
	single := Schema{DB: "db"}.Statements()
	cluster := Schema{DB: "db", Cluster: "c"}.Statements()
	for _, q := range single {
		if strings.Contains(q, "{") && !strings.Contains(q, "'{}'") {
			t.Errorf("placeholder left in %s", q)
		}
		if strings.Contains(q, "ON CLUSTER") || strings.Contains(q, "_local") || strings.Contains(q, "GLOBAL") || strings.Contains(q, "Replicated") {
			t.Errorf("cluster syntax on a single server: %s", q)
		}
	}
	has := func(want string) {
		t.Helper()
		for _, q := range cluster {
			if strings.Contains(q, want) {
				return
			}
		}
		t.Errorf("no cluster statement contains %q", want)
	}
	has("CREATE DATABASE IF NOT EXISTS db ON CLUSTER c")
	has("CREATE TABLE IF NOT EXISTS db.posts_local ON CLUSTER c (")
	has("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/posts_local', '{replica}', inserted_at)")
	has("ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/db/mentions_hourly_agg_local', '{replica}')")
	has("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/schema_migrations_local', '{replica}')")
	has("CREATE TABLE IF NOT EXISTS db.posts ON CLUSTER c AS db.posts_local ENGINE = Distributed(c, db, posts_local, cityHash64(post_key))")
	has("CREATE TABLE IF NOT EXISTS db.alerts ON CLUSTER c AS db.alerts_local ENGINE = Distributed(c, db, alerts_local, cityHash64(alert_id))")
	has("ALTER TABLE db.posts_local ON CLUSTER c\n")
	// A Distributed table is not altered (ClickHouse refuses ALTER … ON
	// CLUSTER of one where shards replicate internally) but made again.
	has("DROP TABLE IF EXISTS db.posts ON CLUSTER c")
	for i, q := range cluster {
		if strings.HasPrefix(q, "ALTER TABLE") && !shardLocalAlter.MatchString(q) {
			t.Errorf("an ALTER of a table that is not shard-local: %s", q)
		}
		if strings.HasPrefix(q, "DROP TABLE IF EXISTS db.posts ON") && (i+1 >= len(cluster) || !strings.HasPrefix(cluster[i+1], "CREATE TABLE IF NOT EXISTS db.posts ON CLUSTER c AS db.posts_local ENGINE = Distributed(")) {
			t.Errorf("the Distributed posts dropped and not made again right after")
		}
	}
	has("TO db.mentions_hourly_agg_local AS")
	has("FROM db.matches_local\n")
	has("post_key GLOBAL NOT IN (SELECT post_key FROM db.deletions)")
	has("GLOBAL ANY LEFT JOIN")
	has("CREATE TABLE IF NOT EXISTS db.volume_in_local ON CLUSTER c (")
	for _, q := range cluster {
		if strings.Contains(q, "ENGINE = Null") && strings.Contains(q, "Replicated") {
			t.Errorf("a Null table made replicated: %s", q)
		}
		if strings.HasPrefix(q, "CREATE TABLE") && strings.Contains(q, "Distributed") && strings.Contains(q, "_local_local") {
			t.Errorf("doubled suffix: %s", q)
		}
	}
	// Every table of the single-server schema has a Distributed table of
	// the same name in cluster mode, so queries and inserts are unchanged.
	for _, q := range single {
		if m := strings.Fields(q); len(m) > 5 && m[0] == "CREATE" && m[1] == "TABLE" {
			has("CREATE TABLE IF NOT EXISTS " + m[5] + " ON CLUSTER c AS " + m[5] + "_local ENGINE = Distributed(")
		}
	}
	// TTLs go on the shard-local tables only.
	ttl := Schema{DB: "db", Cluster: "c", Retention: Retention{"mentions_hourly": "400d"}}.RetentionStatements()
	if len(ttl) != 1 || ttl[0] != "ALTER TABLE db.mentions_hourly_agg_local ON CLUSTER c MODIFY TTL hour + INTERVAL 400 DAY" {
		t.Errorf("cluster TTL: %q", ttl)
	}
}

func TestRetentionValidate(t *testing.T) {
	for _, tc := range []struct {
		r    Retention
		want []string // substrings of the error; none for valid
	}{
		{Retention{"posts": "90d", "matches": "90d", "alert_events": "36h", "volume_per_minute": "400d"}, nil},
		{Retention{"posts": "90d", "matches": "90d", "alerts": "30d", "deletions": "90d"}, nil},
		{Retention{"post": "90d"}, []string{"sink.retention.post: not a table with retention"}},
		{Retention{"posts": "90"}, []string{`sink.retention.posts: "90", want a whole number`}},
		{Retention{"posts": "0d", "matches": "1w"}, []string{"sink.retention.matches", "sink.retention.posts"}},
		{Retention{"posts": "90d", "deletions": "30d"}, []string{"deletions: 30d is shorter than the retention of posts (90d)", "of matches (forever)"}},
	} {
		err := tc.r.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%v: %v", tc.r, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v: no error, want %q", tc.r, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %v, want it to mention %q", tc.r, err, w)
			}
		}
	}
	c := DefaultConfig()
	c.Enabled, c.Cluster, c.Retention = true, "a b", Retention{"x": "1d"}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "sink.cluster") || !strings.Contains(err.Error(), "sink.retention.x") {
		t.Errorf("config: %v, want both problems", err)
	}
}

func TestRetentionStatements(t *testing.T) {
	s := Schema{DB: "db", Retention: Retention{"posts": "90d", "alert_events": "36h", "terms_daily": "7d"}}
	got := s.RetentionStatements()
	want := []string{
		"ALTER TABLE db.alert_events MODIFY TTL at + INTERVAL 36 HOUR",
		"ALTER TABLE db.posts MODIFY TTL created_at + INTERVAL 90 DAY",
		"ALTER TABLE db.terms_daily_agg MODIFY TTL day + INTERVAL 7 DAY",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := s.ttlWanted(); w["alert_events"] != "TTL at + toIntervalHour(36)" || w["terms_daily_agg"] != "TTL day + toIntervalDay(7)" {
		t.Errorf("ttlWanted: %v", w)
	}
}

// TestRetentionOfAlertsKeepsTheirOrder: the alerts' retention is also
// alert_times' (migration 10) and alerts_desk's (migration 11), so neither
// the queue's order nor the desk's copy outlives the alerts.
func TestRetentionOfAlertsKeepsTheirOrder(t *testing.T) {
	s := Schema{DB: "db", Cluster: "c", Retention: Retention{"alerts": "30d"}}
	got := strings.Join(s.RetentionStatements(), "\n")
	want := "ALTER TABLE db.alerts_local ON CLUSTER c MODIFY TTL created_at + INTERVAL 30 DAY\n" +
		"ALTER TABLE db.alert_times_local ON CLUSTER c MODIFY TTL created_at + INTERVAL 30 DAY\n" +
		"ALTER TABLE db.alerts_desk_local ON CLUSTER c MODIFY TTL created_at + INTERVAL 30 DAY"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if w := s.ttlWanted(); w["alerts"] != "TTL created_at + toIntervalDay(30)" || w["alert_times"] != w["alerts"] || w["alerts_desk"] != w["alerts"] {
		t.Errorf("ttlWanted: %v", w)
	}
}

// TestAlertsDeskKeepsAlertsColumns: alerts_desk (migration 11) is a copy
// of alerts that the desk reads with SELECT *, fed by alerts_desk_mv. A
// later migration that adds a column to alerts and not to the copy (and
// to the view's SELECT) would leave the desk reading a table without it:
// the columns each table has after every migration, as the migrations'
// CREATE and ALTER … ADD COLUMN statements give them, must be the same,
// in the same order, and the view and the backfill must copy all of them.
func TestAlertsDeskKeepsAlertsColumns(t *testing.T) {
	cols := map[string][]string{} // table → its column definitions, in order
	var mvSelect string           // the latest alerts_desk_mv's column list
	var (
		create   = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)\{local\}\{on_cluster\} \((.*?)\n\s*\) ENGINE`)
		mv       = regexp.MustCompile(`(?s)^CREATE MATERIALIZED VIEW IF NOT EXISTS \{db\}\.alerts_desk_mv\{on_cluster\} TO \{db\}\.alerts_desk\{local\} AS\s+SELECT (.*?)\s+FROM \{db\}\.alerts\{local\}$`)
		backfill = regexp.MustCompile(`(?s)^INSERT INTO \{db\}\.alerts_desk \((.*?)\)\s+SELECT (.*?)\s+FROM \{db\}\.alerts$`)
		space    = regexp.MustCompile(`\s+`)
	)
	norm := func(s string) string { return space.ReplaceAllString(strings.TrimSpace(s), " ") }
	names := func(defs []string) string {
		var out []string
		for _, d := range defs {
			name, _, _ := strings.Cut(d, " ")
			out = append(out, name)
		}
		return strings.Join(out, ", ")
	}
	backfills := 0
	for _, m := range migrations {
		for _, q := range m.stmts {
			q = strings.TrimSpace(q)
			if c := create.FindStringSubmatch(q); c != nil {
				for _, d := range strings.Split(c[2], ",\n") {
					cols[c[1]] = append(cols[c[1]], norm(d))
				}
			}
			if a := alterTable.FindStringSubmatch(q); a != nil {
				i := strings.Index(q, "ADD COLUMN ")
				for _, d := range addColumn.Split(q[i+len("ADD COLUMN "):], -1) {
					cols[a[1]] = append(cols[a[1]], norm(d))
				}
			}
			if v := mv.FindStringSubmatch(q); v != nil {
				mvSelect = norm(v[1])
			}
			if b := backfill.FindStringSubmatch(q); b != nil {
				backfills++
				if norm(b[1]) != norm(b[2]) || norm(b[1]) != names(cols["alerts"]) {
					t.Errorf("migration %d: the backfill of alerts_desk copies (%s) from (%s); want alerts' columns (%s)", m.version, norm(b[1]), norm(b[2]), names(cols["alerts"]))
				}
			}
		}
	}
	if len(cols["alerts"]) < 19 || len(cols["alerts_desk"]) == 0 || mvSelect == "" || backfills != 1 {
		t.Fatalf("alerts %d columns, alerts_desk %d, view %q, %d backfills: the statements were not parsed", len(cols["alerts"]), len(cols["alerts_desk"]), mvSelect, backfills)
	}
	if got, want := strings.Join(cols["alerts_desk"], "\n"), strings.Join(cols["alerts"], "\n"); got != want {
		t.Errorf("alerts_desk's columns differ from alerts' (add a column to both, and to alerts_desk_mv):\nalerts_desk:\n%s\nalerts:\n%s", got, want)
	}
	if want := names(cols["alerts"]); mvSelect != want {
		t.Errorf("alerts_desk_mv copies %s; want every column of alerts: %s (drop the view and make it again with the new column)", mvSelect, want)
	}
}

func TestServerVersion(t *testing.T) {
	for _, tc := range []struct {
		in  string
		ttl bool
		bad bool
	}{
		{"18.16.1", false, false},
		{"19.5.3.8", false, false},
		{"19.6.2.11", true, false},
		{"26.9.2.1", true, false},
		{"20.1", true, false},
		{"eighteen", false, true},
		{"18", false, true},
	} {
		v, err := ParseServerVersion(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%s: err %v", tc.in, err)
			continue
		}
		if err == nil && v.HasTTL() != tc.ttl {
			t.Errorf("%s: HasTTL %v, want %v", tc.in, v.HasTTL(), tc.ttl)
		}
	}
}

func TestRejection(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&clickhouse.Exception{Code: 6, Message: "Cannot parse string 'x' as UInt64"}, true},
		{fmtWrap(&clickhouse.Exception{Code: 395, Message: "Value passed to 'throwIf' function is non zero"}), true},
		{&clickhouse.Exception{Code: 252, Message: "Too many partitions for single INSERT block (more than 100)"}, true},
		{&clickhouse.Exception{Code: 252, Message: "Too many parts (300). Merges are processing significantly slower than inserts"}, false},
		{&clickhouse.Exception{Code: 241, Message: "Memory limit (total) exceeded"}, false},
		{&clickhouse.Exception{Code: 60, Message: "Table db.posts doesn't exist"}, false},
		{&clickhouse.Exception{Code: 516, Message: "Authentication failed"}, false},
		{errors.New("read: connection reset by peer"), false},
		{errors.Join(&clickhouse.Exception{Code: 6, Message: "Cannot parse"}, errors.New("connection reset by peer")), false},
		{errors.Join(&clickhouse.Exception{Code: 6, Message: "Cannot parse"}, &clickhouse.Exception{Code: 53, Message: "Type mismatch"}), true},
		{os.ErrDeadlineExceeded, false},
	} {
		if got := Rejection(tc.err); got != tc.want {
			t.Errorf("Rejection(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func fmtWrap(err error) error { return fmt.Errorf("inserting 10 rows into posts: %w", err) }

func TestConfigFromYAML(t *testing.T) {
	c := DefaultConfig()
	err := strictyaml.Decode("sink.yaml", []byte("enabled: true\ncluster: prod\nretention:\n  posts: 90d\n  matches: 90d\n  alert_events: 36h\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := c.Schema()
	if s.Cluster != "prod" || s.DB != "earshot" || len(s.RetentionStatements()) != 3 {
		t.Errorf("schema %+v", s)
	}
	c = DefaultConfig()
	if err := strictyaml.Decode("sink.yaml", []byte("enabled: true\nretention:\n  posts: [90d]\n"), &c); err == nil {
		t.Error("a list as a retention decoded")
	}
}

// shardLocalAlter is an ALTER of a shard-local table, on the cluster.
var shardLocalAlter = regexp.MustCompile(`^ALTER TABLE db\.\w+_local ON CLUSTER c\n`)

// A migration killed after any of its statements runs again from its first
// on the next start (see Schema.apply), so every statement must be safe to
// run twice. This holds each one to a form that is: the integration test
// TestMigrationResumesAfterCrashAtEveryStatement checks the result on
// 18.16; this one stops a new migration from adding a form that is not.
func TestMigrationStatementsCanRunAgain(t *testing.T) {
	// Backfill targets where a row inserted twice counts once.
	collapses := map[string]string{
		"mentions_hourly_agg": "uniqState of the post key",
		"terms_daily_agg":     "uniqState of the post key",
		"deleted_matches":     "a Null table whose views keep uniqState of the post key",
		"alert_times":         "ReplacingMergeTree on (queue, created_at, alert_id)",
		"alerts_desk":         "ReplacingMergeTree(inserted_at) on (queue, alert_id): the same version twice is one row, and FINAL picks either",
	}
	var (
		ifNotExists = regexp.MustCompile(`^CREATE (TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS `)
		dropIfExist = regexp.MustCompile(`^DROP TABLE IF EXISTS \{db\}\.(\w+)\{on_cluster\}$`)
		createView  = regexp.MustCompile(`^CREATE VIEW \{db\}\.(\w+)\{on_cluster\} AS\s`)
		insertInto  = regexp.MustCompile(`^INSERT INTO \{db\}\.(\w+) \(`)
		alterHead   = regexp.MustCompile(`^ALTER TABLE \{db\}\.\w+\{local\}\{on_cluster\}\s+ADD COLUMN `)
		otherAlter  = regexp.MustCompile(`(?i)\b(DROP|MODIFY|RENAME|CLEAR|COMMENT)\s+COLUMN\b|\b(DELETE|UPDATE)\b`)
	)
	for _, m := range append([]migration{{0, "bootstrap", bootstrap}}, migrations...) {
		dropped := map[string]bool{}
		for i, q := range m.stmts {
			q = strings.TrimSpace(q)
			where := fmt.Sprintf("migration %d statement %d (%.50s…)", m.version, i+1, q)
			switch {
			case strings.HasPrefix(q, "CREATE DATABASE IF NOT EXISTS "), ifNotExists.MatchString(q):
			case dropIfExist.MatchString(q):
				dropped[dropIfExist.FindStringSubmatch(q)[1]] = true
			case createView.MatchString(q):
				if name := createView.FindStringSubmatch(q)[1]; !dropped[name] {
					t.Errorf("%s: CREATE VIEW %s without IF NOT EXISTS and not dropped (IF EXISTS) before in the same migration", where, name)
				}
			case insertInto.MatchString(q):
				if target := insertInto.FindStringSubmatch(q)[1]; collapses[target] == "" {
					t.Errorf("%s: a backfill into %s, which does not collapse a row inserted twice", where, target)
				}
			case alterHead.MatchString(q):
				for _, c := range addColumn.Split(q[len(alterHead.FindString(q)):], -1) {
					if otherAlter.MatchString(c) || !regexp.MustCompile(`^\w+ `).MatchString(c) {
						t.Errorf("%s: an ALTER must be ADD COLUMN clauses only (Schema.apply skips the columns there): %q", where, c)
					}
				}
			default:
				t.Errorf("%s: not a statement known to be safe to run again", where)
			}
		}
	}
}
