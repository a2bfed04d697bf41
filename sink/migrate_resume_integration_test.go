//go:build integration

package sink

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/internal/localstack"
)

// A sink killed (kill -9) in the middle of a migration leaves the
// statements it ran applied and the migration unrecorded; the next start
// runs the migration again from its first statement. For every migration N
// and every statement k of it, a database left that way (migrations before
// N recorded, N's statements 1..k applied) must be brought to the schema of
// a clean migrate by the next Migrate. Before the fix, migration 8's ALTER
// … ADD COLUMN failed there for good (code 44, the column exists), and the
// sink never wrote again.
func TestMigrationResumesAfterCrashAtEveryStatement(t *testing.T) {
	conn, base := openTest(t)
	ctx := context.Background()
	ref := base + "_ref"
	if _, err := Migrate(ctx, conn, ref); err != nil {
		t.Fatal(err)
	}
	want := schemaOf(t, conn, ref)
	dropDB(t, conn, ref)
	prev := 0
	for _, m := range migrations {
		var stmts []string
		for _, tmpl := range m.stmts {
			stmts = append(stmts, Schema{DB: "{db}"}.render(tmpl)...)
		}
		for k := 1; k <= len(stmts); k++ {
			db := fmt.Sprintf("%s_%d_%d", base, m.version, k)
			if _, err := (Schema{DB: db}).migrateTo(ctx, conn, prev); err != nil {
				t.Fatalf("migration %d: preparing version %d: %v", m.version, prev, err)
			}
			for _, q := range stmts[:k] {
				if err := execLong(ctx, conn, strings.ReplaceAll(q, "{db}", db)); err != nil {
					t.Fatalf("migration %d: statement %d before the crash: %v", m.version, k, err)
				}
			}
			_, err := Migrate(ctx, conn, db)
			if err != nil {
				t.Errorf("migration %d, killed after statement %d of %d: the next migrate failed: %v", m.version, k, len(stmts), err)
				dropDB(t, conn, db)
				continue
			}
			if got := schemaOf(t, conn, db); got != want {
				t.Errorf("migration %d, killed after statement %d of %d: schema differs from a clean migrate:\n%s", m.version, k, len(stmts), firstDiff(got, want))
			}
			if got := recordedVersions(t, conn, db); !slices.Equal(got, MigrationVersions()) {
				t.Errorf("migration %d, killed after statement %d: recorded %v, want %v", m.version, k, got, MigrationVersions())
			}
			dropDB(t, conn, db)
		}
		prev = m.version
	}
}

func dropDB(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db); err != nil {
		t.Fatal(err)
	}
}

// schemaOf renders a database's tables (their CREATE statements) and
// columns (name, type, default, in table order), with the database's name
// replaced, for comparing two databases.
func schemaOf(t *testing.T, conn driver.Conn, db string) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT name, engine, create_table_query FROM system.tables WHERE database = '%s' ORDER BY name", db))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, engine, create string
		if err := rows.Scan(&name, &engine, &create); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("table %s %s: %s", name, engine, strings.ReplaceAll(create, db, "DB")))
	}
	rows.Close()
	type col struct{ table, line string }
	var cols []col
	rows, err = conn.Query(ctx, fmt.Sprintf("SELECT table, name, type, default_kind, default_expression FROM system.columns WHERE database = '%s'", db))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, name, typ, kind, def string
		if err := rows.Scan(&table, &name, &typ, &kind, &def); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col{table, fmt.Sprintf("column %s.%s %s %s %s", table, name, typ, kind, def)})
	}
	rows.Close()
	// The server lists a table's columns in their order; keep it.
	sort.SliceStable(cols, func(i, j int) bool { return cols[i].table < cols[j].table })
	for _, c := range cols {
		lines = append(lines, c.line)
	}
	return strings.Join(lines, "\n")
}

func recordedVersions(t *testing.T, conn driver.Conn, db string) []int {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT version FROM "+db+".schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, int(v))
	}
	return out
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf(" got %s\nwant %s", gl, wl)
		}
	}
	return "(equal)"
}

