package insights

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrUnknownQuery is returned for a query name the catalogue does not have.
var ErrUnknownQuery = errors.New("unknown query")

// ErrInvalidParams wraps every problem with the parameters of a run: an
// unknown name, a missing value, a value that is not of the declared type
// or out of its range. The API answers these with 400.
var ErrInvalidParams = errors.New("invalid parameters")

//go:embed queries/*.sql queries/fragments/*.sql
var embedded embed.FS

// Param types.
const (
	TypeString   = "string"
	TypeInt      = "int"
	TypeDatetime = "datetime"
	TypeDuration = "duration"
)

// MaxStringParam is the longest string parameter accepted, in bytes.
const MaxStringParam = 1000

var (
	queryName   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	// -- param NAME TYPE [= DEFAULT] [[MIN, MAX]]: DOC
	paramLine = regexp.MustCompile(`^(\w+)\s+(string|int|datetime|duration)\s*(?:=\s*("[^"]*"|\S+))?\s*(?:\[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\])?\s*:\s*(.+)$`)
	// The database is an identifier, spliced in as {db}.
	identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
	// {{name}}: the SQL of fragments/name.sql, spliced in when loading.
	fragmentRef = regexp.MustCompile(`\{\{([a-z][a-z0-9_]{0,62})\}\}`)
)

// Catalog is the set of named queries.
type Catalog struct {
	queries []Query
	byName  map[string]int
	// Now is the clock relative datetimes ("7d": seven days before now)
	// are taken from; time.Now when nil.
	Now func() time.Time
	// Limits bound every run.
	Limits Config
}

// Load returns the catalogue embedded in the binary (insights/queries/*.sql).
func Load() (*Catalog, error) {
	return LoadFS(embedded, "queries")
}

// LoadFS reads every NAME.sql file in dir of fsys as a query named NAME.
// A query's {{F}} is replaced by the SQL of dir/fragments/F.sql (its "--"
// comment lines left out), so that queries which must agree — every SLA
// figure takes the first response from fragments/first_response.sql —
// share one definition; the catalogue, the API and docs/analysts.md show
// the query with its fragments in place.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	fragments, err := loadFragments(fsys, path.Join(dir, "fragments"))
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("listing queries: %w", err)
	}
	var qs []Query
	var errs []error
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", f, err))
			continue
		}
		text, err := expandFragments(string(b), fragments)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		q, err := Parse(strings.TrimSuffix(path.Base(f), ".sql"), text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		qs = append(qs, q)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(qs...)
}

// loadFragments reads dir/NAME.sql of fsys as the fragment NAME, without
// its "--" comment lines (which document it) and its trailing newlines.
func loadFragments(fsys fs.FS, dir string) (map[string]string, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("listing fragments: %w", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		var lines []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				lines = append(lines, line)
			}
		}
		sql := strings.TrimSpace(strings.Join(lines, "\n"))
		if sql == "" {
			return nil, fmt.Errorf("fragment %s is empty", f)
		}
		out[strings.TrimSuffix(path.Base(f), ".sql")] = sql
	}
	return out, nil
}

// expandFragments replaces each {{name}} of text by the fragment's SQL,
// every line after the first indented as the reference is. Fragments are
// not expanded within fragments.
func expandFragments(text string, fragments map[string]string) (string, error) {
	var b strings.Builder
	var errs []error
	last := 0
	for _, m := range fragmentRef.FindAllStringSubmatchIndex(text, -1) {
		name := text[m[2]:m[3]]
		sql, ok := fragments[name]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown fragment {{%s}}", name))
			continue
		}
		lineStart := strings.LastIndexByte(text[:m[0]], '\n') + 1
		line := text[lineStart:m[0]]
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		b.WriteString(text[last:m[0]])
		b.WriteString(strings.ReplaceAll(sql, "\n", "\n"+indent))
		last = m[1]
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// New returns a catalogue of the given queries, with the default limits.
func New(qs ...Query) (*Catalog, error) {
	c := &Catalog{byName: map[string]int{}, Limits: DefaultConfig()}
	for _, q := range qs {
		if _, dup := c.byName[q.Name]; dup {
			return nil, fmt.Errorf("query %s defined twice", q.Name)
		}
		if err := check(q); err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Name, err)
		}
		c.byName[q.Name] = len(c.queries)
		c.queries = append(c.queries, q)
	}
	slices.SortFunc(c.queries, func(a, b Query) int { return strings.Compare(a.Name, b.Name) })
	for i, q := range c.queries {
		c.byName[q.Name] = i
	}
	return c, nil
}

// List returns every query, sorted by name.
func (c *Catalog) List() []Query { return slices.Clone(c.queries) }

// Get returns the named query.
func (c *Catalog) Get(name string) (Query, bool) {
	i, ok := c.byName[name]
	if !ok {
		return Query{}, false
	}
	return c.queries[i], true
}

