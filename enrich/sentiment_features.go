package enrich

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
)

// The learned models' features. Everything is hashed (FNV-1a over the
// lower-cased, accent-folded runes, then mixed with a namespace), so the
// extractor needs no vocabulary and allocates nothing: it writes into a
// caller's buffer. Changing anything here changes what the embedded
// weights mean: bump featureVersion and retrain (make models).
const featureVersion = "senti-features-1"

// maxFeatureText bounds the text a model reads: posts are short, and a
// 1 MB post must not cost more than a long one.
const maxFeatureText = 4096

// maxFeats bounds the features of one post (the scratch buffer's size).
const maxFeats = 1024

// feature namespaces
const (
	nsBias uint32 = iota + 1
	nsLang
	nsUni
	nsUniNeg
	nsBi
	nsPrefix
	nsAfterBut
	nsLexScore
	nsLexScoreLang
	nsLexBin
	nsLexBinLang
	nsShape
	nsChar
	nsAfinn
	nsAfinnLang
	nsAfinnBin
)

func mix(h, ns uint32) uint32 {
	h ^= ns * 0x9e3779b9
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

const (
	fnvOffset uint32 = 2166136261
	fnvPrime  uint32 = 16777619
)

func hashRune(h uint32, r rune) uint32 {
	h ^= uint32(r)
	return h * fnvPrime
}

func hashString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

// normRune lower-cases and folds accents; digits all become '0'.
func normRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 32
		}
		if '0' <= r && r <= '9' {
			return '0'
		}
		return r
	}
	r = unicode.ToLower(r)
	if f, ok := foldRune(r); ok {
		r = f
	}
	if unicode.IsDigit(r) {
		return '0'
	}
	return r
}

// featureWordHash is the hash a word gets in the feature space (for word lists).
func featureWordHash(w string) uint32 {
	h := fnvOffset
	for _, r := range w {
		h = hashRune(h, normRune(r))
	}
	return h
}

func hashSet(words string) map[uint32]bool {
	m := map[uint32]bool{}
	for w := range strings.FieldsSeq(words) {
		m[featureWordHash(w)] = true
	}
	return m
}

// Negators and contrast words of the languages with training data or a
// lexicon; a word in a negator's scope (up to three words, not across a
// clause end) is a different feature from the same word outside it.
var (
	featNegators = hashSet(`not no never nothing nobody none nor cannot cant dont doesnt didnt isnt wasnt arent werent wont wouldnt couldnt shouldnt aint havent hasnt hadnt without neither
		δεν μην μη ούτε ποτέ χωρίς τίποτα κανένας καμία κανένα όχι
		no nunca jamás ni nada nadie ningún ninguna ninguno tampoco sin
		pas jamais rien aucun aucune sans ni
		nicht kein keine keinen keinem keiner nie niemals nichts ohne weder
		não nao nunca jamais nem nada nenhum nenhuma sem ninguém
		non mai nessuno nessuna niente nulla senza né
		nahi nahin nhi na mat
		لا لم لن ليس ما
		не ни нет никогда без нема нисам није нису nie nigdy bez ne nikad nikoli nem soha nincs inte aldrig ingen nuk kurrë`)
	featContrast = hashSet(`but however though although yet
		αλλά όμως ωστόσο pero sino aunque mais pourtant cependant aber sondern jedoch doch mas porém contudo ma però tuttavia
		lekin magar لكن но ale však ampak de men por`)
)

// sentiLangGroup maps a detected language to the model's: the Serbo-Croatian
// standards share one, and romanised Hindi is "hi".
func sentiLangGroup(lang string) string {
	switch lang {
	case "bs", "hr", "sr", "sh", "hbs", "cnr":
		return "sh"
	case "hi-Latn", "hi":
		return "hi"
	}
	return lang
}

// featCfg is what a trained model records about how its features were made.
type featCfg struct {
	charGrams bool // character 3-grams of words
}

