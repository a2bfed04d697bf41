package bench

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudflare/ahocorasick"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// Baseline is the matcher of the walking skeleton, kept to measure against:
// cloudflare/ahocorasick over lower-cased text padded with spaces (so that
// keywords match whole words), with "any keyword and no exclusion" rules.
// Rules with operators are reduced to their plain words, which favours the
// baseline.
type Baseline struct {
	ac   *ahocorasick.Matcher
	uses [][]int // pattern → watchlists
}

// NewBaseline builds the baseline over lists.
func NewBaseline(lists []*match.Watchlist) (b *Baseline, err error) {
	defer func() {
		if r := recover(); r != nil { // cloudflare's trie panics when it runs out of room
			err = fmt.Errorf("cloudflare/ahocorasick could not build: %v", r)
		}
	}()
	index := map[string]int{}
	var dict []string
	b = &Baseline{}
	for li, w := range lists {
		kws := w.Keywords
		if w.Rule != "" {
			kws = strings.FieldsFunc(w.Rule, func(r rune) bool { return r == '"' || r == '(' || r == ')' })
		}
		for _, k := range kws {
			key := string(normalize(nil, k))
			i, ok := index[key]
			if !ok {
				i = len(dict)
				index[key] = i
				dict = append(dict, key)
				b.uses = append(b.uses, nil)
			}
			b.uses[i] = append(b.uses[i], li)
		}
	}
	b.ac = ahocorasick.NewStringMatcher(dict)
	return b, nil
}

// Match reports whether p matches any watchlist.
func (b *Baseline) Match(p *post.Post) bool {
	return len(b.ac.MatchThreadSafe(normalize(make([]byte, 0, len(p.Text)+2), p.Text))) > 0
}

// normalize is the skeleton's: lower case, non-word runs to one space,
// padded with spaces.
func normalize(dst []byte, s string) []byte {
	dst = append(dst, ' ')
	space := true
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
			space = false
		case !space:
			dst = append(dst, ' ')
			space = true
		}
	}
	if !space {
		dst = append(dst, ' ')
	}
	return dst
}
