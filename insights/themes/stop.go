package themes

import (
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/el"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/lang/pt"
	"github.com/blevesearch/bleve/v2/analysis/lang/ru"

	"github.com/earshot-dev/earshot/textnorm"
)

// stopWords is the union of bleve's stop word lists (Snowball's, and
// Lucene's Greek), each word folded as textnorm folds the words of posts,
// plus the words of the web that are no theme (rt, via, amp). A phrase may
// not begin or end with one, nor be one.
var stopWords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, list := range [][]byte{en.EnglishStopWords, es.SpanishStopWords, el.GreekStopWords, de.GermanStopWords,
		fr.FrenchStopWords, it.ItalianStopWords, nl.DutchStopWords, pt.PortugueseStopWords, ru.RussianStopWords,
		[]byte("rt\nvia\namp\nhttp\nhttps\nwww\ncom\nuser\nim\ndont\ncant\nits\nthats\nyoure\nive\nill\nid\n")} {
		tm := analysis.NewTokenMap()
		if err := tm.LoadBytes(list); err != nil {
			panic("themes: reading a stop word list: " + err.Error())
		}
		for w := range tm {
			// The lists write apostrophes ("don't"), which split words.
			for _, x := range textnorm.Words(strings.ReplaceAll(w, "'", " ")) {
				m[x] = true
			}
		}
	}
	return m
})
