package search

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/size"
	index "github.com/blevesearch/bleve_index_api"
	json "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/post"
)

// docBuilder builds bleve documents directly, without the mapping's walk
// over a Go value by reflection, and with each keyword field as one field
// of several terms rather than one field per value: both cost more than
// the rest of the document (BENCHMARKS.md). The analyzers and indexing
// options come from the mapping, so what is indexed is what the mapping
// says (TestDocumentAsMapped checks it).
type docBuilder struct {
	text               map[string]textSpec // by analyzer name
	facet, kw, at, src index.FieldIndexingOptions
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
	b := &docBuilder{text: map[string]textSpec{}}
	for _, a := range analyzers {
		f, err := fm(textPrefix + a)
		if err != nil {
			return nil, err
		}
		an := im.AnalyzerNamed(f.Analyzer)
		if an == nil {
			return nil, fmt.Errorf("no analyzer %s", f.Analyzer)
		}
		b.text[a] = textSpec{field: textPrefix + a, opts: f.Options(), analyzer: an}
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
		ReplyTo: p.ReplyTo, RepostOf: p.RepostOf, QuoteOf: p.QuoteOf, Media: p.Media,
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
		s.Region, s.Sentiment = regionName(e.Region), strings.ToLower(e.SentimentLabel)
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

// facetValues are the terms of the facet field.
func facetValues(s *Stored) []string {
	facet := make([]string, 0, 3+len(s.Watchlists))
	for _, w := range s.Watchlists {
		facet = append(facet, tagWatchlist.term(w))
	}
	if s.Lang != "" {
		facet = append(facet, tagLang.term(s.Lang))
	}
	if s.Region != "" {
		facet = append(facet, tagRegion.term(s.Region))
	}
	if s.Sentiment != "" {
		facet = append(facet, tagSentiment.term(s.Sentiment))
	}
	return facet
}

// kwValues are the terms of the kw field.
func kwValues(s *Stored) []string {
	kw := make([]string, 0, 3+len(s.Hashtags)+len(s.Mentions))
	kw = append(kw, tagMinute.term(s.CreatedAt.Format(minuteLayout)), tagPlatform.term(s.Platform))
	if s.Handle != "" {
		kw = append(kw, tagAuthor.term(s.Handle))
	}
	for _, h := range s.Hashtags {
		kw = append(kw, tagHashtag.term(h))
	}
	for _, m := range s.Mentions {
		kw = append(kw, tagMention.term(m))
	}
	return kw
}

// doc turns an enriched item into the document to index under key.
func (b *docBuilder) doc(key string, it *post.Item, created time.Time) (*document.Document, error) {
	s, lang := stored(it, created)
	src, err := json.Marshal(&s)
	if err != nil {
		return nil, fmt.Errorf("encoding the stored post: %w", err)
	}
	t := b.text[analyzerFor(lang)]
	d := &document.Document{Fields: make([]document.Field, 0, 6)} // 6: these and the _id bleve adds
	d.SetID(key)
	d.AddField(document.NewTextFieldCustom(t.field, nil, []byte(s.Text), t.opts, t.analyzer))
	d.AddField(newTermsField(fieldFacet, facetValues(&s), b.facet))
	d.AddField(newTermsField(fieldKW, kwValues(&s), b.kw))
	d.AddField(newTermsField(fieldAt, []string{s.CreatedAt.Format(atLayout)}, b.at))
	d.AddField(document.NewTextFieldCustom(fieldSrc, nil, src, b.src, nil))
	d.SetIndexed()
	return d, nil
}

// termsField is a keyword field of several values, each one term, as the
// keyword analyzer makes it of each value: the mapping would add one field
// per value, and bleve merges them again when it builds the segment.
type termsField struct {
	name   string
	terms  []string
	opts   index.FieldIndexingOptions
	freqs  index.TokenFrequencies
	nbytes int
}

func newTermsField(name string, terms []string, opts index.FieldIndexingOptions) *termsField {
	f := &termsField{name: name, terms: terms, opts: opts}
	for _, t := range terms {
		f.nbytes += len(t)
	}
	return f
}

func (f *termsField) Name() string                        { return f.name }
func (f *termsField) ArrayPositions() []uint64            { return nil }
func (f *termsField) Options() index.FieldIndexingOptions { return f.opts }
func (f *termsField) EncodedFieldType() byte              { return 't' }
func (f *termsField) AnalyzedLength() int                 { return len(f.terms) }
func (f *termsField) NumPlainTextBytes() uint64           { return uint64(f.nbytes) }

func (f *termsField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

// Value is the values, one a line; bleve reads it only from stored fields.
func (f *termsField) Value() []byte { return []byte(strings.Join(f.terms, "\n")) }

func (f *termsField) Size() int {
	return 64 + len(f.name) + f.nbytes + len(f.terms)*size.SizeOfString
}

// Analyze counts the terms as bleve does for the values of a keyword field
// (no term vectors, so no locations).
func (f *termsField) Analyze() {
	freqs := make(index.TokenFrequencies, len(f.terms))
	tfs := make([]index.TokenFreq, len(f.terms))
	for i, t := range f.terms {
		if tf, ok := freqs[t]; ok {
			if !f.opts.SkipFreqNorm() {
				tf.SetFrequency(tf.Frequency() + 1)
			}
			continue
		}
		tfs[i].Term = []byte(t)
		if !f.opts.SkipFreqNorm() {
			tfs[i].SetFrequency(1)
		}
		freqs[t] = &tfs[i]
	}
	f.freqs = freqs
}
