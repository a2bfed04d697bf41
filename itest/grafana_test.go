//go:build integration

package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/ingest/live"
)

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Query      string `json:"query"`
			Datasource *struct {
				Type string `json:"type"`
			} `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			RawSQL string `json:"rawSql"`
			Expr   string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func loadDashboard(t *testing.T, name string) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy/grafana", name))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// grafanaSQL expands the macros and variables the ClickHouse data source
// would, for a window [from, to] and the given variable values.
func grafanaSQL(sql, db string, from, to time.Time, vars map[string][]string) string {
	sql = regexp.MustCompile(`\$__timeFilter\((\w+)\)`).ReplaceAllString(sql,
		fmt.Sprintf("$1 >= toDateTime(%d) AND $1 <= toDateTime(%d)", from.Unix(), to.Unix()))
	sql = strings.NewReplacer("$__fromTime", fmt.Sprintf("toDateTime(%d)", from.Unix()), "$__toTime", fmt.Sprintf("toDateTime(%d)", to.Unix()), "${db}", db).Replace(sql)
	for name, vals := range vars {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "'" + strings.ReplaceAll(v, "'", "\\'") + "'"
		}
		sql = strings.ReplaceAll(sql, "${"+name+":singlequote}", strings.Join(q, ","))
	}
	return sql
}

// TestGrafanaDashboards runs every ClickHouse query of the insights
// dashboard on the real server over data the pipeline wrote, and checks
// that every metric the pipeline-health dashboard plots is one earshot
// exports.
func TestGrafanaDashboards(t *testing.T) {
	_, db := names(t)
	dir := t.TempDir()
	lines := []string{
		`{"platform":"file","id":"g1","author":{"handle":"a"},"text":"my Acme phone is broken again, worst experience ever","created_at":"%s"}`,
		`{"platform":"file","id":"g2","author":{"handle":"b","location":"Athens"},"text":"still waiting for a refund from Acme, terrible","created_at":"%s"}`,
		`{"platform":"file","id":"g3","author":{"handle":"c"},"text":"lovely weather today","created_at":"%s"}`,
	}
	now := time.Now().UTC().Truncate(time.Second)
	var body strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&body, l+"\n", now.Add(-time.Hour).Format(time.RFC3339))
	}
	posts := filepath.Join(dir, "posts.ndjson")
	if err := os.WriteFile(posts, []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	// The whole pipeline in one process, from a file into ClickHouse.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg := runFileIntoClickHouse(t, ctx, posts, db, false)

	conn := openCH(t)
	if n := count(t, conn, "SELECT count() FROM "+db+".matches_dedup"); n == 0 {
		t.Fatal("the pipeline stored no matches to chart")
	}
	vars := map[string][]string{"watchlist": {"acme", "acme-legal", "it's"}, "region": {"EMEA", "NA", "APAC", "LATAM", ""}, "market": {"DACH", "GR-CY", ""}}
	from, to := now.Add(-7*24*time.Hour), now.Add(time.Minute)
	d := loadDashboard(t, "earshot-insights.json")
	var queries []string
	for _, v := range d.Templating.List {
		if v.Type == "query" && v.Datasource != nil && v.Datasource.Type == "grafana-clickhouse-datasource" {
			queries = append(queries, v.Query)
		}
	}
	for _, pn := range d.Panels {
		for _, tg := range pn.Targets {
			if tg.RawSQL == "" {
				t.Errorf("panel %q has a target without SQL", pn.Title)
			}
			queries = append(queries, tg.RawSQL)
		}
	}
	rowsOf := map[string]int{}
	for _, q := range queries {
		sql := grafanaSQL(q, db, from, to, vars)
		if strings.Contains(sql, "$") {
			t.Errorf("unexpanded macro or variable in %q", sql)
			continue
		}
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			t.Errorf("ClickHouse 18.16 refuses a dashboard query: %v\n%s", err, sql)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		rowsOf[q] = n
	}
	if n := rowsOf[d.Panels[0].Targets[0].RawSQL]; n == 0 {
		t.Errorf("%q shows nothing for the stored matches", d.Panels[0].Title)
	}
	// The cookbook's significant_words has a panel, over the watchlist
	// variable and the dashboard's range (this period) against the four
	// ranges before it, as the query's defaults do.
	var sig string
	for _, pn := range d.Panels {
		if strings.HasPrefix(pn.Title, "Significant words") && len(pn.Targets) == 1 {
			sig = pn.Targets[0].RawSQL
		}
	}
	if sig == "" || !strings.Contains(sig, "${watchlist:singlequote}") || !strings.Contains(sig, "posts_dedup") || !strings.Contains(sig, "matches_dedup") {
		t.Errorf("no significant words panel over the watchlists' deduplicated posts: %q", sig)
	}

	// Every metric the health dashboard plots is exported by a pipeline
	// (the one above), or by a live connector (lag and reconnects have no
	// value until a live source reports one).
	exported := map[string]bool{}
	liveReg := prometheus.NewRegistry()
	lm := live.NewMetrics(liveReg)
	lm.Lag("bluesky").Set(0)
	lm.Reconnects("bluesky").Add(0)
	// The desk's come from the API (its in-memory store here, with a
	// breached alert so that the counter has a value).
	apiReg := prometheus.NewRegistry()
	mem := api.NewMemAlerts(10)
	mem.Add(api.Alert{ID: "late", Queue: "care", Priority: "P1", CreatedAt: time.Now().Add(-time.Hour), DueAt: time.Now().Add(-time.Minute)})
	tokens, err := api.OpenTokens(filepath.Join(t.TempDir(), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.New(api.DefaultConfig(), api.Deps{Tokens: tokens, Alerts: mem, Registerer: apiReg}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []prometheus.Gatherer{reg, liveReg, apiReg} {
		mfs, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			exported[mf.GetName()] = true
		}
	}
	used := map[string]bool{}
	for _, pn := range loadDashboard(t, "earshot-pipeline.json").Panels {
		for _, tg := range pn.Targets {
			for _, m := range regexp.MustCompile(`earshot_[a-z_]+`).FindAllString(tg.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_count", "_sum"} { // a histogram's series
					if !exported[m] {
						m = strings.TrimSuffix(m, suffix)
					}
				}
				used[m] = true
			}
		}
	}
	var missing []string
	for m := range used {
		if !exported[m] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(used) < 10 {
		t.Errorf("the pipeline dashboard plots metrics earshot does not export: %v (of %d used)", missing, len(used))
	}
}
