package search

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/el"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/earshot-dev/earshot/textnorm"
)

// Text analysis reads words as package textnorm does, so that a post a
// rule matches is found by a search for the rule's words: the tokenizer
// is textnorm's (its word boundaries, its folding of compatibility forms,
// case, diacritics, invisible characters and look-alikes), and each
// language's analyzer then applies its own stop words and stemmer to those
// words. The Russian and Greek analyzers first write the Latin letters
// that their script's look-alikes fold to back in their script ("moлoko"
// is "молоко" again), so that their stemmers see their own letters; that
// is a function of the folded word, so the same words still give the same
// terms.

// mappingVersion names the text analysis of a shard: a shard written with
// another one is rebuilt (or, read-only, refused) when it is opened, since
// its terms would not be the terms a search now looks for. Bump it
// whenever what an analyzer makes of a text changes.
const (
	mappingVersion    = "3" // 3: Roman numerals and superscript, subscript, circled digits are word characters; 2: textnorm analysis (issue 18); 1, unrecorded: bleve's analyzers
	mappingVersionKey = "earshot.mapping_version"
)

const wordTokenizerName = "earshot_textnorm"

// analyzerName is the registered name of the analyzer of text field
// textPrefix+a.
func analyzerName(a string) string { return "earshot_" + a }

// scripts map the Latin letters that textnorm folds a script's look-alikes
// to back to that script's letters.
var scripts = map[string]map[byte]rune{
	"ru": {'a': 'а', 'b': 'в', 'r': 'г', 'e': 'е', 'k': 'к', 'm': 'м', 'h': 'н', 'o': 'о', 'p': 'р', 'c': 'с', 't': 'т', 'y': 'у', 'x': 'х'},
	"el": {'a': 'α', 'b': 'β', 'y': 'γ', 'e': 'ε', 'z': 'ζ', 'h': 'η', 'i': 'ι', 'k': 'κ', 'm': 'μ', 'n': 'ν', 'o': 'ο', 'p': 'ρ', 't': 'τ', 'u': 'υ', 'x': 'χ'},
}

func init() {
	// bleve finds tokenizers and analyzers by name in its registry; this
	// is how ours are made available to a mapping (and to a shard that
	// names them when it is opened).
	if err := registry.RegisterTokenizer(wordTokenizerName, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return wordTokenizer{f: textnorm.Shared()}, nil
	}); err != nil {
		panic(err)
	}
	for _, a := range analyzers {
		if err := registry.RegisterAnalyzer(analyzerName(a), analyzerOf(a)); err != nil {
			panic(err)
		}
	}
}

// analyzerOf builds the analyzer of language a: textnorm's words, back in
// the language's script where it has look-alikes, then the token filters
// of bleve's analyzer of the language (stop words, stemmer; their
// lower-casing is a no-op on folded words).
func analyzerOf(a string) registry.AnalyzerConstructor {
	return func(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		tz, err := cache.TokenizerNamed(wordTokenizerName)
		if err != nil {
			return nil, err
		}
		var filters []analysis.TokenFilter
		if m := scripts[a]; m != nil {
			filters = append(filters, scriptFilter(m))
		}
		switch a {
		case "std":
		case "el": // bleve ships Greek stop words but no Greek analyzer
			stop, err := cache.TokenFilterNamed(el.StopName)
			if err != nil {
				return nil, err
			}
			filters = append(filters, stop)
		default:
			base, err := cache.AnalyzerNamed(a)
			if err != nil {
				return nil, err
			}
			da, ok := base.(*analysis.DefaultAnalyzer)
			if !ok {
				return nil, fmt.Errorf("search: bleve's analyzer %s is a %T, not a tokenizer and filters", a, base)
			}
			filters = append(filters, da.TokenFilters...)
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tz, TokenFilters: filters}, nil
	}
}

// wordTokenizer is textnorm's tokenizer as a bleve tokenizer: the folded
// words, their places in the text, and Ideographic as the type of the
// words of scripts written without spaces (for the CJK bigram filter).
type wordTokenizer struct{ f *textnorm.Folder }

func (w wordTokenizer) Tokenize(input []byte) analysis.TokenStream {
	tk := tokensPool.Get().(*textnorm.Tokens)
	defer tokensPool.Put(tk)
	w.f.Tokenize(tk, unsafe.String(unsafe.SliceData(input), len(input)))
	n := 0
	for i := range tk.Toks {
		n += len(tk.Word(i))
	}
	// The terms get a buffer of their own: filters may change them in
	// place, and the input must stay as it is.
	buf := make([]byte, 0, n)
	toks := make([]analysis.Token, len(tk.Toks))
	out := make(analysis.TokenStream, len(tk.Toks))
	for i, t := range tk.Toks {
		from := len(buf)
		buf = append(buf, tk.Word(i)...)
		typ := analysis.AlphaNumeric
		if r, _ := utf8.DecodeRune(buf[from:]); unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			typ = analysis.Ideographic
		}
		toks[i] = analysis.Token{Term: buf[from:len(buf):len(buf)], Start: int(t.Start), End: int(t.End), Position: i + 1, Type: typ}
		out[i] = &toks[i]
	}
	return out
}

// tokensPool holds the tokenizer's buffers between texts.
var tokensPool = sync.Pool{New: func() any { return new(textnorm.Tokens) }}

// scriptFilter writes the Latin letters of m back in their script.
type scriptFilter map[byte]rune

func (m scriptFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		k := 0
		for k < len(t.Term) && m[t.Term[k]] == 0 {
			k++
		}
		if k == len(t.Term) {
			continue
		}
		out := make([]byte, 0, 2*len(t.Term))
		out = append(out, t.Term[:k]...)
		for _, c := range t.Term[k:] {
			if r := m[c]; r != 0 {
				out = utf8.AppendRune(out, r)
			} else {
				out = append(out, c)
			}
		}
		t.Term = out
	}
	return in
}
