package search

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// docBuilder builds bleve documents directly, without the mapping's walk
// over a Go value by reflection, and with each keyword field as one field
// of several terms rather than one field per value: both cost more than
// the rest of the document (BENCHMARKS.md). The analyzers and indexing
// options come from the mapping, so what is indexed is what the mapping
// says (TestDocumentAsMapped checks it).
type docBuilder struct {
	text               map[string]*textSpec // by analyzer name
	facet, kw, at, src index.FieldIndexingOptions
	maxText            int                // bytes of text indexed per post; 0 is no limit
	truncated          prometheus.Counter // posts cut to maxText; may be nil
}

// cutText cuts s to at most n bytes, at the last space before the limit
// when there is one in its last 256 bytes (so that no word is indexed half),
// else at a character boundary.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if i := strings.LastIndexAny(s[max(0, n-256):n], " \t\n"); i >= 0 {
		n = max(0, n-256) + i
	}
	return s[:n]
}

// textSpec is how the text field of one analyzer is indexed.
type textSpec struct {
	field    string
	opts     index.FieldIndexingOptions
	analyzer analysis.Analyzer
}

func newDocBuilder(im *mapping.IndexMappingImpl) (*docBuilder, error) {
	fm := func(name string) (*mapping.FieldMapping, error) {
		dm := im.DefaultMapping.Properties[name]
		if dm == nil || len(dm.Fields) != 1 {
			return nil, fmt.Errorf("the mapping has no single field %s", name)
		}
		return dm.Fields[0], nil
	}
	b := &docBuilder{text: map[string]*textSpec{}}
	for _, a := range analyzers {
		f, err := fm(textPrefix + a)
		if err != nil {
			return nil, err
		}
		an := im.AnalyzerNamed(f.Analyzer)
		if an == nil {
			return nil, fmt.Errorf("no analyzer %s", f.Analyzer)
		}
		b.text[a] = &textSpec{field: textPrefix + a, opts: f.Options(), analyzer: an}
	}
	for name, opts := range map[string]*index.FieldIndexingOptions{fieldFacet: &b.facet, fieldKW: &b.kw, fieldAt: &b.at, fieldSrc: &b.src} {
		f, err := fm(name)
		if err != nil {
			return nil, err
		}
		if f.IncludeTermVectors {
			return nil, fmt.Errorf("field %s: term vectors on a keyword field are not built here", name)
		}
		*opts = f.Options()
	}
	return b, nil
}

// stored is what the index keeps of an enriched item, and the language
// whose analyzer reads its text.
func stored(it *post.Item, created time.Time) (s Stored, lang string) {
	p := it.Post
	s = Stored{
		Platform: p.Platform, ID: p.ID, Handle: p.Author.Handle, Followers: p.Author.Followers, Text: p.Text,
		CreatedAt: created.UTC(), PostLang: p.Lang, Country: p.Country, URLs: p.URLs, Hashtags: p.Hashtags, Mentions: p.Mentions,
		ReplyTo: p.ReplyTo, RepostOf: p.RepostOf, QuoteOf: p.QuoteOf, Media: p.Media, Source: p.Source,
	}
	if p.Geo != nil {
		s.GeoCountry = p.Geo.Country
	}
	lang = p.Lang
	if e := it.Enrichment; e != nil {
		if e.RedactedText != "" {
			s.Text = e.RedactedText // no PII in the index when redaction is on
		}
		if e.Lang != "" && e.Lang != "und" {
			lang = e.Lang
		}
		s.Region, s.Sentiment, s.Market = regionName(e.Region), strings.ToLower(e.SentimentLabel), e.Market
		if s.Country == "" {
			s.Country = e.Country
		}
	}
	s.Lang = strings.ToLower(lang)
	for _, m := range it.Matches {
		if !slices.Contains(s.Watchlists, m.Watchlist) {
			s.Watchlists = append(s.Watchlists, m.Watchlist)
		}
	}
	return s, lang
}

// postDoc is the document of a post with its fields, allocated at once.
type postDoc struct {
	doc           document.Document
	fields        [6]document.Field // doc.Fields: these five and the _id bleve adds
	text          textField
	facet, kw, at termsField
	src           storedField
}

