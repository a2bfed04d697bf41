package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Current ClickHouse refuses a joined subquery without an alias
// (joined_subquery_requires_alias, on by default since 20.x; 18.16 does not
// mind): every JOIN (subquery) in the SQL earshot sends must be followed by
// AS name. sqlcheck.py finds it on a current engine; this finds it without
// one.
func TestJoinedSubqueriesHaveAliases(t *testing.T) {
	spec, err := SchemaSpec("earshot")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{}
	for name, q := range spec["runtime"].(map[string]string) {
		all["runtime "+name] = q
	}
	for name, q := range spec["queries"].(map[string]string) {
		all["query "+name] = q
	}
	for i, q := range spec["statements"].([]string) {
		all[fmt.Sprintf("statement %d", i+1)] = q
	}
	if len(all) < 50 {
		t.Fatalf("%d statements: the spec lost some", len(all))
	}
	join := regexp.MustCompile(`(?i)\bJOIN\s*\(`)
	alias := regexp.MustCompile(`(?i)^\s*AS\s+\w+`)
	for name, q := range all {
		for _, m := range join.FindAllStringIndex(q, -1) {
			depth, end := 0, -1
			for i := m[1] - 1; i < len(q) && end < 0; i++ {
				switch q[i] {
				case '(':
					depth++
				case ')':
					if depth--; depth == 0 {
						end = i
					}
				}
			}
			if end < 0 {
				t.Errorf("%s: unbalanced JOIN (", name)
				continue
			}
			if !alias.MatchString(q[end+1:]) {
				t.Errorf("%s: joined subquery without an alias: ...%s", name, strings.TrimSpace(q[max(0, end-60):min(len(q), end+40)]))
			}
		}
	}
}

// A tripwire: the reads on a ClickHouse connection in the packages that
// own earshot's SQL are those RuntimeStatements renders. A new one must be
// rendered there too (and so checked by sqlcheck.py on a current release
// and by TestRuntimeStatementsOn1816 on 18.16); then update the count.
func TestEveryClickHouseReadIsRendered(t *testing.T) {
	call := regexp.MustCompile(`\.(Query|QueryRow|Select)\(ctx,`)
	want := map[string]int{ // package: calls, each driven by a RuntimeStatements
		"sink":            15, // apitables 9, escalation 1, schema 4, sink 1 (queryRows: the reads by key of sink and origin)
		"insights":        2,  // Run: the readonly setting, the query
		"insights/themes": 2,  // the count, the sample
		"api":             0,
		"search":          0,
		"backtest":        0,
		"digest":          0,
	}
	for dir, n := range want {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		got := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got += len(call.FindAll(b, -1))
		}
		if got != n {
			t.Errorf("%s: %d ClickHouse reads, %d known: render the new one in its package's RuntimeStatements (pipeline.SchemaSpec), then update this count", dir, got, n)
		}
	}
}
