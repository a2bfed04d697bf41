package insights

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/internal/termtext"
)

// WriteList writes the catalogue as a table: each query's name, title and
// parameters (name:type, =default when optional).
func (c *Catalog) WriteList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, q := range c.List() {
		var ps []string
		for _, p := range q.Params {
			s := p.Name + ":" + p.Type
			if !p.Required {
				s += "=" + p.Default
			}
			ps = append(ps, s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", q.Name, q.Title, strings.Join(ps, " "))
	}
	return tw.Flush()
}

// WriteText writes the table for a terminal: tab-aligned columns, times in
// UTC, "-" for NULL, cells on one line with terminal controls shown
// escaped (termtext.Line: a post's text cannot drive the terminal); then
// how many rows on count.
func (t *Table) WriteText(w, count io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = termtext.Line(c)
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case time.Time:
				cells[i] = x.UTC().Format(time.DateTime)
			case nil:
				cells[i] = "-"
			default:
				cells[i] = termtext.Line(fmt.Sprint(x))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.Truncated {
		_, err := fmt.Fprintf(count, "%d rows (cut at --max-rows)\n", len(t.Rows))
		return err
	}
	_, err := fmt.Fprintf(count, "%d rows\n", len(t.Rows))
	return err
}

// BindDefaults is every query bound with its defaults (and "acme" for
// required parameters): for checking them all against a ClickHouse
// version (earshot migrate --print).
func (c *Catalog) BindDefaults(db string) (map[string]string, error) {
	out := map[string]string{}
	for _, q := range c.List() {
		params := map[string]string{}
		for _, p := range q.Params {
			if p.Required {
				params[p.Name] = "acme"
			}
		}
		sql, err := c.Bind(db, q.Name, params)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Name, err)
		}
		out[q.Name] = sql
	}
	return out, nil
}
