package themes

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/sqlrecord"
)

// RuntimeStatements renders the reads of the ClickHouse reader (Scan) for
// the scope watchlist "acme", team "care", region "EMEA" over the week
// before now, by running Scan over a recording connection that counts
// 1,000 posts, more than the sample of 100: the count, the read with the
// hash threshold, and (the recorder returns no rows, so the sample is
// short) the read without it; then the same on a cluster (GLOBAL). Name ->
// SQL, for `earshot migrate --print` and deploy/local/sqlcheck.py.
func RuntimeStatements(db string, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	rec := &sqlrecord.Conn{Scan: func(sql string, dest ...any) error {
		if strings.Contains(sql, "uniqExact") {
			return sqlrecord.Set(dest[0], uint64(1000))
		}
		return nil
	}}
	sc := Scope{Watchlists: []string{"acme"}, Teams: []string{"care"}, Regions: []string{"EMEA"}}
	for _, cluster := range []bool{false, true} {
		rec.Reset()
		c := ClickHouse{Conn: rec, DB: db, Cluster: cluster}
		if _, err := c.Scan(context.Background(), sc, now.Add(-7*24*time.Hour), now, 100, 500, func(Post) error { return nil }); err != nil {
			return nil, fmt.Errorf("themes: %w", err)
		}
		reads, err := rec.Reads()
		if err != nil {
			return nil, fmt.Errorf("themes: %w", err)
		}
		names := []string{"themes.count", "themes.sample_cut", "themes.sample"}
		if len(reads) != len(names) {
			return nil, fmt.Errorf("themes: %d reads recorded, want %d", len(reads), len(names))
		}
		for i, q := range reads {
			if cluster {
				if i == 0 {
					continue // no GLOBAL in the count
				}
				out[names[i]+".cluster"] = q
				continue
			}
			out[names[i]] = q
		}
	}
	return out, nil
}
