package themes

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/textnorm"
)

// gram is a phrase of 1 to 3 words, as word ids; unused places are -1.
type gram [3]int32

// fpost is a post of the period, as the finder keeps it.
type fpost struct {
	p      Post
	ids    []int32 // its words
	brk    []bool  // a sentence (or a left-out word) ends before word i
	starts []int32 // word i is p.Text[starts[i]:ends[i]]
	ends   []int32
	cands  []int32 // the candidate phrases it has, each once
}

// cand is a phrase seen in at least minPosts posts of the period.
type cand struct {
	g       gram
	key     string // its words, folded, joined by spaces
	df, bg  int32  // posts of the period, of the background, that have it
	surface string
	weight  float64
	score   float64
}

type finder struct {
	o        Options
	tok      textnorm.Tokens
	stop     map[string]bool
	words    map[uint64]int32 // by the tokenizer's hash of the folded word
	names    map[int32]string // of the words seen in two posts or more
	wordDF   []int32
	wordLast []int32 // the last post (+1) that counted word i, for per-post document frequency
	single   []bool  // word i may be a phrase by itself
	edge     []bool  // word i may begin or end a phrase
	posts    []fpost
	minPosts int

	total, prevTotal int64
	index            map[gram]int32 // candidate index of each candidate phrase
	cands            []cand
	bgN, prevN       int
	prev             [][]int32 // candidate phrases of each post of the previous period
	seen             map[int32]struct{}
	kwWords          map[string][]string // the words of each keyword seen
}

func newFinder(o Options) *finder {
	return &finder{o: o, stop: stopWords(), words: map[uint64]int32{}, names: map[int32]string{}, seen: map[int32]struct{}{}, kwWords: map[string][]string{}}
}

// split reads a post's words: ids (interned when intern, or -1 for a word
// never seen in the period), where sentences break, and where each word
// is. Links and mentions are left out, and so are the post's keywords;
// each leaves a break.
func (f *finder) split(p Post, intern bool) (ids []int32, brk []bool, starts, ends []int32) {
	text := p.Text
	f.tok.Want = nil
	textnorm.Shared().Tokenize(&f.tok, text)
	toks := f.tok.Toks
	skipUntil := int32(-1) // a link or mention runs to the next space
	var kws [][]string
	// A post's matched keywords are few; a post said to match thousands
	// is read against the first maxKeywords, so a word costs bounded time.
	keywords := p.Keywords
	if len(keywords) > maxKeywords {
		keywords = keywords[:maxKeywords]
	}
	for _, k := range keywords {
		w, ok := f.kwWords[k]
		if !ok {
			w = textnorm.Words(k)
			if len(f.kwWords) < 10_000 {
				f.kwWords[k] = w
			}
		}
		if len(w) > 0 {
			kws = append(kws, w)
		}
	}
	n := min(len(toks), f.o.MaxWords)
	ids, brk = make([]int32, 0, n), make([]bool, 0, n)
	if intern {
		starts, ends = make([]int32, 0, n), make([]int32, 0, n)
	}
	pendingBreak := true
	prevEnd := int32(0)
	for i := 0; i < len(toks) && len(ids) < f.o.MaxWords; i++ {
		t := &toks[i]
		if t.Start < skipUntil {
			pendingBreak = true
			prevEnd = t.End
			continue
		}
		if gapBreaks(text[prevEnd:t.Start]) {
			pendingBreak = true
		}
		if t.Kind == textnorm.KindMention || isLink(text, int(t.Start)) {
			skipUntil = int32(nextSpace(text, int(t.Start)))
			pendingBreak = true
			prevEnd = t.End
			continue
		}
		if n := keywordAt(&f.tok, i, kws); n > 0 {
			i += n - 1
			pendingBreak = true
			prevEnd = toks[i].End
			continue
		}
		id := f.id(&f.tok, i, intern)
		ids = append(ids, id)
		brk = append(brk, pendingBreak)
		if intern {
			starts = append(starts, t.Start)
			ends = append(ends, t.End)
		}
		pendingBreak = false
		prevEnd = t.End
	}
	return ids, brk, starts, ends
}

