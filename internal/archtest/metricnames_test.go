package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// metricDecl finds a metric name where the code declares one: a Name: field
// of prometheus' options, a NewDesc, or a package's counter("…") helper.
var metricDecl = regexp.MustCompile(`(?:Name:\s*|NewDesc\(\s*|counter\(\s*)"(earshot_[a-z0-9_]+)"`)

// metricRef finds what reads like a metric name in docs and deploy files:
// earshot_<part>_<part>…, three parts at least (earshot_writer, a
// ClickHouse user, and earshot_teams, a dictionary, have two).
var metricRef = regexp.MustCompile(`\bearshot_[a-z0-9]+_[a-z0-9_]*[a-z0-9]\b`)

// TestEveryMetricNamedInDocsIsDeclared: every metric name that README.md,
// docs/ and deploy/ (Grafana boards, Helm, compose, rules) mention is one
// the code declares, so that a renamed or removed metric cannot leave a
// dashboard panel or an alert rule that silently never fires.
// (itest.TestGrafanaDashboards also checks the pipeline board against what
// a running pipeline exports.)
func TestEveryMetricNamedInDocsIsDeclared(t *testing.T) {
	root := filepath.Join("..", "..")
	declared := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".local") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricDecl.FindAllStringSubmatch(string(b), -1) {
			declared[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(declared) < 40 {
		t.Fatalf("found %d metric declarations; has the way metrics are declared changed?", len(declared))
	}
	var docs []string
	for _, dir := range []string{"docs", "deploy"} {
		filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && slices.Contains([]string{".md", ".json", ".yaml", ".yml", ".tpl", ".txt"}, filepath.Ext(path)) {
				docs = append(docs, path)
			}
			return nil
		})
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	missing := map[string][]string{}
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range metricRef.FindAllString(string(b), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if !declared[base] && strings.HasSuffix(name, suffix) {
					base = strings.TrimSuffix(name, suffix)
				}
			}
			if !declared[base] {
				rel, _ := filepath.Rel(root, path)
				missing[name] = append(missing[name], rel)
			}
		}
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Errorf("%s is named in %v but no code declares it", n, slices.Compact(missing[n]))
	}
}
