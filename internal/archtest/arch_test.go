package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/earshot-dev/earshot"

// stages are the pipeline's stage packages (each with its subpackages).
// A stage exchanges only post.Batch with the others, so none may depend
// on another, directly or through a third package.
var stages = []string{"ingest", "match", "enrich", "route", "sink", "search"}

// owners names, for each external client library, the one package
// (with its subpackages) allowed to import it.
var owners = map[string]string{
	"github.com/segmentio/kafka-go":       "stream",
	"github.com/ClickHouse/clickhouse-go": "sink",
	"github.com/blevesearch/bleve":        "search",
	"github.com/slack-go/slack":           "notify",
	"github.com/wneessen/go-mail":         "notify",
}

// Known exceptions, each with why it stands. The test fails on a breach
// that is not listed, and on a listed breach that no longer happens (so
// the list only shrinks). Issue 18 items 1, 2 and 9 removed api's Kafka
// and ClickHouse imports and search's import of match.
var (
	// "a imports stage b" (a and b given as stage roots).
	stageExceptions = map[string]string{}
	// "package imports library" (package given as its path in the module).
	ownerExceptions = map[string]string{
		"insights -> github.com/ClickHouse/clickhouse-go":                 "insights runs the analysts' read-only catalogue on a driver.Conn (lib/driver types only); not yet moved, no issue item",
		"bench/cookbook -> github.com/ClickHouse/clickhouse-go":           "a benchmark tool that loads a scratch database; not part of the product",
		"insights/themes -> github.com/ClickHouse/clickhouse-go":          "themes read the dedup views on a driver.Conn (lib/driver types only), as insights does",
		"insights/themes -> github.com/blevesearch/bleve":                 "bleve's stop-word lists only (analysis/lang: data, no index); the index stays search's",
		"internal/sqlrecord -> github.com/ClickHouse/clickhouse-go":       "a recording driver.Conn that renders the SQL built at run time for make sqlcheck; it connects to nothing",
		"bench/themes -> github.com/ClickHouse/clickhouse-go":             "the themes benchmark creates and drops a scratch database; a test tool, not part of the product",
		"deploy/examples/alert-consumer -> github.com/segmentio/kafka-go": "an example consumer for users, built outside the product on purpose",
		"bench/distributed -> github.com/ClickHouse/clickhouse-go":        "the distributed benchmark creates, counts and drops a scratch database; a test tool, not part of the product",
		"bench/distributed -> github.com/segmentio/kafka-go":              "the distributed benchmark reads consumer lag and deletes its topics on the local broker; a test tool, not part of the product",
		"itest/chaos -> github.com/segmentio/kafka-go":                    "the chaos soak harness lists and deletes its topics on the local broker; a test tool, not part of the product",
	}
)

type pkg struct {
	path    string // in the module, "" for the root
	imports []string
}

// list runs `go list` over the module (production files of the default
// build: test files may use any client to set up a fixture).
func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkgs = append(pkgs, pkg{path: local(f[0]), imports: f[1:]})
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; is the test running from internal/archtest?", len(pkgs))
	}
	return pkgs
}

// local is an import path relative to the module ("" outside it stays as is).
func local(p string) string {
	if p == module {
		return ""
	}
	if r, ok := strings.CutPrefix(p, module+"/"); ok {
		return r
	}
	return p
}

// under reports whether path is root or one of its subpackages.
func under(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

func stageOf(path string) string {
	for _, s := range stages {
		if under(path, s) {
			return s
		}
	}
	return ""
}

// breaches applies the rules to a package list and returns each breach
// as "a -> b" (stage roots, or package and library root).
func breaches(pkgs []pkg) []string {
	imports := map[string][]string{}
	for _, p := range pkgs {
		imports[p.path] = p.imports
	}
	found := map[string]bool{}
	// A stage reaching another stage through any chain of module packages.
	for _, p := range pkgs {
		from := stageOf(p.path)
		if from == "" {
			continue
		}
		seen := map[string]bool{p.path: true}
		queue := []string{p.path}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, imp := range imports[cur] {
				l := local(imp)
				if l == imp || seen[l] { // outside the module, or seen
					continue
				}
				seen[l] = true
				if to := stageOf(l); to != "" && to != from {
					found[from+" -> "+to] = true
				}
				queue = append(queue, l)
			}
		}
	}
	// External systems: a direct import by any package but the owner.
	for _, p := range pkgs {
		for _, imp := range p.imports {
			for lib, owner := range owners {
				if under(imp, lib) {
					if !under(p.path, owner) {
						found[p.path+" -> "+lib] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(found))
	for b := range found {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

func TestImportRules(t *testing.T) {
	got := breaches(list(t))
	for _, b := range got {
		if _, ok := stageExceptions[b]; ok {
			continue
		}
		if _, ok := ownerExceptions[b]; ok {
			continue
		}
		t.Errorf("import rule broken: %s (see docs/ARCHITECTURE.md)", b)
	}
	for _, ex := range []map[string]string{stageExceptions, ownerExceptions} {
		for b, why := range ex {
			if !slices.Contains(got, b) {
				t.Errorf("listed exception %q (%s) no longer happens: remove it from the list", b, why)
			}
		}
	}
}

// TestRulesCatchBreaches feeds the checker made-up packages, so that a
// checker that finds nothing cannot pass.
func TestRulesCatchBreaches(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	pkgs := []pkg{
		{path: "match", imports: []string{m("post")}},
		{path: "post"},
		{path: "watchlist", imports: []string{m("match")}},
		{path: "route", imports: []string{m("watchlist")}},                       // route → match through watchlist
		{path: "ingest/live", imports: []string{m("stream"), m("ingest/canon")}}, // a stage's own subpackage, and stream: fine
		{path: "ingest/canon"},
		{path: "stream", imports: []string{"github.com/segmentio/kafka-go/sasl"}},
		{path: "api", imports: []string{"github.com/segmentio/kafka-go", "github.com/ClickHouse/clickhouse-go/v2/lib/driver"}},
		{path: "sink", imports: []string{"github.com/ClickHouse/clickhouse-go/v2"}},
		{path: "enrich", imports: []string{"github.com/blevesearch/bleve/v2"}},
	}
	want := []string{
		"api -> github.com/ClickHouse/clickhouse-go",
		"api -> github.com/segmentio/kafka-go",
		"enrich -> github.com/blevesearch/bleve",
		"route -> match",
	}
	if got := breaches(pkgs); !slices.Equal(got, want) {
		t.Errorf("breaches:\n got %q\nwant %q", got, want)
	}
}
