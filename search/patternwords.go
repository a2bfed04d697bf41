package search

import (
	"context"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// wordPattern is one pattern clause (a wildcard or a /regexp/) over one
// field as bleve runs it: a regular expression over the field's
// dictionary, each word it matches read as a term of its own (a reader of
// some kilobytes, held while the day is searched).
type wordPattern struct {
	what  string // as the query wrote it, for the error
	field string
	re    string // unanchored, as bleve's RegexpQuery and WildcardQuery pass it on
	// A fuzzy term (word~2) instead: the words within edits of fuzzy
	// that begin with prefix.
	fuzzy, prefix string
	edits         int
}

// wildcardRegexp is the regular expression bleve's WildcardQuery runs for
// w (its wildcardRegexpReplacer, which is not exported).
func wildcardRegexp(w string) string {
	return strings.NewReplacer("+", `\+`, "(", `\(`, ")", `\)`, "^", `\^`, "$", `\$`, ".", `\.`,
		"{", `\{`, "}", `\}`, "[", `\[`, "]", `\]`, "|", `\|`, `\`, `\\`, "*", ".*", "?", ".").Replace(w)
}

// patternWords counts the words the patterns match in each shard, each
// count stopping past limit. A shard that cannot be read counts 0: its
// search reports it.
func patternWords(shards []bleve.Index, ps []wordPattern, limit int) ([]int, error) {
	words := make([]int, len(shards))
	for i, s := range shards {
		n, err := shardWords(s, ps, limit)
		if err != nil {
			return nil, err
		}
		words[i] = n
	}
	return words, nil
}

func shardWords(s bleve.Index, ps []wordPattern, limit int) (n int, err error) {
	adv, err := s.Advanced()
	if err != nil {
		return 0, nil
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, nil
	}
	defer r.Close()
	rr, ok := r.(index.IndexReaderRegexp)
	fr, fok := r.(index.IndexReaderFuzzy)
	if !ok || !fok {
		return 0, nil
	}
	for _, p := range ps {
		var d index.FieldDict
		if p.edits > 0 {
			d, err = fr.FieldDictFuzzy(p.field, p.fuzzy, p.edits, p.prefix)
		} else {
			d, err = rr.FieldDictRegexp(p.field, p.re)
		}
		if err != nil {
			return 0, bad("pattern %s: %v", p.what, err)
		}
		for n <= limit {
			e, err := d.Next()
			if err != nil || e == nil {
				break
			}
			n++
		}
		d.Close()
		if n > limit {
			break
		}
	}
	return n, nil
}

// tooManyWords refuses a query whose patterns match more than limit words
// in a day: what it would hold in memory grows with them, not with its hits.
func tooManyWords(ps []wordPattern, day string, limit int) error {
	var what []string
	for _, p := range ps {
		if !slices.Contains(what, p.what) {
			what = append(what, p.what)
		}
	}
	return bad("%s match more than %d words on %s (search.max_pattern_words), and each word matched costs memory: give the pattern more letters or fewer wildcards",
		strings.Join(what, ", "), limit, day)
}

// searchBounded searches the shards as searchAll does, but in runs of
// consecutive shards whose pattern words (words[i] for shards[i]) stay
// within limit together, one after the other, so that a query's patterns
// never hold more than limit words' readers at once (each day within it
// alone). The runs' results are merged and paged as req asks.
func searchBounded(ctx context.Context, req *bleve.SearchRequest, shards []bleve.Index, words []int, limit int) (*bleve.SearchResult, error) {
	var runs [][2]int
	sum, lo := 0, 0
	for i, w := range words {
		if limit > 0 && i > lo && sum+w > limit {
			runs = append(runs, [2]int{lo, i})
			sum, lo = 0, i
		}
		sum += w
	}
	runs = append(runs, [2]int{lo, len(shards)})
	if len(runs) == 1 {
		return searchAll(ctx, shards, req)
	}
	sub := *req
	sub.From, sub.Size = 0, req.From+req.Size
	var sr *bleve.SearchResult
	for _, run := range runs {
		r, err := searchAll(ctx, shards[run[0]:run[1]], &sub)
		if err != nil {
			return nil, err
		}
		if sr == nil {
			sr = r
		} else {
			sr.Merge(r)
		}
	}
	page(req, sr)
	return sr, nil
}

// page sorts merged hits as req does, keeps its page and trims the facets,
// as one search over every shard merged would.
func page(req *bleve.SearchRequest, sr *bleve.SearchResult) {
	scoring, desc := req.Sort.CacheIsScore(), req.Sort.CacheDescending()
	slices.SortStableFunc(sr.Hits, func(a, b *search.DocumentMatch) int { return req.Sort.Compare(scoring, desc, a, b) })
	sr.Hits = sr.Hits[min(req.From, len(sr.Hits)):min(req.From+req.Size, len(sr.Hits))]
	sr.Facets.Fixup(fieldFacet, facetTerms)
}

// checkWords counts the words the query's patterns match in each day of
// the window and refuses the query when a day has more than the limit.
func (x *Index) checkWords(shards []bleve.Index, days []string, ps []wordPattern) ([]int, error) {
	limit := x.cfg.MaxPatternWords
	if limit == 0 || len(ps) == 0 {
		return make([]int, len(shards)), nil
	}
	words, err := patternWords(shards, ps, limit)
	if err != nil {
		return nil, err
	}
	for i, n := range words {
		if n > limit {
			return nil, tooManyWords(ps, days[i], limit)
		}
	}
	return words, nil
}
