package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/earshot-dev/earshot/post"
)

// asMapped is the document as the mapping makes it of a Go value, the way
// posts were indexed before docBuilder: what docBuilder must reproduce.
func asMapped(t *testing.T, x *Index, key string, it *post.Item) *document.Document {
	t.Helper()
	s, lang := stored(it, it.Post.CreatedAt)
	d, err := x.docs.doc(key, it, it.Post.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	var src []byte
	d.VisitFields(func(f index.Field) {
		if f.Name() == fieldSrc {
			src = f.Value()
		}
	})
	v := map[string]any{
		textPrefix + analyzerFor(lang): s.Text,
		fieldFacet:                     mappedFacet(&s),
		fieldKW:                        mappedKW(&s),
		fieldAt:                        s.CreatedAt.Format(atLayout),
		fieldSrc:                       string(src),
	}
	md := document.NewDocument(key)
	if err := x.mapping.MapDocument(md, v); err != nil {
		t.Fatal(err)
	}
	return md
}

// mappedFacet and mappedKW are the values of the facet and kw fields as
// they were given to the mapping.
func mappedFacet(s *Stored) []string {
	var facet []string
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

func mappedKW(s *Stored) []string {
	kw := []string{tagMinute.term(s.CreatedAt.Format(minuteLayout)), tagPlatform.term(s.Platform)}
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

// indexed is what a segment gets of a document's field: its options, the
// stored values, the length and every term with its frequency and
// locations, after bleve merges the fields of one name.
type indexed struct {
	opts   index.FieldIndexingOptions
	stored []string
	length int
	terms  map[string]string
}

func indexedFields(d *document.Document) map[string]*indexed {
	out := map[string]*indexed{}
	d.VisitFields(func(f index.Field) {
		f.Analyze()
		x := out[f.Name()]
		if x == nil {
			x = &indexed{opts: f.Options(), terms: map[string]string{}}
			out[f.Name()] = x
		}
		if x.opts != f.Options() {
			x.opts = 0xffff // the values of one field disagree
		}
		if f.Options().IsStored() {
			x.stored = append(x.stored, fmt.Sprintf("%c:%s", f.EncodedFieldType(), f.Value()))
		}
		if !f.Options().IsIndexed() {
			return
		}
		x.length += f.AnalyzedLength()
		for term, tf := range f.AnalyzedTokenFrequencies() {
			var locs []string
			for _, l := range tf.Locations {
				locs = append(locs, fmt.Sprintf("%d@%d-%d", l.Position, l.Start, l.End))
			}
			slices.Sort(locs)
			prev := x.terms[term]
			n := tf.Frequency()
			if prev != "" {
				var m int
				fmt.Sscanf(prev, "%d", &m)
				n += m
				locs = append(strings.Fields(prev)[1:], locs...)
				slices.Sort(locs)
			}
			x.terms[term] = strings.Join(append([]string{fmt.Sprint(n)}, locs...), " ")
		}
	})
	return out
}

// The documents built directly index, store and count exactly what the
// mapping makes of the same post: same fields, options, terms, frequencies,
// positions and lengths (so the same scores and phrase matches).
func TestDocumentAsMapped(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	items, _ := firehose(t, 3000)
	at := testNow.Add(-time.Hour)
	items = append(items,
		// repeated hashtags, mentions and watchlists; a handle with @
		&post.Item{Post: &post.Post{Platform: "X", ID: "r1", Text: "Refund refund REFUND! #Acme #acme @Acme", CreatedAt: at, Lang: "en",
			Author: post.Author{Handle: "@Someone"}, Hashtags: []string{"#Acme", "acme", "Acme"}, Mentions: []string{"@Acme", "acme"}},
			Matches: matches("acme", "acme", "competitors"), Enrichment: &post.Enrichment{Lang: "en", Region: "emea", SentimentLabel: "Negative"}},
		// Greek, no enrichment; CJK; redacted text; unknown language
		doc{"g1", "Η εξυπηρέτηση πελατών ήταν άψογη, ΕΞΥΠΗΡΈΤΗΣΗ", "el", "EMEA", "positive", time.Minute, []string{"acme"}}.item(),
		doc{"c1", "アクメの返金が届かない 返金", "ja", "APAC", "negative", time.Minute, nil}.item(),
		&post.Item{Post: &post.Post{Platform: "x", ID: "p1", Text: "call me at +1 555 0100", CreatedAt: at},
			Enrichment: &post.Enrichment{RedactedText: "call me at [phone]", Lang: "und", Region: "unknown"}},
		&post.Item{Post: &post.Post{Platform: "x", ID: "e1", Text: "", CreatedAt: at, Lang: "xx-YY"}},
	)
	for i, it := range items {
		key := it.Post.Key()
		got, err := x.docs.doc(key, it, it.Post.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		want := asMapped(t, x, key, it)
		if got.ID() != want.ID() || !got.Indexed() || len(got.CompositeFields)+len(want.CompositeFields) != 0 {
			t.Fatalf("item %d: id %q/%q, indexed %v, composite %d/%d", i, got.ID(), want.ID(), got.Indexed(), len(got.CompositeFields), len(want.CompositeFields))
		}
		g, w := indexedFields(got), indexedFields(want)
		for name, wf := range w {
			gf := g[name]
			if gf == nil {
				t.Fatalf("item %d (%s): field %s missing", i, key, name)
			}
			if gf.opts != wf.opts || gf.length != wf.length || !slices.Equal(gf.stored, wf.stored) || fmt.Sprint(gf.terms) != fmt.Sprint(wf.terms) {
				t.Fatalf("item %d (%s), field %s:\n got  %+v\n want %+v", i, key, name, gf, wf)
			}
		}
		if len(g) != len(w) {
			t.Fatalf("item %d: fields %d, want %d", i, len(g), len(w))
		}
	}
}