// hashtagSalt makes a hashtag's key another than its word's.
const hashtagSalt = 0x9E3779B97F4A7C15

// id returns the id of token i's word, adding it when intern, or -1.
// Words are kept by the tokenizer's 64-bit hash of their folded form (a
// collision, about 1 in 10^7 at a million words, would make two words
// one), and by name only once a second post has them: a period of words
// seen once each (the worst case) costs no strings.
func (f *finder) id(t *textnorm.Tokens, i int, intern bool) int32 {
	tk := &t.Toks[i]
	h := tk.Hash
	if tk.Kind == textnorm.KindHashtag {
		h ^= hashtagSalt
	}
	if x, ok := f.words[h]; ok {
		if intern && f.wordDF[x] == 1 && f.wordLast[x] != int32(len(f.posts)+1) {
			if _, named := f.names[x]; !named {
				f.names[x] = f.name(t, i)
			}
		}
		return x
	}
	if !intern {
		return -1
	}
	w := t.Word(i)
	x := int32(len(f.wordDF))
	f.words[h] = x
	f.wordDF = append(f.wordDF, 0)
	f.wordLast = append(f.wordLast, 0)
	hashtag := tk.Kind == textnorm.KindHashtag
	stop := !hashtag && f.stop[string(w)]
	// Digits alone, or symbols alone (emoji, flags: each a word of its own
	// to the tokenizer), are no phrase.
	digits := strings.IndexFunc(string(w), func(r rune) bool {
		return !unicode.IsDigit(r) && !unicode.Is(unicode.So, r) && !unicode.Is(unicode.Sk, r) && !(0x1F1E6 <= r && r <= 0x1F1FF)
	}) < 0
	f.edge = append(f.edge, !stop && !digits)
	f.single = append(f.single, !stop && !digits && (hashtag || utf8.RuneCount(w) >= 2))
	return x
}

// name is token i's word as phrases' keys write it.
func (f *finder) name(t *textnorm.Tokens, i int) string {
	if t.Toks[i].Kind == textnorm.KindHashtag {
		return "#" + string(t.Word(i))
	}
	return string(t.Word(i))
}

// keywordAt returns how many words of a keyword start at token i, or 0.
func keywordAt(t *textnorm.Tokens, i int, kws [][]string) int {
	for _, kw := range kws {
		if i+len(kw) > len(t.Toks) {
			continue
		}
		ok := true
		for j, w := range kw {
			if string(t.Word(i+j)) != w {
				ok = false
				break
			}
		}
		if ok {
			return len(kw)
		}
	}
	return 0
}

func isLink(text string, i int) bool {
	s := text[i:]
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "www.") ||
		strings.HasPrefix(s, "HTTP://") || strings.HasPrefix(s, "HTTPS://")
}

func nextSpace(text string, i int) int {
	j := strings.IndexFunc(text[i:], unicode.IsSpace)
	if j < 0 {
		return len(text)
	}
	return i + j
}

// gapBreaks reports whether the text between two words ends a phrase:
// sentence or clause punctuation, a line break, a dash.
func gapBreaks(gap string) bool {
	for _, r := range gap {
		switch r {
		case '.', ',', '!', '?', ';', ':', '(', ')', '[', ']', '{', '}', '"', '\n', '\r', '|', '/',
			'“', '”', '«', '»', '…', '—', '–', '¿', '¡', '·', '\u037e', '。', '、', '！', '？', '，':
			return true
		}
		if unicode.Is(unicode.So, r) { // an emoji between two words
			return true
		}
	}
	return false
}

// grams calls fn with each phrase of a post's words: runs of 1 to 3 words
// without a break or an unknown word inside, whose ends may end phrases
// (a single word: may be a phrase itself), and whose words are each in
// at least minPosts posts of the period (no rarer phrase can be).
func (f *finder) grams(ids []int32, brk []bool, fn func(g gram, i, n int)) {
	for i := range ids {
		if ids[i] < 0 || !f.edge[ids[i]] || f.wordDF[ids[i]] < int32(f.minPosts) {
			continue
		}
		g := gram{ids[i], -1, -1}
		if f.single[ids[i]] {
			fn(g, i, 1)
		}
		for n := 2; n <= 3 && i+n <= len(ids); n++ {
			j := i + n - 1
			if brk[j] || ids[j] < 0 || f.wordDF[ids[j]] < int32(f.minPosts) {
				break
			}
			g[n-1] = ids[j]
			if f.edge[ids[j]] {
				fn(g, i, n)
			}
		}
	}
}