// Parse reads one query file: a header of "--" comment lines, then the SQL.
//
//	-- title: Share of voice by region
//	-- description: Which watchlists take what share of the mentions in
//	--   each region (continuation lines are indented).
//	-- param since datetime = 7d: start of the window
//	-- param top int = 20 [1, 1000]: rows to return
//	SELECT ... WHERE created_at >= {since} ... FROM {db}.matches_dedup
//
// A parameter without a default is required. {db} is the database;
// {name} is a parameter, bound client-side as a typed SQL literal.
func Parse(name, text string) (Query, error) {
	q := Query{Name: name}
	var sql []string
	var last *string
	inHeader := true
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if inHeader && strings.HasPrefix(trimmed, "--") {
			body := strings.TrimPrefix(trimmed, "--")
			if strings.HasPrefix(body, "   ") && last != nil { // continuation
				*last += " " + strings.TrimSpace(body)
				continue
			}
			body = strings.TrimSpace(body)
			key, val, ok := strings.Cut(body, ":")
			switch {
			case ok && key == "title":
				q.Title = strings.TrimSpace(val)
				last = &q.Title
			case ok && key == "description":
				q.Description = strings.TrimSpace(val)
				last = &q.Description
			case strings.HasPrefix(body, "param "):
				p, err := parseParam(strings.TrimSpace(strings.TrimPrefix(body, "param ")))
				if err != nil {
					errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
					continue
				}
				q.Params = append(q.Params, p)
				last = &q.Params[len(q.Params)-1].Doc
			case body == "":
				last = nil
			default:
				errs = append(errs, fmt.Errorf("line %d: header line %q is not title:, description: or param", i+1, body))
			}
			continue
		}
		if inHeader && trimmed == "" {
			continue
		}
		inHeader = false
		sql = append(sql, strings.TrimRight(line, " \t\r"))
	}
	q.SQL = strings.TrimSpace(strings.Join(sql, "\n"))
	q.SQL = strings.TrimSuffix(q.SQL, ";")
	if err := errors.Join(errs...); err != nil {
		return q, err
	}
	return q, check(q)
}

func parseParam(s string) (Param, error) {
	m := paramLine.FindStringSubmatch(s)
	if m == nil {
		return Param{}, fmt.Errorf("param %q: want NAME TYPE [= DEFAULT] [[MIN, MAX]]: DOC with TYPE one of string, int, datetime, duration", s)
	}
	p := Param{Name: m[1], Type: m[2], Default: strings.Trim(m[3], `"`), Min: m[4], Max: m[5], Doc: m[6], Required: m[3] == ""}
	return p, nil
}

// check verifies a query is complete and its placeholders and parameters
// agree.
func check(q Query) error {
	var errs []error
	if !queryName.MatchString(q.Name) {
		errs = append(errs, fmt.Errorf("name %q: want lower case letters, digits and _", q.Name))
	}
	if q.Title == "" {
		errs = append(errs, errors.New("no title"))
	}
	if q.Description == "" {
		errs = append(errs, errors.New("no description"))
	}
	if q.SQL == "" {
		errs = append(errs, errors.New("no SQL"))
	}
	declared := map[string]bool{}
	for _, p := range q.Params {
		if p.Name == "db" || declared[p.Name] {
			errs = append(errs, fmt.Errorf("param %s declared twice or reserved", p.Name))
		}
		declared[p.Name] = true
		if !p.Required {
			if _, err := p.literal(p.Default, time.Now()); err != nil {
				errs = append(errs, fmt.Errorf("param %s: default: %w", p.Name, err))
			}
		}
		if (p.Min != "" || p.Max != "") && p.Type != TypeInt && p.Type != TypeDuration {
			errs = append(errs, fmt.Errorf("param %s: a range is only for int and duration", p.Name))
		}
		if p.Min != "" {
			if _, err := p.number(p.Min); err != nil {
				errs = append(errs, fmt.Errorf("param %s: min: %w", p.Name, err))
			}
			if _, err := p.number(p.Max); err != nil {
				errs = append(errs, fmt.Errorf("param %s: max: %w", p.Name, err))
			}
		}
	}
	used := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatchIndex(q.SQL, -1) {
		name := q.SQL[m[2]:m[3]]
		used[name] = true
		if name != "db" && !declared[name] {
			errs = append(errs, fmt.Errorf("{%s} in the SQL is not a declared param", name))
		}
		if m[0] > 0 && q.SQL[m[0]-1] == '\'' {
			errs = append(errs, fmt.Errorf("{%s} is inside quotes: placeholders are bound as literals, write them bare", name))
		}
	}
	if !used["db"] {
		errs = append(errs, errors.New("the SQL does not read from {db}"))
	}
	for _, p := range q.Params {
		if !used[p.Name] {
			errs = append(errs, fmt.Errorf("param %s is not used in the SQL", p.Name))
		}
	}
	return errors.Join(errs...)
}

// Bind returns the named query's SQL with the database and the parameters
// in place, after checking them: unknown parameters, missing required ones
// and values not of their type are all reported at once.
func (c *Catalog) Bind(db, name string, params map[string]string) (string, error) {
	q, ok := c.Get(name)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownQuery, name)
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	return q.Bind(db, params, now)
}

