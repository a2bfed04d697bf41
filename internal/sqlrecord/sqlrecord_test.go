package sqlrecord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestBind(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 1, 0, time.FixedZone("CET", 3600))
	got, err := Bind("SELECT '?', `a?`, x FROM t -- why?\nWHERE q = ? AND has(?, id) AND at >= ? AND n = ? AND b = ? AND z = ? AND id IN ?",
		"it's \\ ?", []string{"a", "b'"}, at, 42, true, time.Unix(0, 0), clickhouse.GroupSet{Value: []any{"a", "b'"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT '?', `a?`, x FROM t -- why?\nWHERE q = 'it\\'s \\\\ ?' AND has(['a', 'b\\''], id) AND at >= toDateTime('2026-12-07 08:00:01', 'UTC') AND n = 42 AND b = 1 AND z = toDateTime(0) AND id IN ('a', 'b\\'')"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBindRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		sql  string
		args []any
	}{
		"too few args":   {"a = ? AND b = ?", []any{"x"}},
		"too many args":  {"a = ?", []any{"x", "y"}},
		"unknown type":   {"a = ?", []any{3.5}},
		"unterminated":   {"a = '? AND b = ?", []any{"x"}},
		"quoted ? only":  {"a = '?'", []any{"x"}},
		"comment ? only": {"a -- ?", []any{"x"}},
	} {
		if got, err := Bind(c.sql, c.args...); err == nil {
			t.Errorf("%s: Bind gave %q and no error", name, got)
		}
	}
	if got, err := Bind("a = '?' AND b = ?"); err != nil || got != "a = '?' AND b = ?" {
		t.Errorf("no args: got %q, %v; want the statement as it is", got, err)
	}
}

func TestConnRecords(t *testing.T) {
	c := &Conn{Scan: func(sql string, dest ...any) error {
		if strings.Contains(sql, "count") {
			return Set(dest[0], uint64(7))
		}
		return nil
	}}
	ctx := context.Background()
	var n uint64
	if err := c.QueryRow(ctx, "SELECT count() FROM t WHERE a = ?", "x").Scan(&n); err != nil || n != 7 {
		t.Fatalf("QueryRow Scan: %d, %v", n, err)
	}
	rows, _ := c.Query(ctx, "SELECT a FROM t")
	if rows.Next() {
		t.Error("rows from the recorder")
	}
	c.Exec(ctx, "DROP TABLE t")
	b, _ := c.PrepareBatch(ctx, "INSERT INTO t (a)")
	b.Append("x")
	b.Send()
	reads, err := c.Reads()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(reads, ";") != "SELECT count() FROM t WHERE a = 'x';SELECT a FROM t" || len(c.Statements) != 4 {
		t.Errorf("reads %q of %d statements", reads, len(c.Statements))
	}
	if err := Set(&n, "x"); err == nil {
		t.Error("Set stored a string in a uint64")
	}
}
