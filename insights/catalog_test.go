package insights

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var fixedNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// requiredValues gives every required parameter of q a plausible value.
func requiredValues(q Query) map[string]string {
	m := map[string]string{}
	for _, p := range q.Params {
		if p.Required {
			m[p.Name] = "acme"
		}
	}
	return m
}

func TestEmbeddedCatalog(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	qs := c.List()
	if len(qs) < 15 {
		t.Errorf("%d queries, want at least 15", len(qs))
	}
	for _, q := range qs {
		if got, ok := c.Get(q.Name); !ok || got.SQL != q.SQL {
			t.Errorf("Get(%q) does not return the listed query", q.Name)
		}
		for _, p := range q.Params {
			if strings.TrimSpace(p.Doc) == "" {
				t.Errorf("%s: param %s has no doc", q.Name, p.Name)
			}
		}
		if strings.Contains(q.SQL, "FROM {db}.posts ") || strings.Contains(q.SQL, "FROM {db}.matches ") || strings.Contains(q.SQL, "FROM {db}.alerts ") ||
			strings.HasSuffix(q.SQL, "{db}.posts") || strings.HasSuffix(q.SQL, "{db}.matches") {
			t.Errorf("%s reads a base table; read the *_dedup / *_latest views so deletes and redelivery are handled", q.Name)
		}
	}
	if _, ok := c.Get("no_such_query"); ok {
		t.Error("Get of an unknown name succeeded")
	}
}

// TestBoundGolden keeps every query's SQL with its defaults bound (at a
// fixed now) in testdata/bound/, for review. Refresh with -update.
func TestBoundGolden(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return fixedNow }
	for _, q := range c.List() {
		sql, err := c.Bind("earshot", q.Name, requiredValues(q))
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		if strings.ContainsAny(sql, "{}") {
			t.Errorf("%s: placeholder left after binding:\n%s", q.Name, sql)
		}
		path := filepath.Join("testdata", "bound", q.Name+".sql")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(sql+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test -update)", q.Name, err)
			continue
		}
		if sql+"\n" != string(want) {
			t.Errorf("%s: bound SQL differs from %s (run go test -update if intended):\n%s", q.Name, path, sql)
		}
	}
}

const testQuery = `-- title: Test
-- description: A query for the tests,
--   over two lines.
-- param s string = "": a string
-- param n int = 5 [1, 100]: a number
-- param at datetime = 7d: a time
-- param d duration = 1h [1m, 1d]: a duration
-- param req string: required
SELECT {s} AS s, {n} AS n, {at} AS at, {d} AS d, {req} AS req FROM {db}.t
`

func TestParseHeader(t *testing.T) {
	q, err := Parse("test", testQuery)
	if err != nil {
		t.Fatal(err)
	}
	if q.Title != "Test" || q.Description != "A query for the tests, over two lines." {
		t.Errorf("title %q, description %q", q.Title, q.Description)
	}
	want := []Param{
		{Name: "s", Type: "string", Doc: "a string"},
		{Name: "n", Type: "int", Default: "5", Min: "1", Max: "100", Doc: "a number"},
		{Name: "at", Type: "datetime", Default: "7d", Doc: "a time"},
		{Name: "d", Type: "duration", Default: "1h", Min: "1m", Max: "1d", Doc: "a duration"},
		{Name: "req", Type: "string", Doc: "required", Required: true},
	}
	if len(q.Params) != len(want) {
		t.Fatalf("params %+v", q.Params)
	}
	for i := range want {
		if q.Params[i] != want[i] {
			t.Errorf("param %d = %+v, want %+v", i, q.Params[i], want[i])
		}
	}
	if !strings.HasPrefix(q.SQL, "SELECT") || strings.Contains(q.SQL, "--") {
		t.Errorf("SQL %q", q.SQL)
	}
}

