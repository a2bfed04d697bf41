package search

import (
	"context"
	"errors"
	"fmt"
	"html"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	json "github.com/goccy/go-json"
)

// ErrBadQuery marks a query the caller must fix (an API answers 400).
var ErrBadQuery = errors.New("bad search query")

// Paging limits.
const (
	DefaultSize = 20
	MaxSize     = 200
	MaxText     = 4096 // bytes of query text
	MaxValues   = 1000 // values of one filter (watchlists, regions, …): each is a term searched in every day
	facetSize   = 50   // terms per facet, at most
	facetTerms  = 2000 // terms of the facet field counted, all facets together
)

// Fields a query may name, and their tags. text is the post text in
// whatever language it was written.
var queryFields = map[string]*tag{
	"text": nil, "author": &tagAuthor, "from": &tagAuthor, "hashtag": &tagHashtag, "mention": &tagMention,
	"platform": &tagPlatform, "lang": &tagLang, "region": &tagRegion, "sentiment": &tagSentiment,
	"watchlist": &tagWatchlist, "created": &tagMinute,
}

func queryFieldNames() string {
	names := make([]string, 0, len(queryFields))
	for k := range queryFields {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	langPattern   = regexp.MustCompile(`^([a-z]{2,3}(-[a-z0-9]{2,8})?|und)$`)
	regionPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
	sentiments    = []string{"negative", "neutral", "positive", "unknown"}
)

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadQuery, fmt.Sprintf(format, args...))
}

// normalize checks a query's filters and paging and puts values in the
// form they are indexed in.
func (x *Index) normalize(q Query) (Query, error) {
	var errs []error
	if len(q.Text) > MaxText {
		errs = append(errs, bad("query text is %d bytes; at most %d", len(q.Text), MaxText))
	}
	if q.Size == 0 {
		q.Size = DefaultSize
	}
	if q.Size < 0 || q.Size > MaxSize {
		errs = append(errs, bad("size %d: want 1 to %d", q.Size, MaxSize))
	}
	if q.From < 0 {
		errs = append(errs, bad("from %d: want 0 or more", q.From))
	} else if q.From > x.cfg.MaxHits-q.Size { // not From+Size: that overflows, and bleve panics on the negative in a goroutine of its own
		errs = append(errs, bad("from %d + size %d reaches past hit %d, the deepest a query may page (search.max_hits): narrow the query", q.From, q.Size, x.cfg.MaxHits))
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		errs = append(errs, bad("since %s is not before until %s", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339)))
	}
	check := func(what string, vs []string, norm func(string) string, ok func(string) bool, want string) []string {
		if len(vs) > MaxValues {
			errs = append(errs, bad("at most %d %s values, not %d", MaxValues, what, len(vs)))
			return nil
		}
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			v = norm(strings.TrimSpace(v))
			if !ok(v) {
				errs = append(errs, bad("unknown %s %q: want %s", what, v, want))
				continue
			}
			out = append(out, v)
		}
		return out
	}
	id := func(s string) string { return s }
	q.Watchlists = check("watchlist", q.Watchlists, id, idPattern.MatchString, "a watchlist id")
	q.Regions = check("region", q.Regions, regionName, regionPattern.MatchString, "a region such as EMEA, APAC, LATAM, NA")
	q.Sentiments = check("sentiment", q.Sentiments, strings.ToLower, func(s string) bool { return slices.Contains(sentiments, s) }, "negative, neutral, positive or unknown")
	q.Langs = check("language", q.Langs, strings.ToLower, langPattern.MatchString, "an ISO 639 code such as en, el, pt-br or und")
	return q, errors.Join(errs...)
}

// marks are what a query's text terms look like to each analyzer, for
// highlighting: the analyzed terms, prefixes and patterns it asks for;
// and, for the bound on the words they match, the dictionary patterns it
// runs.
type marks struct {
	terms    map[string]map[string]bool // analyzer → terms
	prefixes []string
	patterns []*regexp.Regexp
	words    []wordPattern
}

// rewriter turns a parsed query string into a query over the index's
// fields: unfielded and text: terms are asked of every language's text
// field (or those of the lang filter), names are checked.
type rewriter struct {
	x         *Index
	analyzers []string
	marks     marks
	seen      []string // the watchlists of a scoped caller; nil: unscoped
	patterns  int      // wildcard, regexp and fuzzy clauses so far
}