// addPeriod reads a post of the period.
func (f *finder) addPeriod(p Post) {
	ids, brk, starts, ends := f.split(p, true)
	n := int32(len(f.posts) + 1)
	for _, id := range ids {
		if id >= 0 && f.wordLast[id] != n {
			f.wordLast[id] = n
			f.wordDF[id]++
		}
	}
	f.posts = append(f.posts, fpost{p: p, ids: ids, brk: brk, starts: starts, ends: ends})
}

// countPeriod counts the period's phrases and keeps as candidates those in
// at least minPosts posts.
func (f *finder) countPeriod() {
	f.minPosts = max(f.o.MinPosts, int(math.Ceil(0.002*float64(len(f.posts)))))
	counts := map[gram]int32{}
	floor := int32(0)
	seen := map[gram]struct{}{}
	for _, fp := range f.posts {
		clear(seen)
		f.grams(fp.ids, fp.brk, func(g gram, _, _ int) {
			if _, dup := seen[g]; dup {
				return
			}
			seen[g] = struct{}{}
			counts[g]++
		})
		if len(counts) >= f.o.MaxGrams {
			// Lossy counting: forget the rarest phrases, so memory stays
			// bounded; a phrase forgotten is undercounted by at most floor.
			floor++
			for g, c := range counts {
				if c <= floor {
					delete(counts, g)
				}
			}
		}
	}
	names := f.names
	for g, c := range counts {
		if c < int32(f.minPosts) {
			continue
		}
		var parts []string
		for _, id := range g {
			if id >= 0 {
				parts = append(parts, names[id])
			}
		}
		f.cands = append(f.cands, cand{g: g, key: strings.Join(parts, " "), df: c})
	}
	slices.SortFunc(f.cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(b.df, a.df), strings.Compare(a.key, b.key))
	})
	// At most 100 candidates per phrase kept: enough to choose from.
	if max := 100 * f.o.MaxPhrases; len(f.cands) > max {
		f.cands = f.cands[:max]
	}
	f.index = make(map[gram]int32, len(f.cands))
	for i, c := range f.cands {
		f.index[c.g] = int32(i)
	}
	// Each phrase is shown as it is most often written (of its first 8
	// spellings).
	surfaces := map[int32]map[string]int{}
	for pi := range f.posts {
		fp := &f.posts[pi]
		clear(f.seen)
		f.grams(fp.ids, fp.brk, func(g gram, i, n int) {
			c, ok := f.index[g]
			if !ok {
				return
			}
			if _, dup := f.seen[c]; dup {
				return
			}
			f.seen[c] = struct{}{}
			fp.cands = append(fp.cands, c)
			forms := surfaces[c]
			if forms == nil {
				forms = map[string]int{}
				surfaces[c] = forms
			}
			start := fp.starts[i]
			if start > 0 && fp.p.Text[start-1] == '#' {
				start-- // a hashtag is shown as one
			}
			form := strings.ToLower(fp.p.Text[start:fp.ends[i+n-1]])
			if _, ok := forms[form]; ok || len(forms) < 8 {
				forms[form]++
			}
		})
		fp.ids, fp.brk, fp.starts, fp.ends = nil, nil, nil, nil // only the phrases are needed from here
	}
	for c, forms := range surfaces {
		best, n := "", 0
		for form, k := range forms {
			if k > n || k == n && form < best {
				best, n = form, k
			}
		}
		f.cands[c].surface = best
	}
}

