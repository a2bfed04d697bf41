// Package sqlrecord renders the SQL that earshot's ClickHouse readers build
// at run time without a server: Conn is a driver.Conn that records each
// statement with its arguments and answers with no rows, and Bind puts the
// arguments into the statement as literals, as clickhouse-go does on the
// client for the native protocol. `earshot migrate --print` carries the
// rendered statements, and deploy/local/sqlcheck.py runs them on a current
// ClickHouse.
package sqlrecord

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Statement is one recorded call.
type Statement struct {
	Kind string // "query" (Query, QueryRow, Select), "exec", "batch" (PrepareBatch)
	SQL  string
	Args []any
}

// Bound is the statement with its arguments bound as literals.
func (s Statement) Bound() (string, error) { return Bind(s.SQL, s.Args...) }

// Conn records every statement run through it. Query answers with no
// rows; QueryRow's Scan calls Scan, if set, which may fill dest (a count, a
// version) to drive the caller down a path, and otherwise leaves dest as
// it is. Batches take rows and send nothing. Methods the readers do not
// use (AsyncInsert, Stats, ...) are those of the nil embedded Conn: they
// panic, which a test notices.
type Conn struct {
	driver.Conn
	Statements []Statement
	Scan       func(sql string, dest ...any) error
}

func (c *Conn) record(kind, sql string, args []any) {
	c.Statements = append(c.Statements, Statement{Kind: kind, SQL: sql, Args: args})
}

// Reads returns the bound statements of kind "query", in order.
func (c *Conn) Reads() ([]string, error) {
	var out []string
	for _, s := range c.Statements {
		if s.Kind != "query" {
			continue
		}
		q, err := s.Bound()
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// Reset forgets the recorded statements.
func (c *Conn) Reset() { c.Statements = nil }

func (c *Conn) Query(_ context.Context, sql string, args ...any) (driver.Rows, error) {
	c.record("query", sql, args)
	return noRows{}, nil
}

func (c *Conn) QueryRow(_ context.Context, sql string, args ...any) driver.Row {
	c.record("query", sql, args)
	return row{c: c, sql: sql}
}

func (c *Conn) Select(_ context.Context, _ any, sql string, args ...any) error {
	c.record("query", sql, args)
	return nil
}

func (c *Conn) Exec(_ context.Context, sql string, args ...any) error {
	c.record("exec", sql, args)
	return nil
}

func (c *Conn) PrepareBatch(_ context.Context, sql string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	c.record("batch", sql, nil)
	return &batch{}, nil
}

func (c *Conn) Ping(context.Context) error { return nil }
func (c *Conn) Close() error               { return nil }

type row struct {
	c   *Conn
	sql string
}

func (r row) Err() error { return nil }
func (r row) Scan(dest ...any) error {
	if r.c.Scan != nil {
		return r.c.Scan(r.sql, dest...)
	}
	return nil
}
func (r row) ScanStruct(any) error { return nil }

type noRows struct{}

func (noRows) Next() bool                       { return false }
func (noRows) Scan(...any) error                { return fmt.Errorf("sqlrecord: no rows") }
func (noRows) ScanStruct(any) error             { return fmt.Errorf("sqlrecord: no rows") }
func (noRows) ColumnTypes() []driver.ColumnType { return nil }
func (noRows) Totals(...any) error              { return nil }
func (noRows) Columns() []string                { return nil }
func (noRows) Close() error                     { return nil }
func (noRows) Err() error                       { return nil }
func (noRows) HasData() bool                    { return false }

type batch struct {
	driver.Batch
	sent bool
	rows int
}

func (b *batch) Append(...any) error    { b.rows++; return nil }
func (b *batch) AppendStruct(any) error { b.rows++; return nil }
func (b *batch) Abort() error           { b.sent = true; return nil }
func (b *batch) Send() error            { b.sent = true; return nil }
func (b *batch) Flush() error           { return nil }
func (b *batch) IsSent() bool           { return b.sent }
func (b *batch) Rows() int              { return b.rows }
func (b *batch) Close() error           { b.sent = true; return nil }

// Bind replaces each ? outside string literals, quoted identifiers and
// comments of sql by the literal of the next argument, in the forms
// clickhouse-go's client-side binding uses (a time as toDateTime in UTC).
// It fails on a count that does not match, and on a type it does not know.
// Without arguments sql is sent as it is, as the driver does.
func Bind(sql string, args ...any) (string, error) {
	if len(args) == 0 {
		return sql, nil // as the driver: no arguments, no binding
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(sql); i++ {
		ch := sql[i]
		switch {
		case ch == '\'' || ch == '"' || ch == '`':
			j := i + 1
			for ; j < len(sql) && sql[j] != ch; j++ {
				if sql[j] == '\\' {
					j++
				}
			}
			if j >= len(sql) {
				return "", fmt.Errorf("sqlrecord: unterminated %c at byte %d", ch, i)
			}
			b.WriteString(sql[i : j+1])
			i = j
		case ch == '-' && strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j - 1
		case ch == '?':
			if n >= len(args) {
				return "", fmt.Errorf("sqlrecord: more placeholders than the %d arguments", len(args))
			}
			lit, err := Literal(args[n])
			if err != nil {
				return "", fmt.Errorf("sqlrecord: argument %d: %w", n+1, err)
			}
			b.WriteString(lit)
			n++
		default:
			b.WriteByte(ch)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("sqlrecord: %d placeholders for %d arguments", n, len(args))
	}
	return b.String(), nil
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`)

// Literal is v as a ClickHouse literal.
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return "'" + quoter.Replace(x) + "'", nil
	case time.Time:
		if x.Unix() == 0 {
			return "toDateTime(0)", nil
		}
		return "toDateTime('" + x.UTC().Format("2006-01-02 15:04:05") + "', 'UTC')", nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case int, int8, int16, int32, int64:
		return strconv.FormatInt(reflect.ValueOf(x).Int(), 10), nil
	case uint, uint8, uint16, uint32, uint64:
		return strconv.FormatUint(reflect.ValueOf(x).Uint(), 10), nil
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i], _ = Literal(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case clickhouse.GroupSet: // a tuple: the set of an IN
		parts := make([]string, len(x.Value))
		for i, e := range x.Value {
			lit, err := Literal(e)
			if err != nil {
				return "", err
			}
			parts[i] = lit
		}
		return "(" + strings.Join(parts, ", ") + ")", nil
	}
	return "", fmt.Errorf("no literal for %T", v)
}

// Set stores v in dest, a pointer to v's type: for Conn.Scan.
func Set(dest any, v any) error {
	d := reflect.ValueOf(dest)
	if d.Kind() != reflect.Pointer || d.Elem().Type() != reflect.TypeOf(v) {
		return fmt.Errorf("sqlrecord: cannot store %T in %T", v, dest)
	}
	d.Elem().Set(reflect.ValueOf(v))
	return nil
}