// Limits on a query's patterns. Each wildcard, regexp or fuzzy term is an
// automaton run over the terms of every text field of every day searched,
// so its cost grows with the query, not with its hits: a 4 KB query of
// *a* took 19 s on a 7-post index, and a regexp of a counted repeat such
// as .{0,150} a second, before a single hit was scored.
const (
	maxPatterns    = 8
	maxPatternInst = 100 // compiled steps of one pattern, letters aside: ref[ua]nd is 7, .{0,40} 84
)

// pattern counts one pattern clause; re, when not empty, is its anchored
// regular expression, whose size is checked too.
func (r *rewriter) pattern(what, re string) error {
	r.patterns++
	if r.patterns > maxPatterns {
		return bad("a query may hold at most %d patterns (wildcards, /regexps/ and fuzzy word~N terms together)", maxPatterns)
	}
	if re == "" {
		return nil
	}
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return bad("pattern %s: %v", what, err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return bad("pattern %s: %v", what, err)
	}
	// Literal letters cost the automaton nothing much (refund* is cheap
	// however long); classes, alternatives and repeats multiply its states.
	steps := 0
	for _, in := range prog.Inst {
		if in.Op != syntax.InstRune1 {
			steps++
		}
	}
	if steps > maxPatternInst {
		return bad("pattern %s is too complex (%d steps; at most %d): use fewer or smaller repeats and ? wildcards", what, steps, maxPatternInst)
	}
	return nil
}

// words notes that pattern what runs as regular expression re (as bleve
// runs it) over the dictionaries of fields.
func (r *rewriter) words(what, re string, fields ...string) {
	for _, f := range fields {
		r.marks.words = append(r.marks.words, wordPattern{what: what, field: f, re: re})
	}
}

// fuzzyWords notes the fuzzy terms text~edits asks of fields: each word
// the field's analyzer makes of text, within edits of the words of the
// dictionary that begin with its first prefix bytes (as bleve's fuzzy
// searcher cuts it). Nothing without edits.
func (r *rewriter) fuzzyWords(text string, edits, prefix int, fields ...string) {
	if edits <= 0 {
		return
	}
	for _, f := range fields {
		ts, err := r.x.mapping.AnalyzeText(r.x.mapping.AnalyzerNameForPath(f), []byte(text))
		if err != nil {
			continue
		}
		for _, t := range ts {
			term := string(t.Term)
			cut := term
			for i := range term {
				if i >= prefix {
					cut = term[:i]
					break
				}
			}
			r.marks.words = append(r.marks.words, wordPattern{what: fmt.Sprintf("%s~%d", text, edits), field: f, fuzzy: term, edits: edits, prefix: cut})
		}
	}
}

// unseen reports whether t is the watchlist field of a scoped caller,
// whose clauses must match only the watchlists the caller sees.
func (r *rewriter) unseen(t *tag) bool { return t == &tagWatchlist && len(r.seen) > 0 }

// seenWhere is the clause over the caller's watchlists that ok accepts: a
// watchlist they may not see is treated exactly as one that does not
// exist, in a positive clause and a negated one alike, so that the hits
// and counts are no oracle for what another team's list caught.
func (r *rewriter) seenWhere(ok func(id string) bool) query.Query {
	return termsOf(tagWatchlist, slices.DeleteFunc(slices.Clone(r.seen), func(id string) bool { return !ok(id) }))
}

