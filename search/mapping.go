package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/mapping"

	// The language analyzers register themselves.
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ar"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/da"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hu"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/nl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/no"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ro"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ru"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/sv"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/tr"
)

// Fields of an indexed post. The text goes to one text_<analyzer> field,
// chosen by the post's language; src holds the stored post (not indexed).
// Every other value is a prefixed term of one of two keyword fields: facet
// (what facets count) and kw. Few fields per document make indexing much
// cheaper than one field per value (see BENCHMARKS.md).
const (
	fieldFacet = "facet"
	fieldKW    = "kw"
	fieldAt    = "at" // created_at to the millisecond, for ordering: a tie of scores goes to the newer post
	fieldSrc   = "src"
	textPrefix = "text_"
)

// tag is a value kind stored as a prefixed term of a keyword field.
type tag struct {
	field, prefix string
	norm          func(string) string
}

func same(s string) string { return s }

var (
	tagWatchlist = tag{fieldFacet, "w:", same}
	tagRegion    = tag{fieldFacet, "r:", regionName}
	tagMarket    = tag{fieldFacet, "k:", strings.ToUpper} // posts indexed before markets have none
	tagSentiment = tag{fieldFacet, "s:", strings.ToLower}
	tagLang      = tag{fieldFacet, "l:", strings.ToLower}
	tagPlatform  = tag{fieldKW, "p:", strings.ToLower}
	tagAuthor    = tag{fieldKW, "a:", func(s string) string { return strings.ToLower(strings.TrimPrefix(s, "@")) }}
	tagHashtag   = tag{fieldKW, "h:", func(s string) string { return strings.ToLower(strings.TrimPrefix(s, "#")) }}
	tagMention   = tag{fieldKW, "m:", func(s string) string { return strings.ToLower(strings.TrimPrefix(s, "@")) }}
	tagMinute    = tag{fieldKW, "t:", same} // created_at as 200601021504, UTC
)

// regionName is a region as indexed: upper case (EMEA, APAC, …), but
// enrichment's "unknown" as it is.
func regionName(s string) string {
	if strings.EqualFold(s, "unknown") {
		return "unknown"
	}
	return strings.ToUpper(s)
}

// term is the indexed term of value v.
func (t tag) term(v string) string { return t.prefix + t.norm(v) }

// facets are the facet names and their tags.
var facets = map[string]tag{"watchlist": tagWatchlist, "region": tagRegion, "sentiment": tagSentiment, "lang": tagLang}

// analyzers are the text analyzers, by language; each has its own text
// field (see analysis.go). std is the fallback for every other language.
var analyzers = []string{"ar", "cjk", "da", "de", "el", "en", "es", "fi", "fr", "hi", "hu", "it", "nl", "no", "pt", "ro", "ru", "sv", "tr", "std"}

// analyzerFor picks the analyzer of an ISO 639 language code (region
// subtags ignored): zh, ja and ko share the CJK bigram analyzer.
func analyzerFor(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	switch lang {
	case "zh", "ja", "ko":
		return "cjk"
	case "nb", "nn":
		return "no"
	case "":
		return "std"
	}
	for _, a := range analyzers {
		if a == lang && a != "std" {
			return a
		}
	}
	return "std"
}

// newMapping is the index mapping of a day shard. Nothing is dynamic, only
// the facet fields keep doc values, and only src is stored. The text fields
// keep term vectors: phrase queries need the positions (highlights do not:
// they are computed from the stored text).
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := mapping.NewIndexMapping()
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	im.DefaultAnalyzer = standard.Name
	dm := mapping.NewDocumentStaticMapping()
	for _, a := range analyzers {
		// Term vectors (positions) are what phrase queries need.
		f := mapping.NewTextFieldMapping()
		f.Analyzer, f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = analyzerName(a), false, true, false, false
		dm.AddFieldMappingsAt(textPrefix+a, f)
	}
	kw := func(name string, docValues bool) {
		f := mapping.NewTextFieldMapping()
		f.Analyzer, f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = keyword.Name, false, false, false, docValues
		dm.AddFieldMappingsAt(name, f)
	}
	kw(fieldFacet, true) // facets read doc values
	// kw holds created_at to the minute as one term too: since and until
	// are term ranges over it. A datetime field indexes a dozen terms per
	// value and cost 40% of indexing time.
	kw(fieldKW, false)
	// Sorted on, never searched; bleve builds doc values only for an
	// indexed field.
	kw(fieldAt, true)
	src := mapping.NewTextFieldMapping()
	src.Index, src.Store, src.IncludeTermVectors, src.IncludeInAll, src.DocValues = false, true, false, false, false
	dm.AddFieldMappingsAt(fieldSrc, src)
	// No _all composite field: nothing is searched through it, and
	// building it costs for every field of every document.
	dm.AddSubDocumentMapping("_all", mapping.NewDocumentDisabledMapping())
	im.DefaultMapping = dm
	im.DefaultField = textPrefix + "std"
	return im, im.Validate()
}
