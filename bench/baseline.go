package bench

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudflare/ahocorasick"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// Baseline is the matcher of the walking skeleton, kept to measure against:
// cloudflare/ahocorasick over lower-cased text padded with spaces (so that
// keywords match whole words), answering "does any keyword occur". Every
// term of a rule (its keywords, phrases, stems and exclusions, without
// operators) is a pattern; rules are not evaluated, which favours the
// baseline.
//
// The baseline is given its best legitimate input: Prepare lower-cases and
// pads a post's text once, and benchmarks call it outside the timed loop,
// so that MatchPrepared times the automaton alone. Match does both, as the
// skeleton did in production.
type Baseline struct {
	ac       *ahocorasick.Matcher
	uses     [][]int // pattern → watchlists
	Patterns int
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
		kws := slices.Concat(w.Keywords, w.Exclude)
		if w.Rule != "" {
			kws = ruleTerms(w.Rule)
		}
		for _, k := range kws {
			key := string(normalize(nil, k))
			if key == " " {
				continue
			}
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
	b.Patterns = len(dict)
	b.ac = ahocorasick.NewStringMatcher(dict)
	return b, nil
}

// ruleTerms returns the terms of a rule: quoted phrases whole, other words
// without their operators (-, #, @, =, a trailing * or ~n), and no OR, AND,
// NOT, NEAR/n or field:value.
func ruleTerms(rule string) []string {
	var out []string
	for len(rule) > 0 {
		if rule[0] == '"' {
			end := strings.IndexByte(rule[1:], '"')
			if end < 0 {
				end = len(rule) - 1
			}
			out = append(out, rule[1:1+end])
			rule = rule[min(len(rule), end+2):]
			continue
		}
		end := strings.IndexAny(rule, " ()\"")
		if end < 0 {
			end = len(rule)
		}
		if end == 0 {
			rule = rule[1:]
			continue
		}
		w := strings.TrimLeft(rule[:end], "-#@=")
		w = strings.TrimRight(w, "*")
		rule = rule[end:]
		if w == "" || w == "OR" || w == "AND" || w == "NOT" || strings.HasPrefix(w, "NEAR/") || strings.Contains(w, ":") || w[0] == '~' {
			continue
		}
		out = append(out, w)
	}
	return out
}

// Match reports whether p matches any keyword, lower-casing its text first.
func (b *Baseline) Match(p *post.Post) bool {
	return b.MatchPrepared(b.Prepare(p))
}

// Prepare is the text the automaton reads: lower-cased, runs of non-word
// characters as one space, padded with spaces.
func (b *Baseline) Prepare(p *post.Post) []byte {
	return normalize(make([]byte, 0, len(p.Text)+2), p.Text)
}

// MatchPrepared reports whether a prepared text holds any keyword. It
// finds every pattern that occurs (as the engine finds every keyword), with
// the automaton's Match: a benchmark runs on one goroutine, where it need
// not pay for MatchThreadSafe's shared de-duplication map.
func (b *Baseline) MatchPrepared(text []byte) bool {
	return len(b.ac.Match(text)) > 0
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