// termsOf matches any of vs (a tag's values); none matches nothing.
func termsOf(t tag, vs []string) query.Query {
	if len(vs) == 0 {
		return query.NewMatchNoneQuery()
	}
	qs := make([]query.Query, len(vs))
	for i, v := range vs {
		tq := query.NewTermQuery(t.term(v))
		tq.SetField(t.field)
		qs[i] = tq
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

func (r *rewriter) textFields() []string {
	fs := make([]string, len(r.analyzers))
	for i, a := range r.analyzers {
		fs[i] = textPrefix + a
	}
	return fs
}

// field returns the tag of a field a query names; nil is the text.
func (r *rewriter) field(name string) (*tag, error) {
	if name == "" {
		return nil, nil
	}
	f, ok := queryFields[name]
	if !ok {
		return nil, bad("unknown field %q: fields are %s", name, queryFieldNames())
	}
	return f, nil
}

// mark records the terms of a positive text clause, as each analyzer makes them.
func (r *rewriter) mark(text string) {
	for _, a := range r.analyzers {
		ts, err := r.x.mapping.AnalyzeText(analyzerName(a), []byte(text))
		if err != nil {
			continue
		}
		for _, t := range ts {
			if r.marks.terms[a] == nil {
				r.marks.terms[a] = map[string]bool{}
			}
			r.marks.terms[a][string(t.Term)] = true
		}
	}
}

func expand[T query.Query](fields []string, mk func(field string) T) query.Query {
	if len(fields) == 1 {
		return mk(fields[0])
	}
	qs := make([]query.Query, len(fields))
	for i, f := range fields {
		qs[i] = mk(f)
	}
	return query.NewDisjunctionQuery(qs)
}

func (r *rewriter) rewrite(q query.Query, neg bool) (query.Query, error) {
	if q == nil {
		return nil, nil
	}
	var err error
	switch q := q.(type) {
	case *query.BooleanQuery:
		if q.Must, err = r.rewrite(q.Must, neg); err != nil {
			return nil, err
		}
		if q.Should, err = r.rewrite(q.Should, neg); err != nil {
			return nil, err
		}
		if q.MustNot, err = r.rewrite(q.MustNot, !neg); err != nil {
			return nil, err
		}
		if q.Filter, err = r.rewrite(q.Filter, neg); err != nil {
			return nil, err
		}
		return q, nil
	case *query.ConjunctionQuery:
		for i := range q.Conjuncts {
			if q.Conjuncts[i], err = r.rewrite(q.Conjuncts[i], neg); err != nil {
				return nil, err
			}
		}
		return q, nil
	case *query.DisjunctionQuery:
		for i := range q.Disjuncts {
			if q.Disjuncts[i], err = r.rewrite(q.Disjuncts[i], neg); err != nil {
				return nil, err
			}
		}
		return q, nil
	case *query.MatchQuery:
		if err := fuzzy(q.Match, q.Fuzziness); err != nil {
			return nil, err
		}
		if q.Fuzziness > 0 {
			if err := r.pattern(q.Match, ""); err != nil {
				return nil, err
			}
		}
		t, err := r.field(q.FieldVal)
		if err != nil {
			return nil, err
		}
		if r.unseen(t) {
			// exact, fuzziness aside: a fuzzy id would reach unseen ones
			return r.seenWhere(func(id string) bool { return id == q.Match }), nil
		}
		if t != nil {
			q.FieldVal, q.Match = t.field, t.term(q.Match)
			r.fuzzyWords(q.Match, q.Fuzziness, q.Prefix, t.field)
			return q, nil
		}
		if !neg && q.Fuzziness == 0 {
			r.mark(q.Match)
		}
		r.fuzzyWords(q.Match, q.Fuzziness, q.Prefix, r.textFields()...)
		return expand(r.textFields(), func(f string) *query.MatchQuery { c := *q; c.FieldVal = f; return &c }), nil
	case *query.MatchPhraseQuery:
		if err := fuzzy(q.MatchPhrase, q.Fuzziness); err != nil {
			return nil, err
		}
		if q.Fuzziness > 0 {
			if err := r.pattern(q.MatchPhrase, ""); err != nil {
				return nil, err
			}
		}
		t, err := r.field(q.FieldVal)
		if err != nil {
			return nil, err
		}
		if r.unseen(t) {
			return r.seenWhere(func(id string) bool { return id == q.MatchPhrase }), nil
		}
		if t != nil {
			q.FieldVal, q.MatchPhrase = t.field, t.term(q.MatchPhrase)
			r.fuzzyWords(q.MatchPhrase, q.Fuzziness, 0, t.field)
			return q, nil
		}
		if !neg && q.Fuzziness == 0 {
			r.mark(q.MatchPhrase)
		}
		r.fuzzyWords(q.MatchPhrase, q.Fuzziness, 0, r.textFields()...)
		return expand(r.textFields(), func(f string) *query.MatchPhraseQuery { c := *q; c.FieldVal = f; return &c }), nil
	case *query.WildcardQuery:
		t, err := r.field(q.FieldVal)
		if err != nil {
			return nil, err
		}
		if err := r.pattern(q.Wildcard, "^"+strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(q.Wildcard))+"$"); err != nil {
			return nil, err
		}
		if r.unseen(t) {
			re, err := regexp.Compile("^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(q.Wildcard)) + "$")
			if err != nil {
				return nil, bad("pattern %q: %v", q.Wildcard, err)
			}
			return r.seenWhere(re.MatchString), nil
		}
		if t != nil {
			q.FieldVal, q.Wildcard = t.field, t.term(q.Wildcard)
			r.words(q.Wildcard, wildcardRegexp(q.Wildcard), t.field)
			return q, nil
		}
		q.Wildcard = strings.ToLower(q.Wildcard)
		if strings.Trim(q.Wildcard, "*?") == "" {
			return nil, bad("%q matches every term; search for * alone to see everything, or give a few letters", q.Wildcard)
		}
		if !neg {
			if re, err := regexp.Compile("^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(q.Wildcard)) + "$"); err == nil {
				r.marks.patterns = append(r.marks.patterns, re)
			}
		}
		r.words(q.Wildcard, wildcardRegexp(q.Wildcard), r.textFields()...)
		return expand(r.textFields(), func(f string) *query.WildcardQuery { c := *q; c.FieldVal = f; return &c }), nil
	case *query.RegexpQuery:
		t, err := r.field(q.FieldVal)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile("^(?:" + q.Regexp + ")$")
		if err != nil {
			return nil, bad("regular expression /%s/: %v", q.Regexp, err)
		}
		if err := r.pattern("/"+q.Regexp+"/", "^(?:"+q.Regexp+")$"); err != nil {
			return nil, err
		}
		if r.unseen(t) {
			return r.seenWhere(re.MatchString), nil
		}
		if t != nil {
			what := "/" + q.Regexp + "/"
			q.FieldVal, q.Regexp = t.field, regexp.QuoteMeta(t.prefix)+"(?:"+q.Regexp+")"
			r.words(what, q.Regexp, t.field)
			return q, nil
		}
		if !neg {
			r.marks.patterns = append(r.marks.patterns, re)
		}
		r.words("/"+q.Regexp+"/", strings.TrimPrefix(q.Regexp, "^"), r.textFields()...)
		return expand(r.textFields(), func(f string) *query.RegexpQuery { c := *q; c.FieldVal = f; return &c }), nil
	case *query.NumericRangeQuery:
		// field:5 is parsed as a term or a number; no field here is numeric.
		return query.NewMatchNoneQuery(), nil
	case *query.DateRangeQuery:
		if q.FieldVal != "created" {
			return nil, bad("date ranges apply to created only (created:>\"2026-11-20\"), not %q", q.FieldVal)
		}
		start, end := q.Start.Time, q.End.Time
		if q.InclusiveStart != nil && !*q.InclusiveStart && !start.IsZero() {
			start = start.Add(time.Minute)
		}
		if q.InclusiveEnd != nil && *q.InclusiveEnd && !end.IsZero() {
			end = end.Add(time.Minute)
		}
		return minuteRange(start, end), nil
	case *query.MatchNoneQuery, *query.MatchAllQuery:
		return q, nil
	}
	return nil, bad("unsupported query clause %T", q)
}

// maxFuzziness is bleve's own limit: its fuzzy searcher fails a shard on
// more, and an index alias turns a failed shard into no hits, not an error.
const maxFuzziness = 2

func fuzzy(term string, n int) error {
	if n > maxFuzziness {
		return bad("%s~%d: a fuzzy term allows at most 2 edits (word~1 or word~2)", term, n)
	}
	return nil
}

// parse turns a Query into the bleve query over one window, and the marks
// for highlighting.
func (x *Index) parse(q Query, present []string) (query.Query, marks, error) {
	r := &rewriter{x: x, marks: marks{terms: map[string]map[string]bool{}}}
	if q.Scope != nil {
		r.seen = q.Scope.Watchlists
	}
	for _, l := range q.Langs {
		if a := analyzerFor(l); !slices.Contains(r.analyzers, a) {
			r.analyzers = append(r.analyzers, a)
		}
	}
	if len(r.analyzers) == 0 {
		r.analyzers = present
	}
	if len(r.analyzers) == 0 {
		r.analyzers = []string{"std"}
	}
	var text query.Query
	switch t := strings.TrimSpace(q.Text); t {
	case "", "*":
		text = query.NewMatchAllQuery()
	default:
		if err := unsupported(t); err != nil {
			return nil, r.marks, err
		}
		parsed, err := query.NewQueryStringQuery(t).Parse()
		if err != nil {
			return nil, r.marks, bad("%q: %v (syntax: words, \"a phrase\", +must, -not, field:value, pre*, /regexp/, word~1; fields: %s)", t, oneLine(err), queryFieldNames())
		}
		if text, err = r.rewrite(parsed, false); err != nil {
			return nil, r.marks, err
		}
	}
	must := []query.Query{text}
	anyOf := func(t tag, vs []string) {
		if len(vs) == 0 {
			return
		}
		qs := make([]query.Query, len(vs))
		for i, v := range vs {
			tq := query.NewTermQuery(t.term(v))
			tq.SetField(t.field)
			qs[i] = tq
		}
		must = append(must, query.NewDisjunctionQuery(qs))
	}
	if len(r.seen) > 0 && len(q.Watchlists) > 0 {
		// the filter names the caller's watchlists only, as the query text does
		must = append(must, r.seenWhere(func(id string) bool { return slices.Contains(q.Watchlists, id) }))
	} else {
		anyOf(tagWatchlist, q.Watchlists)
	}
	anyOf(tagRegion, q.Regions)
	anyOf(tagSentiment, q.Sentiments)
	anyOf(tagLang, q.Langs)
	if s := q.Scope; s != nil {
		anyOf(tagWatchlist, s.Watchlists)
		anyOf(tagRegion, s.Regions)
		anyOf(tagMarket, s.Markets)
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		must = append(must, minuteRange(q.Since, q.Until))
	}
	if len(must) == 1 {
		return must[0], r.marks, nil
	}
	if _, all := text.(*query.MatchAllQuery); all {
		// Nothing to rank (* lists newest first): the filters alone, as a
		// conjunction that skips along the shortest of their lists.
		if len(must) == 2 {
			return must[1], r.marks, nil
		}
		return query.NewConjunctionQuery(must[1:]), r.marks, nil
	}
	// The filters narrow the hits without scoring: a region or watchlist
	// term must not add to the rank, least of all by a weight that differs
	// from one day's shard to the next.
	b := query.NewBooleanQuery(nil, nil, nil)
	b.AddMust(text)
	if len(must) == 2 {
		b.AddFilter(must[1])
	} else {
		b.AddFilter(query.NewConjunctionQuery(must[1:]))
	}
	return b, r.marks, nil
}

// minuteRange matches the posts created in [since, until), to the minute:
// since counts from the start of its minute, until up to the end of its
// minute unless it falls on one.
func minuteRange(since, until time.Time) query.Query {
	lo, hi := tagMinute.prefix, tagMinute.prefix+"~" // '~' sorts after every digit
	incl, hiIncl := true, false
	if !since.IsZero() {
		lo = tagMinute.term(since.UTC().Format(minuteLayout))
	}
	if !until.IsZero() {
		hi = tagMinute.term(until.UTC().Format(minuteLayout))
		hiIncl = !until.Equal(until.Truncate(time.Minute))
	}
	q := query.NewTermRangeInclusiveQuery(lo, hi, &incl, &hiIncl)
	q.SetField(fieldKW)
	return q
}

// unsupported rejects what people type from other search syntaxes that
// bleve would read as plain words: AND, OR, NOT and parentheses.
func unsupported(t string) error {
	inQuote, inRegexp, escaped := false, false, false
	var word strings.Builder
	check := func() error {
		switch w := word.String(); w {
		case "AND", "OR", "NOT", "&&", "||":
			word.Reset()
			return bad("%q: there is no %s here: words are any-of by default, +word must be there, -word must not (docs/search.md)", t, w)
		}
		word.Reset()
		return nil
	}
	for _, c := range t {
		switch {
		case escaped:
			escaped = false
			word.WriteRune(c)
			continue
		case c == '\\':
			escaped = true
			continue
		case c == '"' && !inRegexp:
			inQuote = !inQuote
		case c == '/' && !inQuote && word.Len() == 0:
			inRegexp = true
		case c == '/' && inRegexp:
			inRegexp = false
		case (c == '(' || c == ')') && !inQuote && !inRegexp:
			return bad("%q: parentheses do not group here: +word must be there, -word must not; escape one to search for it: \\%c (docs/search.md)", t, c)
		case c == ' ' || c == '\t' || c == '\n':
			if !inQuote && !inRegexp {
				if err := check(); err != nil {
					return err
				}
				continue
			}
		}
		word.WriteRune(c)
	}
	return check()
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// window is the days a query looks at: [since, until) clipped to the
// retention window.
func (x *Index) window(since, until time.Time) (first, last string) {
	now := x.opt.Now().UTC()
	if since.IsZero() {
		since = now.Add(-x.cfg.Retention)
	}
	if until.IsZero() {
		until = now.Add(x.cfg.MaxFuture + time.Nanosecond)
	}
	return since.UTC().Format(dayLayout), until.UTC().Add(-time.Nanosecond).Format(dayLayout)
}

// shardsIn returns the open shards of the days [first, last], newest
// first, and their days. The caller holds mu for reading.
func (x *Index) shardsIn(first, last string) ([]bleve.Index, []string) {
	var days []string
	for day := range x.shards {
		if day >= first && day <= last {
			days = append(days, day)
		}
	}
	slices.Sort(days)
	slices.Reverse(days)
	out := make([]bleve.Index, len(days))
	for i, day := range days {
		out[i] = x.shards[day]
	}
	return out, days
}

// searchNewestFirst runs req over the shards (newest first) two days at a
// time, one per core here, and stops once the days searched hold
// HitBudget hits: a broad query over a busy week then costs a day or two
// instead of the week, since facets and the total count every hit. Once
// the days searched say the whole window stays under the budget, the rest
// is searched at once, which overlaps more reads. It returns the merged
// result, paged and sorted as one search over those days would be, and,
// when it stopped before the oldest day, the oldest day it searched.
func (x *Index) searchNewestFirst(ctx context.Context, req *bleve.SearchRequest, shards []bleve.Index, days []string, words []int) (*bleve.SearchResult, string, error) {
	sub := *req
	sub.From, sub.Size = 0, req.From+req.Size
	budget := uint64(x.cfg.HitBudget)
	var sr *bleve.SearchResult
	stoppedAt := ""
	for i := 0; i < len(shards); {
		end := min(i+2, len(shards))
		if sr != nil && sr.Total*uint64(len(shards))/uint64(i) < budget {
			end = len(shards)
		}
		r, err := searchBounded(ctx, &sub, shards[i:end], words[i:end], x.cfg.MaxPatternWords)
		if err != nil {
			return nil, "", err
		}
		if sr == nil {
			sr = r
		} else {
			sr.Merge(r)
		}
		if sr.Total >= budget {
			if end < len(shards) {
				stoppedAt = days[end-1]
			}
			break
		}
		i = end
	}
	page(req, sr)
	return sr, stoppedAt, nil
}

// searchAll searches the shards as one. bleve's alias of several shards
// reports a shard that failed (a read error, the deadline) only in the
// result's status, with the hits of the others: that would read as fewer
// hits, or none, and no error.
func searchAll(ctx context.Context, shards []bleve.Index, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	sr, err := bleve.NewIndexAlias(shards...).SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	if sr.Status != nil && (sr.Status.Failed > 0 || len(sr.Status.Errors) > 0) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		names := slices.Sorted(maps.Keys(sr.Status.Errors))
		errs := make([]error, 0, len(names))
		for _, name := range names {
			errs = append(errs, fmt.Errorf("%s: %w", name, sr.Status.Errors[name]))
		}
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%d of %d days failed", sr.Status.Failed, sr.Status.Total))
		}
		return nil, fmt.Errorf("searching %d days: %w", len(shards), errors.Join(errs...))
	}
	return sr, nil
}

// textAnalyzers lists the analyzers whose text fields the shards hold.
func textAnalyzers(shards []bleve.Index) []string {
	seen := map[string]bool{}
	for _, s := range shards {
		fs, err := s.Fields()
		if err != nil {
			return analyzers // ask them all
		}
		for _, f := range fs {
			if a, ok := strings.CutPrefix(f, textPrefix); ok {
				seen[a] = true
			}
		}
	}
	var out []string
	for _, a := range analyzers {
		if seen[a] {
			out = append(out, a)
		}
	}
	return out
}

// Search answers one query over the shards of its window.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	start := time.Now()
	q, err := x.normalize(q)
	if err != nil {
		return nil, err
	}
	res := &Result{Hits: []Hit{}, Facets: map[string][]Facet{}}
	for name := range facets {
		res.Facets[name] = []Facet{}
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, errors.New("search: index closed")
	}
	shards, days := x.shardsIn(x.window(q.Since, q.Until))
	// Text terms are asked of the text fields the window's shards have:
	// a shard without Korean posts has no text_cjk to look in.
	bq, mk, err := x.parse(q, textAnalyzers(shards))
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(bq, q.Size, q.From, false)
	req.Fields = []string{fieldSrc}
	req.AddFacet(fieldFacet, bleve.NewFacetRequest(fieldFacet, facetTerms))
	// Best first, newest first among equals; * newest first. The order is
	// the same every time, so pages neither repeat nor skip a hit.
	matchAll := strings.TrimSpace(q.Text) == "" || strings.TrimSpace(q.Text) == "*"
	if matchAll {
		req.SortBy([]string{"-" + fieldAt})
	} else {
		req.SortBy([]string{"-_score", "-" + fieldAt})
	}
	if len(shards) > 0 {
		// Each word a pattern matches is a term reader held while its day
		// is searched: count them first, refuse a day with too many, and
		// search days one run at a time when together they have too many.
		words, err := x.checkWords(shards, days, mk.words)
		if err != nil {
			return nil, err
		}
		var sr *bleve.SearchResult
		if x.cfg.HitBudget > 0 && !q.Exhaustive && len(shards) > 2 {
			sr, res.SearchedFrom, err = x.searchNewestFirst(ctx, req, shards, days, words)
			res.Partial = res.SearchedFrom != ""
		} else {
			sr, err = searchBounded(ctx, req, shards, words, x.cfg.MaxPatternWords)
		}
		if err != nil {
			x.m.errors.WithLabelValues("query").Inc()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("search: %w", ctx.Err())
			}
			return nil, fmt.Errorf("search: %w", err)
		}
		x.fill(res, sr, q.Scope, mk)
		if matchAll {
			for i := range res.Hits {
				res.Hits[i].Score = 0 // nothing was ranked
			}
		}
	}
	res.Took = time.Since(start)
	x.m.querySeconds.Observe(res.Took.Seconds())
	return res, nil
}