// Bind returns the query's SQL with db and params bound; relative
// datetimes are taken back from now.
func (q Query) Bind(db string, params map[string]string, now time.Time) (string, error) {
	var errs []error
	if !identifier.MatchString(db) {
		errs = append(errs, fmt.Errorf("database %q is not a plain identifier", db))
	}
	values := map[string]string{"db": db}
	known := map[string]bool{}
	for _, p := range q.Params {
		known[p.Name] = true
		v, given := params[p.Name]
		if !given {
			if p.Required {
				errs = append(errs, fmt.Errorf("%w: %s (%s) is required", ErrInvalidParams, p.Name, p.Type))
				continue
			}
			v = p.Default
		}
		lit, err := p.literal(v, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidParams, p.Name, err))
			continue
		}
		values[p.Name] = lit
	}
	var unknown []string
	for k := range params {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("%w: %q is not a parameter of %s (it takes %s)", ErrInvalidParams, k, q.Name, q.paramNames()))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	// One pass: a bound value containing "{x}" is never expanded again.
	return placeholder.ReplaceAllStringFunc(q.SQL, func(m string) string {
		return values[m[1:len(m)-1]]
	}), nil
}

func (q Query) paramNames() string {
	if len(q.Params) == 0 {
		return "none"
	}
	names := make([]string, len(q.Params))
	for i, p := range q.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// literal checks v against the parameter's type and range and returns it
// as a SQL literal: strings quoted and escaped, ints and durations (in
// seconds) as decimal numbers, datetimes as toDateTime(unix seconds), which
// reads the same whatever the server's time zone.
func (p Param) literal(v string, now time.Time) (string, error) {
	switch p.Type {
	case TypeString:
		if len(v) > MaxStringParam {
			return "", fmt.Errorf("%d bytes, at most %d", len(v), MaxStringParam)
		}
		if !utf8.ValidString(v) {
			return "", errors.New("not valid UTF-8")
		}
		return QuoteString(v), nil
	case TypeInt, TypeDuration:
		n, err := p.number(v)
		if err != nil {
			return "", err
		}
		if p.Min != "" {
			lo, _ := p.number(p.Min)
			hi, _ := p.number(p.Max)
			if n < lo || n > hi {
				return "", fmt.Errorf("%s is out of range [%s, %s]", v, p.Min, p.Max)
			}
		}
		return strconv.FormatInt(n, 10), nil
	case TypeDatetime:
		t, err := ParseDatetime(v, now)
		if err != nil {
			return "", err
		}
		return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")", nil
	}
	return "", fmt.Errorf("unknown type %q", p.Type)
}

// number reads an int, or a duration as whole seconds.
func (p Param) number(v string) (int64, error) {
	if p.Type == TypeDuration {
		d, err := ParseDuration(v)
		if err != nil {
			return 0, err
		}
		return int64(d / time.Second), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	return n, nil
}

// ParseDuration reads a Go duration ("90m", "1h30m") or a number of days
// or weeks ("7d", "2w"), whole seconds and more than zero.
func ParseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	var d time.Duration
	if n, ok := strings.CutSuffix(v, "d"); ok && isDigits(n) {
		days, err := strconv.Atoi(n)
		if err != nil || days > 36600 {
			return 0, fmt.Errorf("%q: too many days", v)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else if n, ok := strings.CutSuffix(v, "w"); ok && isDigits(n) {
		weeks, err := strconv.Atoi(n)
		if err != nil || weeks > 5300 {
			return 0, fmt.Errorf("%q: too many weeks", v)
		}
		d = time.Duration(weeks) * 7 * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 90s, 15m, 24h, 7d, 2w)", v)
		}
	}
	if d < time.Second || d%time.Second != 0 {
		return 0, fmt.Errorf("%q: want whole seconds, at least 1s", v)
	}
	return d, nil
}

// ParseDatetime reads "now", an RFC 3339 time ("2026-11-01T10:00:00Z"), a
// date ("2026-11-01", midnight UTC) or a duration back from now ("7d",
// "24h": that long before now).
func ParseDatetime(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "now" {
		return now.UTC().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		// in UTC: an offset can carry a time in 1970 back to 1969, whose
		// negative seconds toDateTime reads as 2106
		if t = t.UTC(); t.Year() < 1970 || t.Year() > 2105 {
			return time.Time{}, fmt.Errorf("%q is outside 1970 to 2105 (ClickHouse DateTime)", v)
		}
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if t.Year() < 1970 || t.Year() > 2105 {
			return time.Time{}, fmt.Errorf("%q is outside 1970 to 2105 (ClickHouse DateTime)", v)
		}
		return t, nil
	}
	if d, err := ParseDuration(v); err == nil {
		t := now.Add(-d).UTC().Truncate(time.Second)
		if t.Unix() < 0 {
			return time.Time{}, fmt.Errorf("%q reaches back before 1970", v)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a datetime: want now, RFC 3339 (2026-11-01T10:00:00Z), a date (2026-11-01) or a time back from now (24h, 7d)", v)
}

// QuoteString returns s as a ClickHouse string literal: backslashes and
// single quotes escaped with a backslash (the driver's own rule), NUL as
// \0, so nothing in s can end the literal.
func QuoteString(s string) string {
	return "'" + quoter.Replace(s) + "'"
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`)

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