func TestParseErrors(t *testing.T) {
	for name, text := range map[string]string{
		"no title":          "-- description: d\nSELECT 1 FROM {db}.t",
		"no description":    "-- title: t\nSELECT 1 FROM {db}.t",
		"no SQL":            "-- title: t\n-- description: d\n",
		"unknown header":    "-- title: t\n-- description: d\n-- author: me\nSELECT 1 FROM {db}.t",
		"bad param type":    "-- title: t\n-- description: d\n-- param x float: x\nSELECT {x} FROM {db}.t",
		"undeclared":        "-- title: t\n-- description: d\nSELECT {x} FROM {db}.t",
		"unused":            "-- title: t\n-- description: d\n-- param x int = 1: x\nSELECT 1 FROM {db}.t",
		"quoted":            "-- title: t\n-- description: d\n-- param x string: x\nSELECT '{x}' FROM {db}.t",
		"bad default":       "-- title: t\n-- description: d\n-- param x int = many: x\nSELECT {x} FROM {db}.t",
		"bad datetime":      "-- title: t\n-- description: d\n-- param x datetime = yesterday: x\nSELECT {x} FROM {db}.t",
		"range on a string": "-- title: t\n-- description: d\n-- param x string = a [1, 2]: x\nSELECT {x} FROM {db}.t",
		"no db":             "-- title: t\n-- description: d\nSELECT 1",
		"twice":             "-- title: t\n-- description: d\n-- param x int = 1: x\n-- param x int = 1: x\nSELECT {x} FROM {db}.t",
	} {
		if _, err := Parse("q", text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Parse("Bad-Name", testQuery); err == nil {
		t.Error("a name with capitals and a dash: no error")
	}
	fsys := fstest.MapFS{
		"q/a.sql": {Data: []byte(testQuery)},
		"q/b.sql": {Data: []byte("-- title: t\nSELECT 1 FROM {db}.t")},
	}
	if _, err := LoadFS(fsys, "q"); err == nil || !strings.Contains(err.Error(), "b.sql") {
		t.Errorf("LoadFS with a bad file: %v, want an error naming b.sql", err)
	}
}

// TestFragments: {{name}} splices in fragments/name.sql (without its
// comment lines, indented as the reference), whose placeholders must be
// params of the query; an unknown fragment is an error naming the file.
func TestFragments(t *testing.T) {
	head := "-- title: t\n-- description: d\n-- param since datetime = 7d: s\n"
	fsys := fstest.MapFS{
		"q/fragments/first.sql": {Data: []byte("-- why\nSELECT id\nFROM {db}.e\nWHERE at >= {since}\n")},
		"q/a.sql":               {Data: []byte(head + "SELECT *\nFROM\n(\n    {{first}}\n)")},
	}
	c, err := LoadFS(fsys, "q")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := c.Get("a")
	if want := "SELECT *\nFROM\n(\n    SELECT id\n    FROM {db}.e\n    WHERE at >= {since}\n)"; q.SQL != want {
		t.Errorf("SQL %q, want %q", q.SQL, want)
	}
	fsys["q/b.sql"] = &fstest.MapFile{Data: []byte(head + "SELECT {since} FROM {db}.t, ({{nope}})")}
	if _, err := LoadFS(fsys, "q"); err == nil || !strings.Contains(err.Error(), "b.sql") || !strings.Contains(err.Error(), "{{nope}}") {
		t.Errorf("an unknown fragment: %v, want an error naming b.sql and {{nope}}", err)
	}
	// The fragment's {since} must be a param of the query that uses it.
	fsys["q/b.sql"] = &fstest.MapFile{Data: []byte("-- title: t\nSELECT * FROM ({{first}})")}
	if _, err := LoadFS(fsys, "q"); err == nil || !strings.Contains(err.Error(), "{since}") {
		t.Errorf("a fragment's undeclared placeholder: %v, want an error naming {since}", err)
	}
}

func TestBind(t *testing.T) {
	q, err := Parse("test", testQuery)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(q)
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return fixedNow }
	ok := func(params map[string]string, want string) {
		t.Helper()
		got, err := c.Bind("earshot", "test", params)
		if err != nil {
			t.Errorf("%v: %v", params, err)
			return
		}
		if got != want {
			t.Errorf("%v:\n got %s\nwant %s", params, got, want)
		}
	}
	// 2026-11-15T12:00:00Z (7d before fixedNow) is 1794744000 (date -u -d @1794744000).
	ok(map[string]string{"req": "r"},
		"SELECT '' AS s, 5 AS n, toDateTime(1794744000) AS at, 3600 AS d, 'r' AS req FROM earshot.t")
	ok(map[string]string{"req": "it's", "s": `a\b`, "n": "100", "at": "2026-11-01T10:00:00+02:00", "d": "1d"},
		`SELECT 'a\\b' AS s, 100 AS n, toDateTime(1793520000) AS at, 86400 AS d, 'it\'s' AS req FROM earshot.t`)
	ok(map[string]string{"req": "{db}", "at": "now", "d": "90m"},
		"SELECT '' AS s, 5 AS n, toDateTime(1795348800) AS at, 5400 AS d, '{db}' AS req FROM earshot.t")
	ok(map[string]string{"req": "x", "at": "2026-11-01"},
		"SELECT '' AS s, 5 AS n, toDateTime(1793491200) AS at, 3600 AS d, 'x' AS req FROM earshot.t")

	bad := func(db string, params map[string]string, wants ...string) {
		t.Helper()
		_, err := c.Bind(db, "test", params)
		if err == nil {
			t.Errorf("%q %v: no error", db, params)
			return
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q %v: %v, want it to mention %q", db, params, err, w)
			}
		}
	}
	bad("earshot", map[string]string{}, "req (string) is required")
	bad("earshot", map[string]string{"req": "x", "limit": "5", "n": "many"}, `"limit" is not a parameter of test`, `"many" is not an integer`)
	bad("earshot", map[string]string{"req": "x", "n": "0"}, "out of range [1, 100]")
	bad("earshot", map[string]string{"req": "x", "n": "101"}, "out of range")
	bad("earshot", map[string]string{"req": "x", "n": "1; DROP TABLE t"}, "not an integer")
	bad("earshot", map[string]string{"req": "x", "d": "30s"}, "out of range")
	bad("earshot", map[string]string{"req": "x", "d": "1.5s"}, "whole seconds")
	bad("earshot", map[string]string{"req": "x", "d": "-1h"}, "at least 1s")
	bad("earshot", map[string]string{"req": "x", "at": "yesterday"}, "not a datetime")
	bad("earshot", map[string]string{"req": "x", "at": "1900-01-01T00:00:00Z"}, "outside 1970")
	bad("earshot", map[string]string{"req": "x", "at": "100000d"}, "not a datetime")
	bad("earshot", map[string]string{"req": strings.Repeat("x", MaxStringParam+1)}, "at most")
	bad("earshot", map[string]string{"req": "\xff"}, "UTF-8")
	bad("earshot; DROP TABLE t", map[string]string{"req": "x"}, "not a plain identifier")
	bad("`earshot`", map[string]string{"req": "x"}, "not a plain identifier")
	_, err = c.Bind("earshot", "nope", nil)
	if !errors.Is(err, ErrUnknownQuery) {
		t.Errorf("unknown query: %v", err)
	}
	_, err = c.Bind("earshot", "test", map[string]string{"n": "x"})
	if !errors.Is(err, ErrInvalidParams) {
		t.Errorf("bad params: %v, want ErrInvalidParams", err)
	}
}