// addBackground reads a post of the background; prev: of the period just
// before, whose themes make the trend.
func (f *finder) addBackground(p Post, prev bool) {
	ids, brk, _, _ := f.split(p, false)
	clear(f.seen)
	var list []int32
	f.grams(ids, brk, func(g gram, _, _ int) {
		c, ok := f.index[g]
		if !ok {
			return
		}
		if _, dup := f.seen[c]; dup {
			return
		}
		f.seen[c] = struct{}{}
		f.cands[c].bg++
		if prev {
			list = append(list, c)
		}
	})
	f.bgN++
	if prev {
		f.prevN++
		f.prev = append(f.prev, list)
	}
}

// maxKeywords bounds the keywords of a post left out of its phrases.
const maxKeywords = 64

// maxPerPost bounds the phrases of one post that count for co-occurrence.
const maxPerPost = 64

func (f *finder) result(limit int) *Result {
	res := &Result{Themes: []Theme{}, Posts: f.total, Read: len(f.posts)}
	if len(f.posts) == 0 {
		return res
	}
	n := float64(len(f.posts) + f.bgN)
	for i := range f.cands {
		c := &f.cands[i]
		c.weight = math.Log((n + 1) / float64(c.df+c.bg+1))
		c.score = float64(c.df) * c.weight
	}
	// The phrases kept: the best scored.
	order := make([]int32, len(f.cands))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(f.cands[b].score, f.cands[a].score) })
	m := min(len(order), f.o.MaxPhrases)
	sel := order[:m]
	pos := make([]int32, len(f.cands)) // a candidate's place among the kept, or -1
	for i := range pos {
		pos[i] = -1
	}
	for i, c := range sel {
		pos[c] = int32(i)
	}
	// Each post's kept phrases, best first, at most maxPerPost.
	present := func(cs []int32) []int32 {
		var out []int32
		for _, c := range cs {
			if p := pos[c]; p >= 0 {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		if len(out) > maxPerPost {
			out = out[:maxPerPost]
		}
		return out
	}
	// Each kept phrase's posts, and each group's (the union of its
	// phrases'), as bitsets: m × posts/8 bytes each.
	words := (len(f.posts) + 63) / 64
	have := make([][]int32, len(f.posts))
	sets := make([][]uint64, m)
	for a := range sets {
		sets[a] = make([]uint64, words)
	}
	df := make([]int, m)
	for pi := range f.posts {
		have[pi] = present(f.posts[pi].cands)
		for _, a := range have[pi] {
			sets[a][pi/64] |= 1 << (pi % 64)
			df[a]++
		}
	}
	and := func(x, y []uint64) (n int) {
		for i := range x {
			n += bits.OnesCount64(x[i] & y[i])
		}
		return n
	}
	// Greedy grouping, the most shared phrases first (so that a story's
	// common phrases start its group and its variants join it): a phrase
	// joins the group that holds the largest share of its posts, when that
	// is at least Cohesion (ties to the group nearest its size: the better
	// Jaccard index).
	byDF := make([]int32, m)
	for a := range byDF {
		byDF[a] = int32(a)
	}
	// A seed is a phrase of words or a hashtag: a single word ("phone",
	// "support") runs across stories, so it may join a group, never start one.
	seed := func(a int32) bool {
		c := f.cands[sel[a]]
		return c.g[1] >= 0 || strings.HasPrefix(c.key, "#")
	}
	slices.SortStableFunc(byDF, func(a, b int32) int {
		if sa, sb := seed(a), seed(b); sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return cmp.Compare(df[b], df[a])
	})
	var groups [][]int32
	var gsets [][]uint64
	var gdf []int
	group := make([]int32, m)
	for _, a := range byDF {
		best, bestC, bestJ := -1, 0.0, 0.0
		for gi := range groups {
			both := and(sets[a], gsets[gi])
			c := float64(both) / float64(df[a])
			j := float64(both) / float64(df[a]+gdf[gi]-both)
			if c > bestC || c == bestC && j > bestJ {
				best, bestC, bestJ = gi, c, j
			}
		}
		if best >= 0 && bestC >= f.o.Cohesion {
			groups[best] = append(groups[best], a)
			group[a] = int32(best)
			for i, w := range sets[a] {
				gsets[best][i] |= w
			}
			gdf[best] = and(gsets[best], gsets[best])
			continue
		}
		if !seed(a) {
			group[a] = -1
			continue
		}
		group[a] = int32(len(groups))
		groups = append(groups, []int32{a})
		gsets = append(gsets, slices.Clone(sets[a]))
		gdf = append(gdf, df[a])
	}
	keep := make([]bool, len(groups))
	for gi := range groups {
		keep[gi] = true
	}
	weight := func(a int32) float64 { return f.cands[sel[a]].weight }
	scores := make([]float64, len(groups))
	hit, seeded := make([]bool, len(groups)), make([]bool, len(groups))
	isSeed := make([]bool, m)
	for a := range isSeed {
		isSeed[a] = seed(int32(a))
	}
	// A post goes to the group whose phrases it has with the most weight,
	// among the groups of which it has a phrase of words (a single word
	// of a group is no evidence by itself).
	assign := func(ps []int32) int {
		var touched []int32
		for _, a := range ps {
			g := group[a]
			if g < 0 {
				continue
			}
			if !hit[g] {
				hit[g] = true
				touched = append(touched, g)
			}
			scores[g] += weight(a)
			seeded[g] = seeded[g] || isSeed[a]
		}
		best := -1
		for _, g := range touched {
			if seeded[g] && (best < 0 || scores[g] > scores[best] || scores[g] == scores[best] && int(g) < best) {
				best = int(g)
			}
		}
		for _, g := range touched {
			scores[g], hit[g], seeded[g] = 0, false, false
		}
		return best
	}
	members := make([][]int, len(groups))
	for pi := range f.posts {
		if g := assign(have[pi]); g >= 0 {
			members[g] = append(members[g], pi)
		}
	}
	prevCount := make([]int64, len(groups))
	for _, cs := range f.prev {
		if g := assign(present(cs)); g >= 0 {
			prevCount[g]++
		}
	}
	scale := 1.0
	sampled := f.total > int64(len(f.posts))
	if sampled {
		scale = float64(f.total) / float64(len(f.posts))
	}
	prevScale := 1.0
	if f.prevN > 0 && f.prevTotal > int64(f.prevN) {
		prevScale = float64(f.prevTotal) / float64(f.prevN)
	}
	est := func(n int, s float64) int64 { return int64(math.Round(float64(n) * s)) }
	themed := 0
	type built struct {
		t Theme
		n int
	}
	var out []built
	for gi, g := range groups {
		if !keep[gi] || len(members[gi]) < f.minPosts {
			continue
		}
		themed += len(members[gi])
		t := Theme{Posts: est(len(members[gi]), scale), Previous: est(int(prevCount[gi]), prevScale), Sampled: sampled}
		if t.Previous > 0 {
			gr := float64(t.Posts-t.Previous) / float64(t.Previous)
			t.Growth = &gr
		}
		if f.total > 0 {
			t.Share = float64(t.Posts) / float64(f.total)
		}
		var s [4]int
		for _, pi := range members[gi] {
			switch f.posts[pi].p.Sentiment {
			case "positive":
				s[0]++
			case "neutral":
				s[1]++
			case "negative":
				s[2]++
			default:
				s[3]++
			}
		}
		t.Sentiment = Sentiment{est(s[0], scale), est(s[1], scale), est(s[2], scale), est(s[3], scale)}
		t.Phrases, t.Label = f.label(g, sel, members[gi], have)
		t.Representative = f.typical(g, sel, members[gi], have, weight)
		if f.o.Members {
			for _, pi := range members[gi] {
				t.Members = append(t.Members, f.posts[pi].p.Key)
			}
		}
		out = append(out, built{t, len(members[gi])})
	}
	slices.SortStableFunc(out, func(a, b built) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.t.Label, b.t.Label)) })
	for i := 0; i < len(out) && i < limit; i++ {
		res.Themes = append(res.Themes, out[i].t)
	}
	res.Themed = float64(themed) / float64(len(f.posts))
	if f.o.Members {
		for _, fp := range f.posts {
			res.ReadKeys = append(res.ReadKeys, fp.p.Key)
		}
	}
	return res
}