// The cluster form of the same, for migrations 8 and 11 only (a whole
// migrate on the cluster takes about 15 s here, each of its ~150
// statements a case would take an hour): 8's ALTER renders as the
// shard-local ALTER … ON CLUSTER, then the Distributed table dropped and
// made again; 11's CREATE TABLE as the replicated shard-local table and
// the Distributed one in front of it, then the materialised view on the
// shard-local alerts and the backfill through the Distributed tables. A
// kill after each statement leaves a database the next migrate must
// finish, with the schema of a clean migrate on the node it talks to.
func TestClusterMigrationResumesAfterCrash(t *testing.T) {
	node1, err := localstack.ClusterNode(1)
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Addr, c.Cluster = []string{node1}, localstack.ClusterName
	conn, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("cluster node 1 (%s): %v; start the cluster with deploy/local/chcluster.sh start", c.Addr[0], err)
	}
	base := fmt.Sprintf("clu_resume_%d", time.Now().UnixNano()%1e9)
	drop := func(db string) {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+c.Cluster); err != nil {
			t.Fatal(err)
		}
	}
	ref := Schema{DB: base + "_ref", Cluster: c.Cluster}
	if _, err := ref.Migrate(ctx, conn, nil); err != nil {
		t.Fatal(err)
	}
	want := schemaOf(t, conn, ref.DB)
	drop(ref.DB)
	for _, tc := range []struct {
		version, prev, stmts int // the migration, the one before it, its statements on a cluster
	}{
		{8, 7, 3},   // ALTER, DROP, CREATE
		{11, 10, 4}, // CREATE local, CREATE Distributed, the view, the backfill
	} {
		var stmts []string
		for _, m := range migrations {
			if m.version == tc.version {
				for _, tmpl := range m.stmts {
					stmts = append(stmts, Schema{DB: "{db}", Cluster: c.Cluster}.render(tmpl)...)
				}
			}
		}
		if len(stmts) != tc.stmts {
			t.Fatalf("migration %d renders %d statements on a cluster, want %d: %q", tc.version, len(stmts), tc.stmts, stmts)
		}
		for k := 1; k <= len(stmts); k++ {
			s := Schema{DB: fmt.Sprintf("%s_%d_%d", base, tc.version, k), Cluster: c.Cluster}
			if _, err := s.migrateTo(ctx, conn, tc.prev); err != nil {
				t.Fatal(err)
			}
			for _, q := range stmts[:k] {
				if err := execLong(ctx, conn, strings.ReplaceAll(q, "{db}", s.DB)); err != nil {
					t.Fatalf("migration %d, statement %d before the crash: %v", tc.version, k, err)
				}
			}
			if _, err := s.Migrate(ctx, conn, nil); err != nil {
				t.Errorf("migration %d, killed after statement %d of %d: the next migrate failed: %v", tc.version, k, len(stmts), err)
			} else if got := schemaOf(t, conn, s.DB); got != want {
				t.Errorf("migration %d, killed after statement %d of %d: schema differs from a clean migrate:\n%s", tc.version, k, len(stmts), firstDiff(got, want))
			}
			drop(s.DB)
		}
	}
}

// Two sinks starting at once both migrate a fresh database. One may fail a
// statement the other ran first (a view made by both after both dropped
// it: code 57, seen in up to 4 tries of the loser here); the sink then
// retries the write, migration included, as after any failed write. Each
// migrator must get to an up-to-date schema within 10 tries, and the
// schema must be that of one clean migrate. This is how it was before
// migrations resumed; kept, not made better.
func TestTwoMigratorsAtOnce(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	ref := db + "_ref"
	if _, err := Migrate(ctx, conn, ref); err != nil {
		t.Fatal(err)
	}
	want := schemaOf(t, conn, ref)
	dropDB(t, conn, ref)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			var err error
			for try := 0; try < 10; try++ {
				if _, err = Migrate(ctx, conn, db); err == nil {
					break
				}
				t.Logf("try %d: %v", try+1, err)
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a migrator still failing after 10 tries: %v", err)
		}
	}
	if got := schemaOf(t, conn, db); got != want {
		t.Errorf("schema differs from a clean migrate:\n%s", firstDiff(got, want))
	}
}
