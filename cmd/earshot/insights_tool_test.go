package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/insights"
)

func TestInsightsList(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"insights", "list", "--format", "json"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	var qs []insights.Query
	if err := json.Unmarshal(out.Bytes(), &qs); err != nil {
		t.Fatal(err)
	}
	if len(qs) < 15 {
		t.Errorf("%d queries listed", len(qs))
	}
	out.Reset()
	if err := run([]string{"insights", "list"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if !strings.Contains(out.String(), q.Name) {
			t.Errorf("the table does not list %s", q.Name)
		}
	}
}

// TestInsightsRunSQL: --sql prints the bound SQL without connecting; a
// quote in a parameter stays inside its literal.
func TestInsightsRunSQL(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"insights", "run", "top_influencers", "--config", "", "--database", "analytics",
		"--param", "watchlist=x' OR 1=1 --", "--param", "since=2026-11-01T00:00:00Z", "--sql"}, &out, &errOut)
	if err != nil {
		t.Fatal(err, errOut.String())
	}
	sql := out.String()
	for _, want := range []string{"FROM analytics.posts_dedup", `has(watchlists, 'x\' OR 1=1 --')`, "created_at >= toDateTime(1793491200)"} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL lacks %q:\n%s", want, sql)
		}
	}
}

func TestInsightsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"insights"},
		{"insights", "frobnicate"},
		{"insights", "run"},
		{"insights", "run", "no_such_query", "--config", ""},
		{"insights", "run", "top_influencers", "--config", ""}, // watchlist is required
		{"insights", "run", "top_influencers", "--config", "", "--param", "watchlist=a", "--param", "top=0"},
		{"insights", "run", "top_influencers", "--config", "", "--param", "watchlist=a", "--param", "colour=red"},
		{"insights", "run", "top_influencers", "--config", "", "--param", "watchlist"},
		{"insights", "run", "top_influencers", "--config", "", "--param", "watchlist=a", "--database", "x; DROP TABLE y"},
		{"insights", "run", "top_influencers", "--config", "", "--param", "watchlist=a", "--format", "xml"},
		{"insights", "run", "top_influencers", "--config", "", "--param", "watchlist=a", "--timeout", "0s"},
		{"insights", "themes", "--config", "", "--limit", "0"},
		{"insights", "themes", "--config", "", "--limit", "1000000000000"},
		{"insights", "themes", "--config", "", "--since", "yesterday"},
		{"insights", "themes", "--config", "", "--since", "2026-11-02", "--until", "2026-11-01"},
		{"insights", "themes", "--config", "", "--format", "xml"},
		{"insights", "themes", "--config", "", "extra"},
	} {
		var out, errOut bytes.Buffer
		err := run(args, &out, &errOut)
		if exitCode(err) != 2 {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, err)
		}
	}
}
