package match

import (
	"context"
	"sort"

	"github.com/cloudflare/ahocorasick"

	"github.com/earshot-dev/earshot/post"
)

// Matcher holds the automaton over every keyword of every watchlist. It is
// immutable once built and safe for concurrent use.
type Matcher struct {
	lists    []*Watchlist
	ac       *ahocorasick.Matcher
	patterns []pattern // by automaton index
}

// pattern is one distinct normalised term and who uses it.
type pattern struct {
	uses []use
}

type use struct {
	list    int // index into lists
	keyword string
	exclude bool
}

// New builds a matcher over lists.
func New(lists []*Watchlist) *Matcher {
	m := &Matcher{lists: lists}
	index := map[string]int{}
	var dict []string
	add := func(term string, u use) {
		key := string(normalize(nil, term))
		i, ok := index[key]
		if !ok {
			i = len(dict)
			index[key] = i
			dict = append(dict, key)
			m.patterns = append(m.patterns, pattern{})
		}
		m.patterns[i].uses = append(m.patterns[i].uses, u)
	}
	for li, w := range lists {
		for _, k := range w.Keywords {
			add(k, use{list: li, keyword: k})
		}
		for _, k := range w.Exclude {
			add(k, use{list: li, keyword: k, exclude: true})
		}
	}
	m.ac = ahocorasick.NewStringMatcher(dict)
	return m
}

// Watchlists returns the lists the matcher was built from.
func (m *Matcher) Watchlists() []*Watchlist { return m.lists }

// scratch is per-call working memory, reused across a batch.
type scratch struct {
	buf      []byte
	hits     map[int][]string
	excluded map[int]bool
}

// Match returns the watchlists that match p, in watchlist order.
func (m *Matcher) Match(p *post.Post) []post.Match {
	return m.match(p, &scratch{hits: map[int][]string{}, excluded: map[int]bool{}})
}

func (m *Matcher) match(p *post.Post, s *scratch) []post.Match {
	s.buf = normalize(s.buf[:0], p.Text)
	found := m.ac.MatchThreadSafe(s.buf)
	if len(found) == 0 {
		return nil
	}
	clear(s.hits)
	clear(s.excluded)
	for _, i := range found {
		for _, u := range m.patterns[i].uses {
			if u.exclude {
				s.excluded[u.list] = true
			} else {
				s.hits[u.list] = append(s.hits[u.list], u.keyword)
			}
		}
	}
	var out []post.Match
	for li, kws := range s.hits {
		if s.excluded[li] {
			continue
		}
		w := m.lists[li]
		sort.Strings(kws)
		out = append(out, post.Match{Watchlist: w.ID, Version: w.Version, Brand: w.Brand, Team: w.Team, Keywords: kws})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Watchlist < out[b].Watchlist })
	return out
}

// Stage returns the match stage: it passes on the posts that match at least
// one watchlist, with their matches, and drops the rest.
func (m *Matcher) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		s := &scratch{hits: map[int][]string{}, excluded: map[int]bool{}}
		var out post.Batch
		for _, it := range in.Items {
			if ms := m.match(it.Post, s); len(ms) > 0 {
				it.Matches = ms
				out.Items = append(out.Items, it)
			}
		}
		return out, nil
	}
}
