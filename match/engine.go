package match

import (
	"errors"
	"fmt"
	"github.com/earshot-dev/earshot/textnorm"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Engine finds every keyword of every watchlist in one pass over a post's
// words, then evaluates the rules of the watchlists that had a hit. It is
// immutable once compiled and safe for concurrent use.
//
// Words, not bytes, are the unit: a post's text is folded and split into
// words once; each word is looked up in the vocabulary of all keywords, and
// phrases continue along a trie of word ids. A lookup costs the same at a
// thousand keywords as at a million, and whole-word matching falls out of
// it ("ford" never matches "affordable").
type Engine struct {
	f        *textnorm.Folder
	regions  map[string]string // country → region, for region:
	markets  map[string]string // country → market (org.yaml markets), for market:
	lists    []*Watchlist
	rules    []*node
	positive [][]uint32 // per watchlist: the terms that may satisfy its rule

	words          map[string]uint32 // folded word → word id, while compiling
	vocab          *vocab            // the same, for matching
	trie           map[uint64]uint32 // parent node << 32 | word id → child node; the root is 0; while compiling
	nodeTerms      []uint64          // node << 32 | term, while compiling
	phrases        phraseTrie
	want           textnorm.Want // the words worth a look, for the tokenizer
	maxDepth       int
	stems          map[string][]uint32 // folded stem → wildcard terms
	minStem        int                 // the shortest stem, in bytes (MaxInt without stems)
	stemLenMask    uint64              // bit n set: some stem is n bytes long (n < 64)
	maxStem        int                 // the longest stem, in bytes
	stemStarts     []uint64            // bit set for the first two bytes of every stem
	stemFilter     []uint64            // bitset of stem hashes
	stemFilterBits uint64
	terms          []termInfo
	uses           [][]uint32 // term → watchlists whose rules use it, while compiling
	wakes          [][]uint32 // term → watchlists whose rules cannot hold without a hit of it or of another of their triggers

	maxWork int // see Options.MaxWork

	pool sync.Pool // *scratch
}

type termInfo struct {
	display string // as written in the rule
	kind    uint8
	exact   []string // for =terms: each word as it must be written
	plain   []string // for ^terms: each word folded without look-alikes (for a wildcard, the stem)
	stem    bool     // a wildcard: plain[0] is a prefix
	// whole: a handle or hashtag term without a wildcard, which must not
	// be followed by "_": @acme is not @acme_support (the tokenizer splits
	// words at "_", a handle is one token).
	whole bool
}

// hit is one occurrence of a term: words first..last of the post.
type hit struct {
	term        uint32
	first, last int32
	next        int32 // the hit of the same term before it, or -1
	fwd         int32 // the hit of the same term after it, or -1
}

// scratch is one goroutine's working memory; it makes matching a post
// allocation-free once warm.
type scratch struct {
	toks      textnorm.Tokens
	hits      []hit
	termEpoch []uint32
	termHead  []int32 // a term's latest hit
	termTail  []int32 // a term's earliest hit
	listEpoch []uint32
	cands     []uint32
	hitTerms  []uint32 // distinct terms hit in this post
	text      string   // the post's text, for exact terms
	plainBuf  []byte   // a word folded without look-alikes, for ^terms
	epoch     uint32
	window    []winHit
	heads     []int32 // near: one hit list cursor per distinct operand term
	work      int     // work units spent on this post (see MaxWork)
}

// Compile builds an engine over lists. Every problem in every rule is
// reported, each naming its watchlist's file.
func Compile(lists []*Watchlist) (*Engine, error) { return CompileWith(lists, Options{}) }

// Options are the settings an engine takes beyond its watchlists.
type Options struct {
	TeamQuota int               // see CheckQuota; 0 is no quota (used by Matcher)
	Regions   map[string]string // country code → region, for region:; nil is region.Map(nil)
	MaxWork   int               // work units one post may cost; 0 is MaxWork
	Owned     []Account         // the organisation's own accounts, for to:@owned
	Markets   map[string]string // country code → market (region.MarketMap of org.yaml's markets), for market:
}

// Account is one of the organisation's own accounts on a platform.
type Account struct {
	Platform string // "" is any platform
	Handle   string // without or with a leading @
}

// handleGoesOn reports whether the handle or hashtag ending at byte end of
// text goes on: an "_", or a "." followed by a letter or digit (Bluesky
// handles are domain names), continues it; a full stop ends it.
func handleGoesOn(text string, end int) bool {
	if end >= len(text) {
		return false
	}
	switch text[end] {
	case '_':
		return true
	case '.':
		if end+1 < len(text) {
			r, _ := utf8.DecodeRuneInString(text[end+1:])
			return unicode.IsLetter(r) || unicode.IsDigit(r)
		}
	}
	return false
}

// ownedValue is the to: value that names every owned account.
const ownedValue = "@owned"

// expandTo rewrites the to: filters of a rule as the mentions they stand
// for: to:acme is the mention @acme (a reply addresses its parent's author
// this way on X and Mastodon), and to:@owned is any owned account's
// mention on that account's platform. As mentions, they are keywords: a
// rule of to:@owned alone wakes on them.
func expandTo(n *node, owned []Account) (*node, string) {
	if n.op == opField && n.field == "to" {
		mention := func(h string) *node {
			return &node{op: opTerm, term: &termSpec{text: strings.TrimPrefix(strings.TrimSpace(h), "@"), kind: textnorm.KindMention}, pos: n.pos}
		}
		if !strings.EqualFold(n.value, ownedValue) {
			return mention(n.value), ""
		}
		if len(owned) == 0 {
			return n, "to:@owned names the organisation's own accounts, and none are listed (accounts: in org.yaml, route.org)"
		}
		or := &node{op: opOr, pos: n.pos}
		for _, a := range owned {
			m := mention(a.Handle)
			if a.Platform != "" {
				m = &node{op: opAnd, kids: []*node{m, {op: opField, field: "platform", value: a.Platform, pos: n.pos}}, pos: n.pos}
			}
			or.kids = append(or.kids, m)
		}
		return or, ""
	}
	for i, k := range n.kids {
		var msg string
		if n.kids[i], msg = expandTo(k, owned); msg != "" {
			return n, msg
		}
	}
	return n, ""
}

// MaxWork is the default work budget of one post, in units: a word of the
// post, a keyword hit, or a step of a NEAR or proximity sweep each cost one.
// Every rule is evaluated in time linear in the post's words and hits (a
// NEAR walks the hits of its operands once), so an ordinary post of a
// megabyte costs a few hundred thousand units; a post that needs more
// (hundreds of NEARs over the same thousands of hits) is refused with
// ErrBudget, and the match stage dead-letters it, so that it cannot delay
// the posts behind it.
const MaxWork = 5_000_000

// ErrBudget says a post needed more work than the engine's budget.
var ErrBudget = errors.New("over the work budget")

// CompileWith is Compile with options.
func CompileWith(lists []*Watchlist, o Options) (*Engine, error) {
	if o.Regions == nil {
		o.Regions = region.Map(nil)
	}
	if o.MaxWork <= 0 {
		o.MaxWork = MaxWork
	}
	e := &Engine{
		maxWork: o.MaxWork,
		regions: o.Regions,
		markets: o.Markets,
		f:       textnorm.Shared(),
		lists:   lists,
		words:   make(map[string]uint32, sizeHint(lists)),
		trie:    make(map[uint64]uint32, sizeHint(lists)),
		stems:   map[string][]uint32{},
	}
	termIDs := make(map[string]uint32, sizeHint(lists))
	var errs []error
	var nodes uint32
	var tk textnorm.Tokens
	for li, w := range lists {
		root, err := w.tree()
		if err == nil {
			var msg string
			if root, msg = expandTo(root, o.Owned); msg != "" {
				err = fmt.Errorf("%s: watchlist %s: rule: %s", w.file, w.ID, msg)
			}
		}
		if err != nil {
			errs = append(errs, err)
			e.rules = append(e.rules, nil)
			e.positive = append(e.positive, nil)
			continue
		}
		var lerrs []string
		var resolve func(n *node, neg bool)
		var pos []uint32
		names := region.Names(e.regions)
		for _, r := range w.Regions {
			if _, ok := region.Canonical(r, names); !ok {
				lerrs = append(lerrs, fmt.Sprintf("regions: region %q is not one of %v (enrich.regions)", r, names))
			}
		}
		resolve = func(n *node, neg bool) {
			switch n.op {
			case opField:
				if msg := e.checkValue(n, names); msg != "" {
					if w.Rule != "" {
						msg = "rule: " + errAt(w.Rule, n.pos, msg).Error()
					}
					lerrs = append(lerrs, msg)
				}
			case opTerm:
				id, msg := e.term(n.term, termIDs, &tk, &nodes)
				if msg != "" {
					msg = fmt.Sprintf("%q %s", n.term.text, msg)
					if w.Rule != "" {
						msg = "rule: " + errAt(w.Rule, n.pos, msg).Error()
					}
					lerrs = append(lerrs, msg)
					return
				}
				n.tid = id
				if u := e.uses[id]; len(u) == 0 || u[len(u)-1] != uint32(li) {
					e.uses[id] = append(u, uint32(li)) // lists come in order: the last is this one
				}
				if !neg && !slices.Contains(pos, id) {
					pos = append(pos, id)
				}
			case opNot:
				resolve(n.kids[0], !neg)
			default:
				for _, k := range n.kids {
					resolve(k, neg)
				}
			}
		}
		resolve(root, false)
		if len(lerrs) == 0 {
			if !requiresTerm(root) {
				lerrs = append(lerrs, "the rule could match posts that contain none of its keywords (a filter or NOT alone in an OR branch) and would flood its queue: give every OR branch a keyword")
			} else if t := contradiction(root); t != "" {
				lerrs = append(lerrs, fmt.Sprintf("the rule can never match: it requires %q and excludes it", t))
			}
		}
		for _, m := range lerrs {
			errs = append(errs, fmt.Errorf("%s: watchlist %s: %s", w.file, w.ID, m))
		}
		e.rules = append(e.rules, root)
		e.positive = append(e.positive, pos)
	}
	if err := errors.Join(strictyaml.Cap(errs)...); err != nil {
		return nil, err
	}
	// The stem filter: a power of two of at least 16 bits per stem.
	bits := uint64(1 << 13)
	for bits < uint64(len(e.stems))*16 {
		bits <<= 1
	}
	e.stemFilter, e.stemFilterBits = make([]uint64, bits/64), bits-1
	e.stemStarts = make([]uint64, 1<<16/64)
	e.minStem = math.MaxInt
	for stem := range e.stems {
		if len(stem) < 64 {
			e.stemLenMask |= 1 << len(stem)
		}
		e.minStem, e.maxStem = min(e.minStem, len(stem)), max(e.maxStem, len(stem))
		st := uint16(stem[0]) | uint16(stem[1])<<8 // stems have at least 3 letters, so 2 bytes; as token.head
		e.stemStarts[st>>6] |= 1 << (st & 63)
		b := (fnv([]byte(stem)) >> 20) & e.stemFilterBits
		e.stemFilter[b>>6] |= 1 << (b & 63)
	}
	e.vocab, e.words = newVocab(e.words), nil
	e.want = textnorm.Want{Filter: e.vocab.filter, FBits: e.vocab.fbits, StemStarts: e.stemStarts, MinStem: e.minStem}
	e.phrases = newPhraseTrie(e.trie, e.nodeTerms, nodes, len(e.vocab.words))
	e.trie, e.nodeTerms = nil, nil
	e.wakes = make([][]uint32, len(e.terms))
	for li, r := range e.rules {
		indexSets(r)
		for _, t := range e.triggers(r) {
			if w := e.wakes[t]; len(w) == 0 || w[len(w)-1] != uint32(li) {
				e.wakes[t] = append(w, uint32(li))
			}
		}
	}
	e.uses = nil
	return e, nil
}

// term registers a keyword, phrase or stem and returns its id, or a
// message saying why it cannot match.
func (e *Engine) term(spec *termSpec, ids map[string]uint32, tk *textnorm.Tokens, nodes *uint32) (uint32, string) {
	e.f.Tokenize(tk, spec.text)
	words := make([]string, len(tk.Toks))
	for i := range tk.Toks {
		words[i] = string(tk.Word(i))
	}
	switch {
	case len(words) == 0:
		return 0, "has no letters or digits and could never match"
	case len(words) > MaxPhraseLen:
		return 0, fmt.Sprintf("is a phrase of %d words; the limit is %d", len(words), MaxPhraseLen)
	case spec.wildcard && len(words) > 1:
		return 0, "a wildcard * may only end a single word"
	case spec.wildcard && utf8.RuneCountInString(words[0]) < MinStemRunes:
		return 0, fmt.Sprintf("has too short a stem before *: write at least %d letters", MinStemRunes)
	case spec.wildcard && spec.exact:
		return 0, "an exact term (=) cannot be a wildcard"
	case spec.wildcard && len(words[0]) > 63:
		return 0, "has too long a stem before *: a stem is a word's beginning, at most 63 bytes"
	}
	var exact, plain []string
	if spec.exact {
		for _, t := range tk.Toks {
			exact = append(exact, spec.text[t.Start:t.End])
		}
	} else if spec.plain {
		for _, t := range tk.Toks {
			plain = append(plain, string(e.f.AppendPlain(nil, spec.text[t.Start:t.End])))
		}
	}
	kb := make([]byte, 0, 64)
	kb = append(kb, spec.kind)
	if spec.wildcard {
		kb = append(kb, '*')
	}
	for _, w := range words {
		kb = append(kb, 0)
		kb = append(kb, w...)
	}
	for _, w := range exact {
		kb = append(kb, 1)
		kb = append(kb, w...)
	}
	for _, w := range plain {
		kb = append(kb, 2)
		kb = append(kb, w...)
	}
	key := string(kb)
	if id, ok := ids[key]; ok {
		return id, ""
	}
	id := uint32(len(e.terms))
	ids[key] = id
	display := spec.text
	switch spec.kind {
	case textnorm.KindHashtag:
		display = "#" + display
	case textnorm.KindMention:
		display = "@" + display
	}
	if spec.wildcard {
		display += "*"
	}
	if spec.exact {
		display = "=" + display
	}
	if spec.plain {
		display = "^" + display
	}
	e.terms = append(e.terms, termInfo{display: display, kind: spec.kind, exact: exact, plain: plain, stem: spec.wildcard, whole: spec.kind != textnorm.KindWord && !spec.wildcard})
	e.uses = append(e.uses, nil)
	if spec.wildcard {
		e.stems[words[0]] = append(e.stems[words[0]], id)
		return id, ""
	}
	n := uint32(0)
	for _, w := range words {
		wid, ok := e.words[w]
		if !ok {
			wid = uint32(len(e.words))
			e.words[w] = wid
		}
		k := uint64(n)<<32 | uint64(wid)
		child, ok := e.trie[k]
		if !ok {
			*nodes++
			child = *nodes
			e.trie[k] = child
		}
		n = child
	}
	e.nodeTerms = append(e.nodeTerms, uint64(n)<<32|uint64(id))
	e.maxDepth = max(e.maxDepth, len(words))
	return id, ""
}

// sizeHint guesses the number of terms in lists, to size the compiler's maps.
func sizeHint(lists []*Watchlist) int {
	n := 0
	for _, w := range lists {
		n += len(w.Keywords) + len(w.Exclude) + strings.Count(w.Rule, " OR ") + 1
	}
	return n
}

// requiresTerm reports whether every way of satisfying n includes a term
// hit, so that only watchlists with a hit need to be evaluated.
func requiresTerm(n *node) bool {
	switch n.op {
	case opTerm, opNear:
		return true
	case opAnd:
		return slices.ContainsFunc(n.kids, requiresTerm)
	case opOr:
		for _, k := range n.kids {
			if !requiresTerm(k) {
				return false
			}
		}
		return true
	}
	return false
}

// triggers returns terms of which every way of satisfying n has a hit: a
// watchlist needs evaluating only when one of them hits. Of the operands of
// an AND (or a NEAR) it takes the cheapest to watch, preferring terms fewer
// watchlists use, which are rarer in text ("acme NEAR/5 refund*" wakes on
// acme, not on every refund). n must satisfy requiresTerm.
func (e *Engine) triggers(n *node) []uint32 {
	switch n.op {
	case opTerm:
		return []uint32{n.tid}
	case opOr:
		var out []uint32
		for _, k := range n.kids {
			out = append(out, e.triggers(k)...)
		}
		return out
	case opAnd, opNear:
		var best []uint32
		bestCost := math.MaxInt
		for _, k := range n.kids {
			if !requiresTerm(k) {
				continue
			}
			t := e.triggers(k)
			cost := 0
			for _, id := range t {
				cost += len(e.uses[id])
			}
			if cost < bestCost {
				best, bestCost = t, cost
			}
		}
		return best
	}
	return nil
}

// contradiction finds a term an AND both requires and excludes.
func contradiction(n *node) string {
	if n.op == opAnd {
		req, exc := map[uint32]string{}, map[uint32]bool{}
		for _, k := range n.kids {
			if k.op == opTerm {
				req[k.tid] = k.term.text
			}
			if k.op == opNot && k.kids[0].op == opTerm {
				exc[k.kids[0].tid] = true
			}
		}
		for id, t := range req {
			if exc[id] {
				return t
			}
		}
	}
	for _, k := range n.kids {
		if t := contradiction(k); t != "" {
			return t
		}
	}
	return ""
}

// Watchlists returns the lists the engine was compiled from.
func (e *Engine) Watchlists() []*Watchlist { return e.lists }

// Keywords is the number of distinct terms.
func (e *Engine) Keywords() int { return len(e.terms) }

func (e *Engine) getScratch() *scratch {
	if s, ok := e.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{
		termEpoch: make([]uint32, len(e.terms)),
		termHead:  make([]int32, len(e.terms)),
		termTail:  make([]int32, len(e.terms)),
		listEpoch: make([]uint32, len(e.lists)),
	}
}

// Match returns the watchlists p matches, in watchlist order, each with the
// keywords that hit and their spans in p.Text. A post over the work budget
// matches nothing; MatchChecked says so.
func (e *Engine) Match(p *post.Post) []post.Match {
	ms, _ := e.MatchChecked(p)
	return ms
}

// MatchChecked is Match, with an error wrapping ErrBudget for a post that
// needs more work than the engine's budget (and then no matches).
func (e *Engine) MatchChecked(p *post.Post) ([]post.Match, error) {
	s := e.getScratch()
	defer e.pool.Put(s)
	return e.matchBudget(nil, p, s)
}

// matchBudget is match with the budget checked: over it, no matches and an
// error saying how far over.
func (e *Engine) matchBudget(dst []post.Match, p *post.Post, s *scratch) ([]post.Match, error) {
	out := e.match(dst, p, s)
	if s.work > e.maxWork {
		return dst, fmt.Errorf("%w: the post needed more than %d units (%d words, %d keyword hits)", ErrBudget, e.maxWork, len(s.toks.Toks), len(s.hits))
	}
	return out, nil
}

// match finds p's matches. It stops early, with s.work over the budget, for
// a post that costs more than the budget allows.
func (e *Engine) match(dst []post.Match, p *post.Post, s *scratch) []post.Match {
	s.epoch++
	if s.epoch == 0 { // wrapped: forget every stamp
		clear(s.termEpoch)
		clear(s.listEpoch)
		s.epoch = 1
	}
	s.hits, s.cands, s.hitTerms = s.hits[:0], s.cands[:0], s.hitTerms[:0]
	s.text = p.Text
	s.toks.Want = &e.want
	e.f.Tokenize(&s.toks, p.Text)
	toks := &s.toks
	s.work = len(toks.Toks)
	for _, i := range toks.Cands {
		if s.work > e.maxWork {
			return dst
		}
		tk := &toks.Toks[i]
		if e.vocab.maybe(tk.Hash) {
			if wid, ok := e.vocab.find(tk.Hash, toks.Word(int(i))); ok {
				node := e.phrases.root[wid]
				for j := int(i); node != 0; {
					for _, t := range e.phrases.terms(node) {
						e.hit(s, t, tk.Kind, int(i), j)
					}
					j++
					if j >= len(toks.Toks) || j-int(i) >= e.maxDepth {
						break
					}
					wid, ok = e.vocab.lookup(toks.Toks[j].Hash, toks.Word(j))
					if !ok {
						break
					}
					node = e.phrases.child(node, wid)
				}
			}
		}
		if int(tk.To-tk.From) >= e.minStem && e.stemStarts[tk.Head>>6]&(1<<(tk.Head&63)) != 0 {
			e.stemHits(s, toks.Word(int(i)), int(i))
		}
	}
	for _, li := range s.cands {
		if e.eval(e.rules[li], p, s) {
			dst = append(dst, e.explain(li, s))
		}
		if s.work > e.maxWork {
			return dst
		}
	}
	if len(dst) > 1 {
		slices.SortFunc(dst, func(a, b post.Match) int { return strings.Compare(a.Watchlist, b.Watchlist) })
	}
	return dst
}

// phraseTrie is the trie of keywords and phrases over word ids, flat: the
// nodes of one-word paths by word id, the others in an open-addressing
// table keyed by parent node and word id, and each node's terms in one list.
type phraseTrie struct {
	root     []uint32 // word id → node, 0 none
	keys     []uint64 // parent << 32 | word id, + 1; 0 is an empty slot
	vals     []uint32
	mask     uint64
	termOff  []uint32 // node n's terms are termList[termOff[n]:termOff[n+1]]
	termList []uint32
}

func newPhraseTrie(edges map[uint64]uint32, nodeTerms []uint64, nodes uint32, words int) phraseTrie {
	t := phraseTrie{root: make([]uint32, words)}
	size := uint64(16)
	for size < uint64(len(edges))*2 {
		size <<= 1
	}
	t.keys, t.vals, t.mask = make([]uint64, size), make([]uint32, size), size-1
	for k, child := range edges {
		if k>>32 == 0 {
			t.root[uint32(k)] = child
			continue
		}
		i := edgeSlot(k) & t.mask
		for t.keys[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.vals[i] = k+1, child
	}
	slices.Sort(nodeTerms) // by node, then term: the order terms were added
	t.termOff = make([]uint32, nodes+2)
	t.termList = make([]uint32, len(nodeTerms))
	k := 0
	for n := uint32(0); n <= nodes; n++ {
		t.termOff[n] = uint32(k)
		for ; k < len(nodeTerms) && uint32(nodeTerms[k]>>32) == n; k++ {
			t.termList[k] = uint32(nodeTerms[k])
		}
	}
	t.termOff[nodes+1] = uint32(k)
	return t
}

// Hashing constants of the phrase trie's slots and of stems (FNV-1a).
const (
	hashK1    = 0x9E3779B97F4A7C15
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func edgeSlot(k uint64) uint64 {
	k *= hashK1
	return k ^ k>>31
}

func (t *phraseTrie) terms(node uint32) []uint32 {
	return t.termList[t.termOff[node]:t.termOff[node+1]]
}

// child is the node below node by word wid, or 0.
func (t *phraseTrie) child(node, wid uint32) uint32 {
	k := uint64(node)<<32 | uint64(wid)
	for i := edgeSlot(k) & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case 0:
			return 0
		case k + 1:
			return t.vals[i]
		}
	}
}

// stemHits finds the wildcard stems that begin word w: one pass over its
// bytes, hashing as it goes, with a filter check at each stem length.
func (e *Engine) stemHits(s *scratch, w []byte, i int) {
	// (The caller has checked that some stem starts with w's first two bytes.)
	h := uint64(fnvOffset)
	for l, c := range w[:min(len(w), e.maxStem)] {
		h = (h ^ uint64(c)) * fnvPrime
		n := l + 1
		if e.stemLenMask&(1<<n) == 0 || (n < len(w) && !utf8.RuneStart(w[n])) {
			continue
		}
		hh := h
		if hh == 0 {
			hh = 1
		}
		b := (hh >> 20) & e.stemFilterBits
		if e.stemFilter[b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		for _, t := range e.stems[string(w[:n])] {
			e.hit(s, t, s.toks.Toks[i].Kind, i, i)
		}
	}
}

func (e *Engine) hit(s *scratch, t uint32, kind uint8, first, last int) {
	if k := e.terms[t].kind; k != textnorm.KindWord && k != kind {
		return // #nike needs the hashtag; plain nike takes any
	}
	if e.terms[t].whole && handleGoesOn(s.text, int(s.toks.Toks[last].End)) {
		return // @acme in @acme_support or @acme.bsky.social: another handle
	}
	for i, w := range e.terms[t].exact { // =Apple: the folded match must also be written so
		if tok := s.toks.Toks[first+i]; s.text[tok.Start:tok.End] != w {
			return
		}
	}
	for i, w := range e.terms[t].plain { // ^сок: the words must be these without look-alike folding
		tok := s.toks.Toks[first+i]
		s.plainBuf = e.f.AppendPlain(s.plainBuf[:0], s.text[tok.Start:tok.End])
		if e.terms[t].stem && !strings.HasPrefix(string(s.plainBuf), w) || !e.terms[t].stem && string(s.plainBuf) != w {
			return
		}
	}
	h := hit{term: t, first: int32(first), last: int32(last), next: -1, fwd: -1}
	if s.termEpoch[t] == s.epoch {
		h.next = s.termHead[t]
		s.hits[h.next].fwd = int32(len(s.hits))
	} else {
		s.termEpoch[t] = s.epoch
		s.termTail[t] = int32(len(s.hits))
		s.hitTerms = append(s.hitTerms, t)
		for _, li := range e.wakes[t] {
			if s.listEpoch[li] != s.epoch {
				s.listEpoch[li] = s.epoch
				s.cands = append(s.cands, li)
			}
		}
	}
	s.termHead[t] = int32(len(s.hits))
	s.hits = append(s.hits, h)
	s.work++
}

func (e *Engine) eval(n *node, p *post.Post, s *scratch) bool {
	switch n.op {
	case opTerm:
		return s.termEpoch[n.tid] == s.epoch
	case opAnd:
		for _, k := range n.kids {
			if !e.eval(k, p, s) {
				return false
			}
		}
		return true
	case opOr:
		if n.set != nil {
			// Many keywords: look the few terms that hit up in the set
			// instead of checking every keyword.
			for _, t := range s.hitTerms {
				if _, ok := slices.BinarySearch(n.set, t); ok {
					return true
				}
			}
		}
		for _, k := range n.rest {
			if e.eval(k, p, s) {
				return true
			}
		}
		return false
	case opNot:
		return !e.eval(n.kids[0], p, s)
	case opNear:
		return e.near(n, s)
	case opField:
		switch n.field {
		case "region":
			return strings.EqualFold(e.regions[strings.ToUpper(postCountry(p))], n.value)
		case "market":
			return strings.EqualFold(e.markets[strings.ToUpper(postCountry(p))], n.value)
		}
		return fieldHolds(n.field, n.value, p)
	}
	return false
}

type winHit struct {
	pos  int32
	kid  int
	last int32
}

// near reports whether one hit of each operand lies within n words: the
// starts of the first and last hit in the window are at most n words apart.
// Ordered, the operands must also come in the order written.
//
// Both sweeps are linear in the operands' hits. A term's hits are listed
// latest first (the tokens are visited in order) and are at most one per
// starting word; all hits of one term span the same number of words, so a
// later start also means a later end.
func (e *Engine) near(n *node, s *scratch) bool {
	for _, k := range n.kids {
		if s.termEpoch[k.tid] != s.epoch {
			return false
		}
	}
	if n.ordered {
		return e.nearOrdered(n, s)
	}
	// The operands' distinct terms: "a a a"~n has one, whose every hit
	// stands for each operand at once (as it always did).
	s.heads = s.heads[:0]
	for _, k := range n.kids {
		if !slices.ContainsFunc(s.heads, func(h int32) bool { return s.hits[h].term == k.tid }) {
			s.heads = append(s.heads, s.termHead[k.tid])
		}
	}
	kids := len(s.heads)
	// Merge the lists, latest first, into the window.
	s.window = s.window[:0]
	for {
		best := -1
		for i, h := range s.heads {
			if h >= 0 && (best < 0 || s.hits[h].first > s.hits[s.heads[best]].first) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		h := &s.hits[s.heads[best]]
		s.window = append(s.window, winHit{pos: h.first, kid: best, last: h.last})
		s.heads[best] = h.next
	}
	s.work += len(s.window) * kids
	// Sliding window over the hits (latest first), holding one of each term.
	w := s.window
	var counts [MaxPhraseLen + 2]int
	have, lo := 0, 0
	for hi := range w {
		if counts[w[hi].kid] == 0 {
			have++
		}
		counts[w[hi].kid]++
		for have == kids {
			if int(w[lo].pos-w[hi].pos) <= n.n {
				return true
			}
			counts[w[lo].kid]--
			if counts[w[lo].kid] == 0 {
				have--
			}
			lo++
		}
	}
	return false
}

// nearOrdered: some hit b of the second operand starts after some hit a of
// the first ends, with b's start at most n words after a's: a.first >=
// b.first-n and a.last < b.first. Ends grow with starts, so of the a's that
// start at or after b.first-n the earliest ends soonest and alone needs
// checking. B is walked from its latest hit back while a cursor walks A
// back in step: one pass over each.
func (e *Engine) nearOrdered(n *node, s *scratch) bool {
	a, b := s.termHead[n.kids[0].tid], s.termHead[n.kids[1].tid]
	ca := int32(-1) // the earliest a starting at or after the bound, so far
	for ; b >= 0; b = s.hits[b].next {
		s.work++
		bf := s.hits[b].first
		bound := bf - int32(n.n)
		for a >= 0 && s.hits[a].first >= bound {
			ca = a
			a = s.hits[a].next
			s.work++
		}
		if ca >= 0 && s.hits[ca].first >= bound && s.hits[ca].last < bf {
			return true
		}
	}
	return false
}

// explain builds the match record of watchlist li: the positive terms that
// hit and where.
func (e *Engine) explain(li uint32, s *scratch) post.Match {
	w := e.lists[li]
	m := post.Match{Watchlist: w.ID, Version: w.Version, Brand: w.Brand, Team: w.Team, Tags: w.Tags, Regions: w.Regions}
	for _, t := range e.positive[li] {
		if s.termEpoch[t] != s.epoch {
			continue
		}
		m.Keywords = append(m.Keywords, e.terms[t].display)
		// The term's earliest MaxSpans hits, in text order: a keyword
		// repeated thousands of times (spam) costs no more than MaxSpans
		// spans, however many watchlists it matches.
		n := 0
		for h := s.termTail[t]; h >= 0 && n < MaxSpans; h, n = s.hits[h].fwd, n+1 {
			first, last := s.toks.Toks[s.hits[h].first], s.toks.Toks[s.hits[h].last]
			m.Spans = append(m.Spans, post.Span{Start: int(first.Start), End: int(last.End), Term: e.terms[t].display})
		}
	}
	s.work += len(m.Spans)
	slices.SortFunc(m.Spans, func(a, b post.Span) int { return a.Start - b.Start })
	if len(m.Spans) > MaxSpans {
		// The first MaxSpans in text order, which a record can carry.
		m.Spans = slices.Clone(m.Spans[:MaxSpans])
	}
	return m
}

// checkValue says why a filter's value names nothing that exists (a region
// not among names, a country not in ISO 3166, an unknown language or
// platform), or "".
func (e *Engine) checkValue(n *node, names []string) string {
	v := n.value
	switch n.field {
	case "region":
		if _, ok := region.Canonical(v, names); !ok {
			return fmt.Sprintf("region:%s is not a region: want one of %v (enrich.regions)", v, names)
		}
	case "market":
		markets := region.MarketNames(e.markets)
		if _, ok := region.Canonical(v, markets); !ok {
			if len(markets) == 0 {
				return fmt.Sprintf("market:%s names a market, and none are defined (markets: in org.yaml, route.org)", v)
			}
			return fmt.Sprintf("market:%s is not a market: want one of %v (org.yaml markets)", v, markets)
		}
	case "country":
		r, err := language.ParseRegion(v)
		if _, mapped := e.regions[strings.ToUpper(v)]; len(v) != 2 || (err != nil || !r.IsCountry()) && !mapped {
			return fmt.Sprintf("country:%s is not an ISO 3166-1 alpha-2 country code such as GR", v)
		}
	case "lang":
		if _, err := language.Parse(v); err != nil {
			return fmt.Sprintf("lang:%s is not a language code (ISO 639, BCP 47) such as el or pt-BR", v)
		}
	case "platform":
		if !slices.ContainsFunc(post.Platforms, func(p string) bool { return strings.EqualFold(p, v) }) {
			return fmt.Sprintf("platform:%s is not a platform earshot reads: want one of %v", v, post.Platforms)
		}
	}
	return ""
}

func fieldHolds(field, value string, p *post.Post) bool {
	switch field {
	case "from":
		return strings.EqualFold(strings.TrimPrefix(p.Author.Handle, "@"), strings.TrimPrefix(value, "@"))
	case "lang":
		return strings.EqualFold(p.Lang, value) || len(p.Lang) > len(value) && p.Lang[len(value)] == '-' && strings.EqualFold(p.Lang[:len(value)], value)
	case "country":
		return strings.EqualFold(p.Country, value) || p.Geo != nil && strings.EqualFold(p.Geo.Country, value)
	case "platform":
		return strings.EqualFold(p.Platform, value)
	case "has":
		switch value {
		case "link":
			return len(p.URLs) > 0
		case "media":
			return p.Media > 0
		case "mention":
			return len(p.Mentions) > 0
		case "hashtag":
			return len(p.Hashtags) > 0
		}
	case "is":
		switch value {
		case "reply":
			return p.ReplyTo != ""
		case "repost":
			return p.RepostOf != ""
		case "quote":
			return p.QuoteOf != ""
		}
	case "followers":
		cmp, n, _ := parseCompare(value)
		f := p.Author.Followers
		switch cmp {
		case ">=":
			return f >= n
		case "<=":
			return f <= n
		case ">":
			return f > n
		case "<":
			return f < n
		}
		return f == n
	case "url":
		for _, u := range p.URLs {
			if containsFold(u, value) {
				return true
			}
		}
	}
	return false
}

// postCountry is the country the platform gives a post: its geo, else its place.
func postCountry(p *post.Post) string {
	if p.Geo != nil && p.Geo.Country != "" {
		return p.Geo.Country
	}
	return p.Country
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// indexSets prepares OR nodes: their plain term operands become a sorted set,
// the others stay in rest.
func indexSets(n *node) {
	if n == nil {
		return
	}
	if n.op == opOr {
		n.set, n.rest = nil, nil
		for _, k := range n.kids {
			if k.op == opTerm {
				n.set = append(n.set, k.tid)
			} else {
				n.rest = append(n.rest, k)
			}
		}
		slices.Sort(n.set)
	}
	for _, k := range n.kids {
		indexSets(k)
	}
}
