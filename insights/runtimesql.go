package insights

import (
	"context"
	"fmt"
	"strings"

	"github.com/earshot-dev/earshot/internal/sqlrecord"
)

// RuntimeStatements renders what Run sends for each query of the
// catalogue, its defaults bound ("acme" for a required parameter), to a server that lets the user set the
// time limit (the SETTINGS clause appended), and the read of the readonly
// setting before it: name -> SQL, for `earshot migrate --print` and
// deploy/local/sqlcheck.py, by running Run over a recording connection.
func (c *Catalog) RuntimeStatements(db string) (map[string]string, error) {
	out := map[string]string{}
	rec := &sqlrecord.Conn{}
	for _, q := range c.List() {
		rec.Reset()
		params := map[string]string{}
		for _, p := range q.Params {
			if p.Required {
				params[p.Name] = "acme" // as BindDefaults
			}
		}
		if _, err := c.Run(context.Background(), rec, db, q.Name, params); err != nil {
			return nil, fmt.Errorf("insights.run.%s: %w", q.Name, err)
		}
		reads, err := rec.Reads()
		if err != nil {
			return nil, fmt.Errorf("insights.run.%s: %w", q.Name, err)
		}
		if len(reads) != 2 || !strings.Contains(reads[0], "system.settings") {
			return nil, fmt.Errorf("insights.run.%s: %d reads recorded, want the readonly setting and the query", q.Name, len(reads))
		}
		out["insights.readonly"] = reads[0]
		out["insights.run."+q.Name] = reads[1]
	}
	return out, nil
}
