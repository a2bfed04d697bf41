package insights

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Config bounds every run of a query.
type Config struct {
	MaxRows int           `yaml:"max_rows"` // rows returned at most; the rest is cut and Table.Truncated set
	Timeout time.Duration `yaml:"timeout"`  // per query, on the server (max_execution_time) and the client
}

// DefaultConfig returns the limits the API and the CLI use.
func DefaultConfig() Config {
	return Config{MaxRows: 10_000, Timeout: 30 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.MaxRows < 1 || c.MaxRows > 1_000_000 {
		errs = append(errs, fmt.Errorf("insights.max_rows: %d, want 1 to 1000000", c.MaxRows))
	}
	if c.Timeout < time.Second || c.Timeout > time.Hour {
		errs = append(errs, fmt.Errorf("insights.timeout: %v, want 1s to 1h", c.Timeout))
	}
	return errors.Join(errs...)
}

// Bound is a catalogue bound to one ClickHouse database: what the API
// lists and runs (it implements api.Insights).
type Bound struct {
	Catalog *Catalog
	Conn    driver.Conn
	DB      string
}

// List lists the catalogue's queries.
func (b Bound) List() []Query { return b.Catalog.List() }

// Run runs the named query on the bound database.
func (b Bound) Run(ctx context.Context, name string, params map[string]string) (*Table, error) {
	return b.Catalog.Run(ctx, b.Conn, b.DB, name, params)
}

// Run binds the named query's parameters, runs it on conn against database
// db and returns its result, at most Limits.MaxRows rows. The query is
// stopped on the server after Limits.Timeout (max_execution_time), and by
// the client 2s later, or at the context's own deadline if that is sooner.
func (c *Catalog) Run(ctx context.Context, conn driver.Conn, db, name string, params map[string]string) (*Table, error) {
	if err := c.Limits.Validate(); err != nil {
		return nil, err
	}
	sql, err := c.Bind(db, name, params)
	if err != nil {
		return nil, err
	}
	// The server stops the query at the limit and says so; the client
	// waits a little longer for that answer before it gives up itself.
	ctx, cancel := context.WithTimeout(ctx, c.Limits.Timeout+2*time.Second)
	defer cancel()
	settings, err := c.settings(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	rows, err := conn.Query(ctx, sql+settings)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	defer rows.Close()
	t := &Table{Columns: rows.Columns(), Rows: [][]any{}}
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		t.Types = append(t.Types, ct.DatabaseTypeName())
	}
	dest := make([]any, len(cts))
	for rows.Next() {
		if len(t.Rows) == c.Limits.MaxRows {
			t.Truncated = true
			break
		}
		for i, ct := range cts {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("query %s: reading row %d: %w", name, len(t.Rows)+1, err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = plain(reflect.ValueOf(d).Elem().Interface())
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil && !t.Truncated {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	return t, nil
}

// settings bounds the query on the server: a SETTINGS clause, as 18.16
// does not enforce max_execution_time sent by the driver with the query
// (checked: the query runs on after the client has given up). A user in
// readonly=1 mode (the analyst user) may not change settings at all; its
// profile must carry the limits, and the client's deadline still holds.
func (c *Catalog) settings(ctx context.Context, conn driver.Conn) (string, error) {
	var readonly string
	if err := conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'readonly'").Scan(&readonly); err != nil {
		return "", fmt.Errorf("reading the readonly setting: %w", err)
	}
	if readonly == "1" {
		return "", nil
	}
	// Only the time: max_result_rows would be checked on subqueries too
	// (the views' "NOT IN (SELECT post_key FROM deletions)"), and in break
	// mode cut them silently. Rows are cut on the client instead.
	return fmt.Sprintf("\nSETTINGS max_execution_time = %d", int(math.Ceil(c.Limits.Timeout.Seconds()))), nil
}

// plain turns a scanned value into one that encodes to JSON: NaN and
// infinities (an average over nothing) become nil, times become UTC.
func plain(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case time.Time:
		return x.UTC()
	case string:
		return strings.ToValidUTF8(x, "\uFFFD")
	}
	return v
}