func (x *Index) fill(res *Result, sr *bleve.SearchResult, scope *Scope, mk marks) {
	res.Total = sr.Total
	inScope := func(w string) bool {
		return scope == nil || len(scope.Watchlists) == 0 || slices.Contains(scope.Watchlists, w)
	}
	for _, h := range sr.Hits {
		hit := Hit{Key: h.ID, Score: h.Score}
		if raw, ok := h.Fields[fieldSrc].(string); ok {
			var s Stored
			if err := json.Unmarshal([]byte(raw), &s); err == nil {
				hit.Platform, hit.Author, hit.Text, hit.CreatedAt = s.Platform, s.Handle, s.Text, s.CreatedAt
				hit.Lang, hit.Region, hit.Sentiment = s.Lang, s.Region, s.Sentiment
				hit.TextBytes = s.TextBytes
				for _, w := range s.Watchlists {
					if inScope(w) {
						hit.Watchlists = append(hit.Watchlists, w)
					}
				}
				if frag, ok := highlight(x, s.Text, analyzerFor(s.Lang), mk); ok {
					hit.Highlights = map[string][]string{"text": {frag}}
				}
			}
		}
		res.Hits = append(res.Hits, hit)
	}
	f := sr.Facets[fieldFacet]
	if f == nil || f.Terms == nil {
		return
	}
	for _, t := range f.Terms.Terms() {
		for name, tg := range facets {
			v, ok := strings.CutPrefix(t.Term, tg.prefix)
			if !ok || len(res.Facets[name]) >= facetSize || (name == "watchlist" && !inScope(v)) {
				continue
			}
			res.Facets[name] = append(res.Facets[name], Facet{Term: v, Count: t.Count})
		}
	}
}