// sentiFeatures appends the features of text in language lang (already
// grouped), with lex the lexicon model's result for it, to out (whose
// capacity bounds them). afinn, when not nil, adds the translated AFINN
// list's judgement of the post's words in its language.
func sentiFeatures(text, lang string, lex sentimentResult, cfg featCfg, afinn afinnTable, b *featBuf) {
	text = capText(text)
	add := b.add
	langH := hashString(fnvOffset, lang)
	if !afinn.has(langH) {
		afinn.words = nil // no list in this language: no lookups
	}
	add(mix(0, nsBias), 1)
	add(mix(langH, nsLang), 1)
	// the lexicon's judgement, alone and per language
	sc := float32(lex.score)
	add(mix(0, nsLexScore), sc)
	add(mix(langH, nsLexScoreLang), sc)
	bin := uint32((lex.score + 1) * 4) // 0..8
	add(mix(bin, nsLexBin), 1)
	add(mix(bin^langH*31, nsLexBinLang), 1)

	var (
		prev       uint32 // previous word's hash, 0 at a clause start
		negScope   int    // words left in a negator's scope
		afterBut   bool
		excl, ques int
		caps, elon int
		hashtags   int
		mentions   int
		urls       int
		afSum      float32 // AFINN valences of the words found (negated in a negator's scope)
		afHits     int
	)
	shape := func(name string, n int) {
		if n > 0 {
			add(mix(hashString(fnvOffset, name)+uint32(min(n, 3)), nsShape), 1)
		}
	}
	for i := 0; i < len(text); {
		// one whitespace-separated field
		for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
			i++
		}
		j := i
		for j < len(text) && !(text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r') {
			j++
		}
		field := text[i:j]
		i = j
		if field == "" {
			continue
		}
		switch {
		case strings.HasPrefix(field, "http://") || strings.HasPrefix(field, "https://") || strings.HasPrefix(field, "www."):
			urls++
			continue
		case len(field) > 1 && field[0] == '@':
			mentions++
			continue
		case len(field) > 1 && field[0] == '#':
			hashtags++
			field = field[1:]
		}
		// words, emoji and punctuation inside the field
		k := 0
		for k < len(field) {
			r, size := utf8.DecodeRuneInString(field[k:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’' && k > 0 {
				// a word: letters, digits, marks and inner apostrophes
				h := fnvOffset
				n, upper := 0, 0
				var last rune
				run := 0
				start := k
				for k < len(field) {
					r, size = utf8.DecodeRuneInString(field[k:])
					if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’') {
						break
					}
					k += size
					if r == '\'' || r == '’' {
						continue // "don't" = "dont"
					}
					if unicode.IsUpper(r) {
						upper++
					}
					nr := normRune(r)
					if nr == last {
						run++
						if run >= 2 {
							elon++
							continue // "sooooo" = "soo"
						}
					} else {
						run = 0
					}
					last = nr
					h = hashRune(h, nr)
					n++
				}
				if n == 0 {
					continue
				}
				if upper >= 3 && upper == n {
					caps++
				}
				if afinn.words != nil {
					if v, ok := afinn.lookup(uint64(langH)<<32 | uint64(h)); ok {
						if negScope > 0 {
							v = -v
						}
						afSum += v
						afHits++
					}
				}
				wordFeatures(field[start:k], h, n, &prev, &negScope, &afterBut, cfg, b)
				continue
			}
			k += size
			switch {
			case r == '!':
				excl++
				prev, negScope = 0, 0
			case r == '?':
				ques++
				prev, negScope = 0, 0
			case r == '.' || r == ',' || r == ';' || r == ':':
				prev, negScope = 0, 0
			case r >= 0x2000 && !(r >= 0xFE00 && r <= 0xFE0F || r == 0x200D || r >= 0x1F3FB && r <= 0x1F3FF):
				// an emoji or symbol: a token of its own
				h := hashRune(fnvOffset^0x5bd1e995, r)
				add(mix(h, nsUni), 1)
				b.words++
			}
		}
		// emoticons are whole fields
		switch field {
		case ":)", ":-)", ":D", ":-D", ";)", ";-)", "=)", ":))", ":P", ":p", "<3", "xD", "XD":
			add(mix(hashString(fnvOffset, ":)"), nsShape), 1)
		case ":(", ":-(", ":'(", ":((", "=(", ":/", ":-/", "</3":
			add(mix(hashString(fnvOffset, ":("), nsShape), 1)
		}
	}
	shape("!", excl)
	shape("?", ques)
	shape("caps", caps)
	shape("elong", elon)
	shape("#", hashtags)
	shape("@", mentions)
	shape("url", urls)
	if lex.sarcastic {
		shape("sarcasm", 1)
	}
	if afHits > 0 {
		// normalised as VADER's compound (valences here are -5..5)
		sc := afSum / float32(math.Sqrt(float64(afSum*afSum)+15))
		add(mix(0, nsAfinn), sc)
		add(mix(langH, nsAfinnLang), sc)
		add(mix(uint32((sc+1)*4)^langH*31, nsAfinnBin), 1)
	}
}

// afinnTable maps (language group, word) hashes, as sentiFeatures makes
// them, to the word's AFINN valence in that language; langs are the hashes
// of the language groups it has words for.
type afinnTable struct {
	words map[uint64]float32
	langs []uint32
	// bloom is a 2^19-bit Bloom filter of the words' keys (64 KB, two
	// probes): most words of a post are in no list, and the filter, small
	// enough to stay in cache, answers them without reading the map
	// (measured: the map alone cost ~2 µs a non-English tweet)
	bloom []uint64
}

const afinnBloomBits = 19

// afinnProbes are the two bit positions of key in the Bloom filter.
func afinnProbes(key uint64) (uint32, uint32) {
	key ^= key >> 33
	key *= 0xff51afd7ed558ccd
	key ^= key >> 33
	const mask = 1<<afinnBloomBits - 1
	return uint32(key) & mask, uint32(key>>32) & mask
}