// label returns a group's phrases as written, best first (at most 10),
// and its label: the best three that do not repeat one another.
func (f *finder) label(g []int32, sel []int32, members []int, have [][]int32) ([]string, string) {
	// The phrases the most of the theme's posts have come first.
	in := map[int32]int{}
	for _, a := range g {
		in[a] = 0
	}
	for _, pi := range members {
		for _, a := range have[pi] {
			if _, ok := in[a]; ok {
				in[a]++
			}
		}
	}
	g = slices.Clone(g)
	slices.SortStableFunc(g, func(a, b int32) int {
		return cmp.Or(cmp.Compare(in[b], in[a]), cmp.Compare(f.cands[sel[b]].score, f.cands[sel[a]].score), cmp.Compare(a, b))
	})
	type labelled struct {
		*cand
		at int32
	}
	var phrases []string
	var chosen []*labelled
	for _, a := range g {
		c := &f.cands[sel[a]]
		if len(phrases) < 10 {
			phrases = append(phrases, c.surface)
		}
		contained, replaced := false, false
		for i, k := range chosen {
			switch {
			case k == nil:
			case containsWords(k.key, c.key):
				contained = true
			case containsWords(c.key, k.key) && float64(in[a]) >= 0.8*float64(in[k.at]):
				// The longer phrase, in nearly as many posts, says more.
				if replaced {
					chosen[i] = nil
				} else {
					chosen[i], replaced = &labelled{c, a}, true
				}
			case containsWords(c.key, k.key):
				contained = true
			}
		}
		chosen = slices.DeleteFunc(chosen, func(k *labelled) bool { return k == nil })
		if !contained && !replaced {
			// A phrase whose words the label has already says nothing new.
			var said []string
			for _, k := range chosen {
				said = append(said, strings.Fields(k.key)...)
			}
			contained = !slices.ContainsFunc(strings.Fields(c.key), func(w string) bool { return !slices.Contains(said, w) })
		}
		if !contained && !replaced && len(chosen) < 3 {
			chosen = append(chosen, &labelled{c, a})
		}
	}
	var label []string
	for _, k := range chosen {
		label = append(label, k.surface)
	}
	return phrases, strings.Join(label, " · ")
}