// setFacets fills the facet field of a post.
func setFacets(f *termsField, s *Stored) {
	for _, w := range s.Watchlists {
		f.addTag(tagWatchlist, w)
	}
	if s.Lang != "" {
		f.addTag(tagLang, s.Lang)
	}
	if s.Region != "" {
		f.addTag(tagRegion, s.Region)
	}
	if s.Market != "" {
		f.addTag(tagMarket, s.Market)
	}
	if s.Sentiment != "" {
		f.addTag(tagSentiment, s.Sentiment)
	}
}

// setKW fills the kw field of a post.
func setKW(f *termsField, s *Stored) {
	f.addTime(tagMinute.prefix, s.CreatedAt, minuteLayout)
	f.addTag(tagPlatform, s.Platform)
	if s.Handle != "" {
		f.addTag(tagAuthor, s.Handle)
	}
	for _, h := range s.Hashtags {
		f.addTag(tagHashtag, h)
	}
	for _, m := range s.Mentions {
		f.addTag(tagMention, m)
	}
}

// doc turns an enriched item into the document to index under key.
func (b *docBuilder) doc(key string, it *post.Item, created time.Time) (*document.Document, error) {
	s, lang := stored(it, created)
	if b.maxText > 0 && len(s.Text) > b.maxText {
		s.TextBytes = len(s.Text)
		s.Text = cutText(s.Text, b.maxText)
		if b.truncated != nil {
			b.truncated.Inc()
		}
	}
	return b.docOf(key, &s, lang)
}

// docOf is the document of a stored post, whose text reads with the
// analyzer of lang.
func (b *docBuilder) docOf(key string, s *Stored, lang string) (*document.Document, error) {
	src, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding the stored post: %w", err)
	}
	pd := &postDoc{
		text: textField{textSpec: b.text[analyzerFor(lang)], value: []byte(s.Text)},
		src:  storedField{name: fieldSrc, opts: b.src, value: src},
	}
	pd.facet.init(fieldFacet, b.facet, 3+len(s.Watchlists))
	setFacets(&pd.facet, s)
	pd.kw.init(fieldKW, b.kw, 3+len(s.Hashtags)+len(s.Mentions))
	setKW(&pd.kw, s)
	pd.at.init(fieldAt, b.at, 1)
	pd.at.addTime("", s.CreatedAt, atLayout)
	d := &pd.doc
	d.Fields = append(pd.fields[:0], &pd.text, &pd.facet, &pd.kw, &pd.at, &pd.src)
	d.SetID(key)
	d.SetIndexed()
	return d, nil
}

// storedField is a field that is only stored.
type storedField struct {
	name  string
	opts  index.FieldIndexingOptions
	value []byte
}

func (f *storedField) Name() string                                     { return f.name }
func (f *storedField) ArrayPositions() []uint64                         { return nil }
func (f *storedField) Options() index.FieldIndexingOptions              { return f.opts }
func (f *storedField) EncodedFieldType() byte                           { return 't' }
func (f *storedField) Analyze()                                         {}
func (f *storedField) AnalyzedLength() int                              { return 0 }
func (f *storedField) AnalyzedTokenFrequencies() index.TokenFrequencies { return nil }
func (f *storedField) NumPlainTextBytes() uint64                        { return uint64(len(f.value)) }
func (f *storedField) Value() []byte                                    { return f.value }
func (f *storedField) Size() int                                        { return 48 + cap(f.value) }

// termsField is a keyword field of several values, each one term, as the
// keyword analyzer makes it of each value: the mapping would add one field
// per value, and bleve merges them again when it builds the segment. The
// terms share one buffer.
type termsField struct {
	name  string
	opts  index.FieldIndexingOptions
	buf   []byte
	ends  []int // where each term ends in buf
	endsA [6]int
	freqs index.TokenFrequencies
}

// init readies f for about n terms.
func (f *termsField) init(name string, opts index.FieldIndexingOptions, n int) {
	f.name, f.opts = name, opts
	f.buf, f.ends = make([]byte, 0, 24*n), f.endsA[:0]
}

// addTag adds the term of value v of a tag.
func (f *termsField) addTag(t tag, v string) {
	f.buf = append(append(f.buf, t.prefix...), t.norm(v)...)
	f.ends = append(f.ends, len(f.buf))
}

// addTime adds the term prefix and t in layout.
func (f *termsField) addTime(prefix string, t time.Time, layout string) {
	f.buf = t.AppendFormat(append(f.buf, prefix...), layout)
	f.ends = append(f.ends, len(f.buf))
}