// literals splits SQL into its string literals and the code around them,
// the way ClickHouse reads them: '...' with backslash escapes and ”.
func literals(t testing.TB, sql string) (code string, lits []string) {
	var b, lit strings.Builder
	in := false
	for i := 0; i < len(sql); i++ {
		ch := sql[i]
		switch {
		case !in && ch == '\'':
			in = true
			lit.Reset()
			b.WriteString("'?'")
		case in && ch == '\\':
			if i+1 >= len(sql) {
				t.Fatalf("dangling backslash in %q", sql)
			}
			i++
			switch sql[i] {
			case '0':
				lit.WriteByte(0)
			default:
				lit.WriteByte(sql[i])
			}
		case in && ch == '\'' && i+1 < len(sql) && sql[i+1] == '\'':
			i++
			lit.WriteByte('\'')
		case in && ch == '\'':
			in = false
			lits = append(lits, lit.String())
		case in:
			lit.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	if in {
		t.Fatalf("unterminated literal in %q", sql)
	}
	return b.String(), lits
}

var injections = []string{
	`x' OR 1=1 --`,
	`'; DROP TABLE earshot.posts; --`,
	`\' OR 1=1 --`,
	`\\' OR 1=1 --`,
	`x\`,
	"x\x00' OR 1=1",
	`' UNION ALL SELECT name FROM system.users --`,
	`{db}`,
	`{s}`,
	"x'\n; DROP DATABASE earshot",
	`x" OR "1"="1`,
	"/* */' OR '1",
}

// TestInjection: whatever a string parameter holds, the bound SQL has the
// same code as with a harmless value, and the literal reads back as the
// value exactly.
func TestInjection(t *testing.T) {
	q, err := Parse("test", testQuery)
	if err != nil {
		t.Fatal(err)
	}
	base, err := q.Bind("earshot", map[string]string{"req": "harmless"}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	wantCode, _ := literals(t, base)
	for _, v := range injections {
		sql, err := q.Bind("earshot", map[string]string{"req": v, "s": v}, fixedNow)
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		code, lits := literals(t, sql)
		if code != wantCode {
			t.Errorf("%q changed the query's code:\n%s", v, sql)
		}
		if len(lits) != 2 || lits[0] != v || lits[1] != v {
			t.Errorf("%q: literals read back as %q", v, lits)
		}
	}
}

func FuzzBindString(f *testing.F) {
	for _, v := range injections {
		f.Add(v)
	}
	q, err := Parse("test", testQuery)
	if err != nil {
		f.Fatal(err)
	}
	base, err := q.Bind("earshot", map[string]string{"req": "harmless"}, fixedNow)
	if err != nil {
		f.Fatal(err)
	}
	wantCode, _ := literals(f, base)
	f.Fuzz(func(t *testing.T, v string) {
		sql, err := q.Bind("earshot", map[string]string{"req": v}, fixedNow)
		if err != nil {
			return // too long or not UTF-8: refused, fine
		}
		code, lits := literals(t, sql)
		if code != wantCode || len(lits) != 2 || lits[1] != v {
			t.Fatalf("%q: code %q, literals %q", v, code, lits)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(testQuery)
	f.Add("-- title: t\n-- description: d\n-- param x int = 1 [0, 9]: x\nSELECT {x} FROM {db}.t")
	f.Fuzz(func(t *testing.T, text string) {
		q, err := Parse("q", text)
		if err != nil {
			return
		}
		// A query that parses binds with its defaults, or says why not.
		params := requiredValues(q)
		if _, err := q.Bind("earshot", params, fixedNow); err != nil && !errors.Is(err, ErrInvalidParams) {
			t.Fatalf("bind: %v", err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
	err := Config{MaxRows: 0, Timeout: time.Millisecond}.Validate()
	if err == nil || !strings.Contains(err.Error(), "max_rows") || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("got %v, want both problems", err)
	}
}

// cookbookMarkdown renders the catalogue for docs/analysts.md.
func cookbookMarkdown(qs []Query) string {
	var b strings.Builder
	b.WriteString("\n| query | the question |\n|---|---|\n")
	for _, q := range qs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", q.Name, q.Name, q.Title)
	}
	for _, q := range qs {
		fmt.Fprintf(&b, "\n### %s\n\n**%s.** %s\n\n", q.Name, q.Title, q.Description)
		if len(q.Params) > 0 {
			b.WriteString("| parameter | type | default | range | meaning |\n|---|---|---|---|---|\n")
			for _, p := range q.Params {
				def := "`" + p.Default + "`"
				if p.Required {
					def = "required"
				} else if p.Default == "" {
					def = `""`
				}
				rng := ""
				if p.Min != "" {
					rng = p.Min + " to " + p.Max
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", p.Name, p.Type, def, rng, p.Doc)
			}
			b.WriteString("\n")
		}
		example := "earshot insights run " + q.Name
		for _, p := range q.Params {
			if p.Required {
				example += " --param " + p.Name + "=acme"
			}
		}
		fmt.Fprintf(&b, "```sql\n%s\n```\n\n```sh\n%s\n```\n", q.SQL, example)
	}
	return b.String()
}

// TestAnalystsDoc keeps the cookbook in docs/analysts.md the same as the
// catalogue. Refresh with -update.
func TestAnalystsDoc(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", "analysts.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- cookbook:begin -->\n", "<!-- cookbook:end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q … %q section", path, begin, end)
	}
	want := cookbookMarkdown(c.List())
	if got := string(doc[i+len(begin) : j]); got != want {
		if !*update {
			t.Fatalf("%s: the cookbook section is not the catalogue's (run go test ./insights -run TestAnalystsDoc -update)", path)
		}
		out := string(doc[:i+len(begin)]) + want + string(doc[j:])
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRuntimeStatements(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.RuntimeStatements("earshot")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(c.List())+1 {
		t.Errorf("%d statements for %d queries, want one each and the readonly read", len(got), len(c.List()))
	}
	for _, q := range c.List() {
		if s := got["insights.run."+q.Name]; !strings.HasSuffix(s, "\nSETTINGS max_execution_time = 30") {
			t.Errorf("%s: without the SETTINGS clause: %.200s...", q.Name, s)
		}
	}
}

// A datetime with an offset is checked against ClickHouse's DateTime range
// in UTC: 1970-01-01T00:00:00+01:00 is an hour before 1970, which
// toDateTime(-3600) would have read as a time in 2106 (an empty window).
func TestDatetimeRangeInUTC(t *testing.T) {
	for _, v := range []string{"1970-01-01T00:00:00+01:00", "1970-01-01T00:59:59+01:00", "2106-02-07T06:28:16Z", "2105-12-31T23:00:00-23:59"} {
		if got, err := ParseDatetime(v, fixedNow); err == nil {
			t.Errorf("%s: %v (unix %d), want an error", v, got, got.Unix())
		}
	}
	for _, v := range []string{"1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00", "2105-12-31T23:59:59Z"} {
		if _, err := ParseDatetime(v, fixedNow); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
}