// containsWords reports whether phrase a has the words of b in a row.
func containsWords(a, b string) bool {
	return strings.Contains(" "+a+" ", " "+b+" ")
}

// typical returns up to three of a theme's posts closest to its phrase
// profile (cosine), one per distinct text; ties go to a hash of the key,
// so that the choice does not depend on the order posts were read in.
func (f *finder) typical(g []int32, sel []int32, members []int, have [][]int32, weight func(int32) float64) []Example {
	in := map[int32]bool{}
	for _, a := range g {
		in[a] = true
	}
	centroid := map[int32]float64{}
	for _, pi := range members {
		for _, a := range have[pi] {
			if in[a] {
				centroid[a] += weight(a)
			}
		}
	}
	norm := 0.0
	for _, v := range centroid {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	type scored struct {
		pi   int
		cos  float64
		hash uint64
	}
	ss := make([]scored, 0, len(members))
	for _, pi := range members {
		dot, self := 0.0, 0.0
		for _, a := range have[pi] {
			if in[a] {
				w := weight(a)
				dot += w * centroid[a]
				self += w * w
			}
		}
		cos := 0.0
		if self > 0 && norm > 0 {
			cos = dot / (math.Sqrt(self) * norm)
		}
		ss = append(ss, scored{pi, cos, keyHash(f.posts[pi].p.Key)})
	}
	slices.SortFunc(ss, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.cos, a.cos), cmp.Compare(a.hash, b.hash), strings.Compare(f.posts[a.pi].p.Key, f.posts[b.pi].p.Key))
	})
	var ex []Example
	texts := map[string]bool{}
	for _, s := range ss {
		p := f.posts[s.pi].p
		k := strings.Join(textnorm.Words(p.Text), " ")
		if texts[k] {
			continue
		}
		texts[k] = true
		ex = append(ex, Example{Key: p.Key, Text: p.Text, Sentiment: p.Sentiment, CreatedAt: p.CreatedAt.UTC()})
		if len(ex) == 3 {
			break
		}
	}
	return ex
}