// lookup is the valence of a (language, word) key, if listed.
func (t afinnTable) lookup(key uint64) (float32, bool) {
	a, b := afinnProbes(key)
	if t.bloom[a>>6]&(1<<(a&63)) == 0 || t.bloom[b>>6]&(1<<(b&63)) == 0 {
		return 0, false
	}
	v, ok := t.words[key]
	return v, ok
}

func (t afinnTable) has(langH uint32) bool {
	return t.words != nil && slices.Contains(t.langs, langH)
}

// parseAfinn reads "lang TAB word TAB valence" lines (afinn_translated.tsv);
// a word listed twice in a language group gets the mean of its valences.
func parseAfinn(text string) (afinnTable, error) {
	none := afinnTable{}
	sum := map[uint64]float32{}
	n := map[uint64]float32{}
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		p := strings.Split(line, "\t")
		if len(p) != 3 {
			return none, fmt.Errorf("afinn line %d: want lang TAB word TAB valence", i+1)
		}
		v, err := strconv.Atoi(p[2])
		if err != nil || v < -5 || v > 5 {
			return none, fmt.Errorf("afinn line %d: valence %q: want -5..5", i+1, p[2])
		}
		h, ok := lexiconWordHash(p[1])
		if !ok {
			continue
		}
		k := uint64(hashString(fnvOffset, sentiLangGroup(p[0])))<<32 | uint64(h)
		sum[k] += float32(v)
		n[k]++
	}
	t := afinnTable{words: make(map[uint64]float32, len(sum)), bloom: make([]uint64, 1<<afinnBloomBits/64)}
	for k, s := range sum {
		t.words[k] = s / n[k]
		a, b := afinnProbes(k)
		t.bloom[a>>6] |= 1 << (a & 63)
		t.bloom[b>>6] |= 1 << (b & 63)
		if l := uint32(k >> 32); !slices.Contains(t.langs, l) {
			t.langs = append(t.langs, l)
		}
	}
	slices.Sort(t.langs)
	return t, nil
}

// lexiconWordHash is the hash sentiFeatures gives a word written as w (one
// word: letters, digits, marks and apostrophes); false for anything else.
func lexiconWordHash(w string) (uint32, bool) {
	h := fnvOffset
	var last rune
	run, n := 0, 0
	for _, r := range w {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’') {
			return 0, false
		}
		if r == '\'' || r == '’' {
			continue
		}
		nr := normRune(r)
		if nr == last {
			if run++; run >= 2 {
				continue
			}
		} else {
			run = 0
		}
		last = nr
		h = hashRune(h, nr)
		n++
	}
	return h, n > 0
}

// capText cuts text to maxFeatureText bytes, at a rune boundary.
func capText(text string) string {
	if len(text) <= maxFeatureText {
		return text
	}
	cut := maxFeatureText
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}

// featBuf collects a post's features; its capacity bounds them.
type featBuf struct {
	f     []linmodel.Feat
	words int // words and emoji seen
}

func (b *featBuf) add(i uint32, v float32) {
	if len(b.f) < cap(b.f) {
		b.f = append(b.f, linmodel.Feat{I: i, V: v})
	}
}

// wordFeatures adds one word's features: the word (marked when a negator
// governs it), the bigram with the word before, a prefix for inflected
// forms, the word after a contrast ("but"), and optionally its character
// 3-grams.
func wordFeatures(word string, h uint32, n int, prev *uint32, negScope *int, afterBut *bool, cfg featCfg, b *featBuf) {
	add := b.add
	b.words++
	if *negScope > 0 {
		add(mix(h, nsUniNeg), 1)
		*negScope--
	} else {
		add(mix(h, nsUni), 1)
	}
	if *prev != 0 {
		add(mix(*prev*fnvPrime^h, nsBi), 1)
	}
	if *afterBut {
		add(mix(h, nsAfterBut), 1)
	}
	if n > 5 {
		ph, c := fnvOffset, 0
		for _, r := range word {
			if r == '\'' || r == '’' {
				continue
			}
			ph = hashRune(ph, normRune(r))
			if c++; c == 5 {
				break
			}
		}
		add(mix(ph, nsPrefix), 1)
	}
	if cfg.charGrams && n >= 4 {
		var a, b rune = '^', 0
		first := true
		for _, r := range word {
			r = normRune(r)
			if first {
				b, first = r, false
				continue
			}
			add(mix(hashRune(hashRune(hashRune(fnvOffset, a), b), r), nsChar), 0.5)
			a, b = b, r
		}
		add(mix(hashRune(hashRune(hashRune(fnvOffset, a), b), '$'), nsChar), 0.5)
	}
	switch {
	case featNegators[h]:
		*negScope = 3
	case featContrast[h]:
		*afterBut = true
	}
	*prev = h
}