// highlight marks the terms the query asked for in text, escaped for HTML.
func highlight(x *Index, text, analyzer string, mk marks) (string, bool) {
	terms := mk.terms[analyzer]
	if len(terms) == 0 && len(mk.prefixes) == 0 && len(mk.patterns) == 0 {
		return "", false
	}
	ts, err := x.mapping.AnalyzeText(analyzerName(analyzer), []byte(text))
	if err != nil {
		return "", false
	}
	type span struct{ start, end int }
	var spans []span
	for _, t := range ts {
		term := string(t.Term)
		hit := terms[term]
		for _, re := range mk.patterns {
			hit = hit || re.MatchString(term)
		}
		if !hit || t.Start < 0 || t.End > len(text) || t.Start >= t.End {
			continue
		}
		if n := len(spans); n > 0 && t.Start <= spans[n-1].end {
			spans[n-1].end = max(spans[n-1].end, t.End) // CJK bigrams overlap
			continue
		}
		spans = append(spans, span{t.Start, t.End})
	}
	if len(spans) == 0 {
		return "", false
	}
	var b strings.Builder
	at := 0
	for _, s := range spans {
		if s.start < at {
			continue
		}
		b.WriteString(html.EscapeString(text[at:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		at = s.end
	}
	b.WriteString(html.EscapeString(text[at:]))
	return b.String(), true
}

// storedOf reads the Stored post of key from one shard.
func storedOf(s bleve.Index, key string) (*Stored, bool) {
	d, err := s.Document(key)
	if err != nil || d == nil {
		return nil, false
	}
	var raw []byte
	d.VisitFields(func(f index.Field) {
		if f.Name() == fieldSrc {
			raw = f.Value()
		}
	})
	if raw == nil {
		return nil, false
	}
	var st Stored
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, false
	}
	return &st, true
}

// scanShard calls fn with every stored post of a shard, in index order:
// one pass over its documents, however many there are.
func scanShard(ctx context.Context, r index.IndexReader, fn func(*Stored) error) error {
	ids, err := r.DocIDReaderAll()
	if err != nil {
		return err
	}
	defer ids.Close()
	for n := 0; ; n++ {
		if n%1000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		id, err := ids.Next()
		if err != nil {
			return err
		}
		if id == nil {
			return nil
		}
		ext, err := r.ExternalID(id)
		if err != nil {
			return err
		}
		d, err := r.Document(ext)
		if err != nil || d == nil {
			continue // deleted meanwhile
		}
		var raw []byte
		d.VisitFields(func(f index.Field) {
			if f.Name() == fieldSrc {
				raw = f.Value()
			}
		})
		var st Stored
		if raw == nil || json.Unmarshal(raw, &st) != nil {
			continue
		}
		if err := fn(&st); err != nil {
			return err
		}
	}
}

// Scan calls fn with every post of the shards of the days [since, until),
// oldest day first, until fn returns an error or ctx ends.
func (x *Index) Scan(ctx context.Context, since, until time.Time, fn func(day string, p *Stored) error) error {
	first, last := x.window(since, until)
	// Take a snapshot of each shard and let go of the lock: a long scan
	// must not hold up the index stage opening a new day's shard.
	type snap struct {
		day string
		r   index.IndexReader
	}
	var snaps []snap
	defer func() {
		for _, s := range snaps {
			s.r.Close()
		}
	}()
	x.mu.RLock()
	for day, s := range x.shards {
		if day < first || day > last {
			continue
		}
		adv, err := s.Advanced()
		var r index.IndexReader
		if err == nil {
			r, err = adv.Reader()
		}
		if err != nil {
			x.mu.RUnlock()
			return fmt.Errorf("search: reading shard %s: %w", day, err)
		}
		snaps = append(snaps, snap{day, r})
	}
	x.mu.RUnlock()
	slices.SortFunc(snaps, func(a, b snap) int { return strings.Compare(a.day, b.day) })
	for _, sn := range snaps {
		if err := scanShard(ctx, sn.r, func(st *Stored) error {
			if (!since.IsZero() && st.CreatedAt.Before(since)) || (!until.IsZero() && !st.CreatedAt.Before(until)) {
				return nil
			}
			return fn(sn.day, st)
		}); err != nil {
			return fmt.Errorf("search: reading shard %s: %w", sn.day, err)
		}
	}
	return nil
}