// terms are the field's terms, in order.
func (f *termsField) terms() []string {
	out := make([]string, len(f.ends))
	start := 0
	for i, end := range f.ends {
		out[i] = string(f.buf[start:end])
		start = end
	}
	return out
}

func (f *termsField) Name() string                        { return f.name }
func (f *termsField) ArrayPositions() []uint64            { return nil }
func (f *termsField) Options() index.FieldIndexingOptions { return f.opts }
func (f *termsField) EncodedFieldType() byte              { return 't' }
func (f *termsField) AnalyzedLength() int                 { return len(f.ends) }
func (f *termsField) NumPlainTextBytes() uint64           { return uint64(len(f.buf)) }
func (f *termsField) Size() int                           { return 64 + len(f.name) + cap(f.buf) + 8*cap(f.ends) }

func (f *termsField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

// Value is the terms, one a line; bleve reads it only from stored fields.
func (f *termsField) Value() []byte { return []byte(strings.Join(f.terms(), "\n")) }

// Analyze counts the terms as bleve does for the values of a keyword field
// (no term vectors, so no locations).
func (f *termsField) Analyze() {
	freqs := make(index.TokenFrequencies, len(f.ends))
	tfs := make([]index.TokenFreq, len(f.ends))
	all := string(f.buf) // one string: the map keys are slices of it
	start := 0
	for i, end := range f.ends {
		term := all[start:end]
		tf, ok := freqs[term]
		if !ok {
			tf = &tfs[i]
			tf.Term = f.buf[start:end:end]
			freqs[term] = tf
		}
		if !f.opts.SkipFreqNorm() {
			tf.SetFrequency(tf.Frequency() + 1)
		}
		start = end
	}
	f.freqs = freqs
}

// textField is the text of a post, analysed with its language's analyzer.
// It is bleve's TextField but for the term frequencies, which it builds with
// a few allocations a post rather than two a term.
type textField struct {
	*textSpec
	value  []byte
	length int
	freqs  index.TokenFrequencies
}

func (f *textField) Name() string                        { return f.field }
func (f *textField) ArrayPositions() []uint64            { return nil }
func (f *textField) Options() index.FieldIndexingOptions { return f.opts }
func (f *textField) EncodedFieldType() byte              { return 't' }
func (f *textField) AnalyzedLength() int                 { return f.length }
func (f *textField) NumPlainTextBytes() uint64           { return uint64(len(f.value)) }
func (f *textField) Value() []byte                       { return f.value }
func (f *textField) Size() int                           { return 64 + cap(f.value) }

func (f *textField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

func (f *textField) Analyze() {
	in := f.value
	if f.opts.IsStored() {
		in = slices.Clone(in) // filters may change the bytes in place
	}
	tokens := f.analyzer.Analyze(in)
	f.length = len(tokens)
	f.freqs = tokenFrequencies(tokens, f.opts)
}

// tokenFrequencies is analysis.TokenFrequency with the term frequencies and
// locations of a post allocated together.
func tokenFrequencies(tokens analysis.TokenStream, opts index.FieldIndexingOptions) index.TokenFrequencies {
	freqs := make(index.TokenFrequencies, len(tokens))
	tfs := make([]index.TokenFreq, 0, len(tokens)) // never grows: the map points into it
	for _, t := range tokens {
		tf, ok := freqs[string(t.Term)]
		if !ok {
			tfs = append(tfs, index.TokenFreq{Term: t.Term})
			tf = &tfs[len(tfs)-1]
			freqs[string(t.Term)] = tf
		}
		tf.SetFrequency(tf.Frequency() + 1)
	}
	if opts.IncludeTermVectors() {
		tls := make([]index.TokenLocation, len(tokens))
		ptrs := make([]*index.TokenLocation, len(tokens))
		off := 0
		for i := range tfs {
			n := tfs[i].Frequency()
			tfs[i].Locations = ptrs[off : off : off+n]
			off += n
		}
		for i, t := range tokens {
			tls[i] = index.TokenLocation{Start: t.Start, End: t.End, Position: t.Position}
			tf := freqs[string(t.Term)]
			tf.Locations = append(tf.Locations, &tls[i])
		}
	}
	if opts.SkipFreqNorm() {
		for i := range tfs {
			tfs[i].SetFrequency(0)
		}
	}
	return freqs
}
