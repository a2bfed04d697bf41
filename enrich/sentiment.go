package enrich

import (
	"github.com/earshot-dev/earshot/textnorm"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// VADER's constants (Hutto & Gilbert 2014, vaderSentiment 3.3).
const (
	vaderBIncr   = 0.293  // booster word raises intensity
	vaderBDecr   = -0.293 // dampener lowers it
	vaderCIncr   = 0.733  // an ALL-CAPS sentiment word among lower-case ones
	vaderNScalar = -0.74  // negation flips and dampens
	vaderAlpha   = 15     // normalisation of the sum into (-1, 1)
)

// sentimentResult is a score in [-1, 1], its label and confidence.
type sentimentResult struct {
	score      float64
	label      string // negative, neutral, positive, or unknown (abstained)
	confidence float64
	probs      [3]float64    // negative, neutral, positive (learned models only)
	sarcastic  bool          // the text carries a sarcasm marker
	lexicon    float64       // the lexicon model's score (a feature of the learned ones)
	emo        emotionResult // English posts
}

// stoken is one whitespace-separated token after VADER's punctuation rule.
type stoken struct {
	raw   string // as written (for ALL CAPS)
	key   string // lower-cased (and folded, for languages that fold)
	emoji float64
	isEmo bool // an emoji or emoticon with a fixed valence
	// clauseEnd: the token ended with , . ; : ! or ?. Negation does not
	// reach across it, in any language: "nicht gut, totaler Betrug" is not
	// "not a scam", "refund never came, terrible" not "never terrible";
	// outside English, boosters do not either.
	clauseEnd bool
}

// score rates text in language lang: the learned classifier, with the
// lexicon's judgement among its features.
func (m *sentimentModels) score(text, lang string) sentimentResult {
	text = capText(text)
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	lex := m.lexScoreWith(sc, text, lang)
	if m.learned == nil {
		return lex
	}
	return m.learnedSentiment(sc, text, lang, lex)
}

// lexScore is lexScoreWith on scratch of its own (tests, training).
func (m *sentimentModels) lexScore(text, lang string) sentimentResult {
	return m.lexScoreWith(newScratch(), text, lang)
}

// lexScore rates text with the lexicon of lang; languages without a
// lexicon are rated by their emoji and emoticons only, at low confidence.
func (m *sentimentModels) lexScoreWith(sc *scratch, text, lang string) sentimentResult {
	sl := m.byLang[lang]
	lexical := sl != nil
	if sl == nil {
		sl = m.symbolsOnly
	}
	sc.arena = sc.arena[:0]
	toks := sl.tokenize(text, m, sc.toks[:0], &sc.arena)
	defer func() { sc.toks = toks[:0] }() // keep a grown buffer
	if len(toks) == 0 {
		return sentimentResult{label: "neutral", confidence: 0}
	}
	vals := sc.vals[:0]
	defer func() { sc.vals = vals[:0] }()
	capDiff := capDifferential(toks)
	hits := 0
	for i := range toks {
		v := sl.valence(toks, i, capDiff)
		if v != 0 {
			hits++
		}
		vals = append(vals, v)
	}
	sl.butCheck(toks, vals)
	var sum float64
	for _, v := range vals {
		sum += v
	}
	for w, v := range m.unspaced[lang] {
		if strings.Contains(text, w) {
			sum += v
			hits++
		}
	}
	emph := punctuationEmphasis(text)
	if sum > 0 {
		sum += emph
	} else if sum < 0 {
		sum -= emph
	}
	compound := sum / math.Sqrt(sum*sum+vaderAlpha)
	sarcastic := hasSarcasmMarker(text)
	if sarcastic && compound > 0 {
		// "Great, it broke again /s": the praise is the joke.
		compound *= -0.5
	}
	res := sentimentResult{score: compound, label: polarityLabel(compound), sarcastic: sarcastic, lexicon: compound}
	// Confidence: how far the score is from the neutral band, discounted
	// when few tokens carried sentiment and when no lexicon covers the
	// language (emoji and emoticons alone).
	coverage := math.Min(1, float64(hits)/3)
	switch res.label {
	case "neutral":
		res.confidence = 0.4 + 0.2*(1-coverage)
	default:
		res.confidence = 0.35 + 0.35*math.Abs(compound) + 0.3*coverage
	}
	if !lexical {
		res.confidence *= 0.5
	}
	if sarcastic {
		res.confidence = min(res.confidence, 0.4)
	}
	return res
}

// hasSarcasmMarker looks for the conventional markers of irony: "/s",
// #sarcasm (and its translations), #not, and the eye-roll and upside-down
// faces.
func hasSarcasmMarker(text string) bool {
	if strings.Contains(text, "🙄") || strings.Contains(text, "🙃") {
		return true
	}
	if strings.IndexByte(text, '/') < 0 && strings.IndexByte(text, '#') < 0 {
		return false // the usual case, without splitting the text
	}
	for f := range strings.FieldsSeq(text) {
		f = strings.TrimRight(f, ".!")
		for _, m := range sarcasmMarkers {
			if strings.EqualFold(f, m) { // not ToLower: no allocation
				return true
			}
		}
	}
	return false
}

var sarcasmMarkers = []string{"/s", "#sarcasm", "#sarcastic", "#sarcasmo", "#sarcasme", "#sarkasmus", "#ironie", "#ironia", "#not", "#σαρκασμός", "#ειρωνεία"}

func polarityLabel(score float64) string {
	switch {
	case score >= 0.05:
		return "positive"
	case score <= -0.05:
		return "negative"
	}
	return "neutral"
}

// punctuationEmphasis is VADER's boost for "!" (up to 4) and "??…".
func punctuationEmphasis(text string) float64 {
	ep := min(strings.Count(text, "!"), 4)
	amp := float64(ep) * 0.292
	if qm := strings.Count(text, "?"); qm > 1 {
		if qm <= 3 {
			amp += float64(qm) * 0.18
		} else {
			amp += 0.96
		}
	}
	return amp
}

// isUpper is Python's str.isupper: some cased letter and none lower-case.
func isUpper(s string) bool {
	cased := false
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			cased = true
		}
	}
	return cased
}

// capDifferential is VADER's allcap_differential: some, not all, tokens are
// ALL CAPS, so capitals signal emphasis rather than a shouty style.
func capDifferential(toks []stoken) bool {
	n := 0
	for _, t := range toks {
		if isUpper(t.raw) {
			n++
		}
	}
	return n > 0 && n < len(toks)
}

// stripPunct is VADER's _strip_punc_if_word: strip ASCII punctuation from
// both ends unless that leaves two characters or fewer (an emoticon).
func stripPunct(tok string) string {
	s := strings.TrimFunc(tok, func(r rune) bool {
		return r < utf8.RuneSelf && (unicode.IsPunct(r) || strings.ContainsRune("$+<=>^`|~", r))
	})
	if utf8.RuneCountInString(s) <= 2 {
		return tok
	}
	return s
}

// tokenize splits text into tokens: URLs and mentions dropped, hashtags
// kept as words, emoji split out as tokens of their own.
func (sl *sentiLang) tokenize(text string, m *sentimentModels, out []stoken, arena *[]byte) []stoken {
	for field := range strings.FieldsSeq(text) {
		if n := skipToken(field); n > 0 {
			if field[0] != '#' {
				continue
			}
			field = field[1:]
		}
		if v, ok := m.emoticons[field]; ok {
			out = append(out, stoken{raw: field, key: field, emoji: v, isEmo: true})
			continue
		}
		// Split out emoji; VADER puts spaces around their descriptions.
		start, afterEmoji := 0, false
		for i, r := range field {
			if r < 0x2000 {
				afterEmoji = false
				continue
			}
			if v, ok := m.emoji[r]; ok {
				out = sl.appendWords(out, field[start:i], arena)
				out = append(out, stoken{raw: field[i : i+utf8.RuneLen(r)], emoji: v, isEmo: true})
				start, afterEmoji = i+utf8.RuneLen(r), true
			} else if afterEmoji && (r >= 0xFE00 && r <= 0xFE0F || r == 0x200D || r >= 0x1F3FB && r <= 0x1F3FF) {
				// variation selectors, joiners and skin tones belong to the
				// emoji before; inside a word they are invisible (the key
				// drops them: "ac\u200dme" is "acme")
				start = i + utf8.RuneLen(r)
			} else {
				afterEmoji = false
			}
		}
		out = sl.appendWords(out, field[start:], arena)
	}
	return out
}

func (sl *sentiLang) appendWords(out []stoken, s string, arena *[]byte) []stoken {
	if s == "" {
		return out
	}
	if sl.splitApostrophe && strings.ContainsAny(s, "'’") {
		for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '\'' || r == '’' }) {
			out = sl.appendWords(out, part, arena)
		}
		return out
	}
	end := strings.ContainsAny(s[len(s)-1:], ",.;:!?")
	s = stripPunct(s)
	if s == "" {
		return out
	}
	return append(out, stoken{raw: s, key: sl.lowerFold(s, arena), clauseEnd: end})
}

// lookup returns the valence of a token in the language's lexicon: the
// word as written, else its stem.
func (sl *sentiLang) lookup(t *stoken) (float64, bool) {
	if t.isEmo {
		return t.emoji, true
	}
	if sl.stopwords[t.key] {
		return 0, false
	}
	if !sl.english && isLaughter(t.key) {
		return laughterValence, true
	}
	if v, ok := sl.lex[t.key]; ok {
		return v, true
	}
	if sl.stem != nil && len(t.key) > 4 {
		if v, ok := sl.stems[sl.stem(t.key)]; ok {
			return v, true
		}
	}
	return 0, false
}

func (sl *sentiLang) inLexicon(t *stoken) bool { _, ok := sl.lookup(t); return ok }

// valence is VADER's sentiment_valence for token i, generalised over the
// language's negators, boosters and idioms.
func (sl *sentiLang) valence(toks []stoken, i int, capDiff bool) float64 {
	t := &toks[i]
	if _, ok := sl.boosters[t.key]; ok {
		return 0
	}
	if sl.english && t.key == "kind" && i+1 < len(toks) && toks[i+1].key == "of" {
		return 0
	}
	if len(sl.phrases) > 0 {
		if i > 0 {
			if v, ok := joinKey(sl.phrases, toks[i-1].key, t.key); ok {
				return v
			}
		}
		if i+1 < len(toks) {
			if _, ok := joinKey(sl.phrases, t.key, toks[i+1].key); ok {
				return 0 // scored on the phrase's last word
			}
		}
	}
	base, ok := sl.lookup(t)
	if !ok {
		return 0
	}
	v := base
	if sl.english {
		// "no" as a negator of the next lexicon word, not a word of its own
		if t.key == "no" && i+1 < len(toks) && sl.inLexicon(&toks[i+1]) {
			v = 0
		}
		if (i > 0 && toks[i-1].key == "no") || (i > 1 && toks[i-2].key == "no") ||
			(i > 2 && toks[i-3].key == "no" && (toks[i-1].key == "or" || toks[i-1].key == "nor")) {
			v = base * vaderNScalar
		}
	}
	if capDiff && isUpper(t.raw) { // ":D" counts as capitals, as in VADER
		if v > 0 {
			v += vaderCIncr
		} else {
			v -= vaderCIncr
		}
	}
	crossed := false // a clause end lies between this word and the one k+1 back
	for k := range 3 {
		if i <= k {
			break
		}
		prev := &toks[i-k-1]
		if prev.clauseEnd {
			if !sl.english {
				break
			}
			// English keeps VADER's boosters across a comma but, a
			// departure from VADER as published, not its negation:
			// "refund never came, terrible" is not "never terrible".
			crossed = true
		}
		if sl.inLexicon(prev) {
			continue
		}
		s := sl.scalar(prev, v, capDiff)
		switch k {
		case 1:
			s *= 0.95
		case 2:
			s *= 0.9
		}
		v += s
		if !crossed {
			v = sl.negationCheck(v, toks, k, i)
		}
		if k == 2 && sl.english {
			v = sl.idiomsCheck(v, toks, i)
		}
	}
	if sl.english {
		v = sl.leastCheck(v, toks, i)
	}
	return v
}

// scalar is VADER's scalar_inc_dec.
func (sl *sentiLang) scalar(t *stoken, v float64, capDiff bool) float64 {
	s, ok := sl.boosters[t.key]
	if !ok {
		return 0
	}
	if v < 0 {
		s = -s
	}
	if capDiff && isUpper(t.raw) {
		if v > 0 {
			s += vaderCIncr
		} else {
			s -= vaderCIncr
		}
	}
	return s
}

func (sl *sentiLang) negated(key string) bool {
	if sl.negators[key] {
		return true
	}
	return sl.english && strings.Contains(key, "n't")
}

// negationCheck is VADER's _negation_check for the word k+1 places back.
func (sl *sentiLang) negationCheck(v float64, toks []stoken, k, i int) float64 {
	w := func(j int) string { return toks[j].key }
	switch k {
	case 0:
		if sl.negated(w(i - 1)) {
			v *= vaderNScalar
		}
	case 1:
		switch {
		case sl.english && w(i-2) == "never" && (w(i-1) == "so" || w(i-1) == "this"):
			v *= 1.25
		case sl.english && w(i-2) == "without" && w(i-1) == "doubt":
		case sl.negated(w(i - 2)):
			v *= vaderNScalar
		}
	case 2:
		switch {
		case sl.english && (w(i-3) == "never" && (w(i-2) == "so" || w(i-2) == "this") || (w(i-1) == "so" || w(i-1) == "this")):
			v *= 1.25
		case sl.english && w(i-3) == "without" && (w(i-2) == "doubt" || w(i-1) == "doubt"):
		case sl.negated(w(i - 3)):
			v *= vaderNScalar
		}
	}
	return v
}

// idiomsCheck is VADER's _special_idioms_check.
func (sl *sentiLang) idiomsCheck(v float64, toks []stoken, i int) float64 {
	w := func(j int) string { return toks[j].key }
	// VADER's sequences, in its order: the first idiom found wins
	for _, seq := range [...][3]int{{i - 1, i, -1}, {i - 2, i - 1, i}, {i - 2, i - 1, -1}, {i - 3, i - 2, i - 1}, {i - 3, i - 2, -1}} {
		x, ok := idiomKey(vaderSpecialCases, toks, seq)
		if ok {
			v = x
			break
		}
	}
	if len(toks)-1 > i {
		if x, ok := joinKey(vaderSpecialCases, w(i), w(i+1)); ok {
			v = x
		}
	}
	if len(toks)-1 > i+1 {
		if x, ok := joinKey(vaderSpecialCases, w(i), w(i+1), w(i+2)); ok {
			v = x
		}
	}
	for _, seq := range [...][3]int{{i - 3, i - 2, i - 1}, {i - 3, i - 2, -1}, {i - 2, i - 1, -1}} {
		if x, ok := idiomKey(sl.boosters, toks, seq); ok {
			v += x
		}
	}
	return v
}

// leastCheck is VADER's _least_check: "least good" is negative, "at least
// good" is not.
func (sl *sentiLang) leastCheck(v float64, toks []stoken, i int) float64 {
	if i > 1 && toks[i-1].key == "least" && !sl.inLexicon(&toks[i-1]) {
		if toks[i-2].key != "at" && toks[i-2].key != "very" {
			v *= vaderNScalar
		}
	} else if i > 0 && toks[i-1].key == "least" && !sl.inLexicon(&toks[i-1]) {
		v *= vaderNScalar
	}
	return v
}

// butCheck is VADER's _but_check: sentiment before the first "but" counts
// half, after it one and a half times.
func (sl *sentiLang) butCheck(toks []stoken, vals []float64) {
	bi := -1
	for j := range toks {
		if sl.but[toks[j].key] {
			bi = j
			break
		}
	}
	if bi < 0 {
		return
	}
	for j := range vals {
		switch {
		case j < bi:
			vals[j] *= 0.5
		case j > bi:
			vals[j] *= 1.5
		}
	}
}

// laughterValence is VADER's "lol" (its second entry, the one that counts).
const laughterValence = 1.8

// isLaughter recognises written laughter outside English, of any length:
// "jajaja", "jejeje", "hahaha", "ahahah", "kkkkk" (Portuguese), "rsrs",
// "mdr", "ptdr", "xd".
func isLaughter(k string) bool {
	switch k {
	case "mdr", "ptdr", "xd", "rsrs", "rsrsrs", "lol", "hihi", "hehe":
		return true
	}
	if len(k) < 4 {
		return false
	}
	if strings.Trim(k, "k") == "" {
		return true
	}
	// alternating a/e/i with h or j: "jajaja", "haha", "ahahah"
	vowels, cons := 0, 0
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case 'a', 'e', 'i':
			vowels++
		case 'h', 'j':
			cons++
		default:
			return false
		}
		if i > 0 && (k[i] == k[i-1]) && k[i] != 'a' {
			return false
		}
	}
	return vowels >= 2 && cons >= 2
}

// lowerFold is the lexicon key of s (textnorm.Key at the language's
// level) without allocating: when anything changes, the key is written to
// arena, which the caller resets between posts (the keys live only while
// one post is scored).
func (sl *sentiLang) lowerFold(s string, arena *[]byte) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	start := len(*arena)
	*arena = textnorm.Shared().AppendKey(*arena, s, sl.level)
	b := (*arena)[start:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// joinKey looks up the words joined by spaces in m, without allocating.
func joinKey(m map[string]float64, words ...string) (float64, bool) {
	var buf [96]byte
	b := buf[:0]
	for i, w := range words {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	v, ok := m[string(b)]
	return v, ok
}

// idiomKey looks up the keys of toks at seq (two or three indexes; -1 ends
// it early) joined by spaces in m.
func idiomKey(m map[string]float64, toks []stoken, seq [3]int) (float64, bool) {
	if seq[2] < 0 {
		return joinKey(m, toks[seq[0]].key, toks[seq[1]].key)
	}
	return joinKey(m, toks[seq[0]].key, toks[seq[1]].key, toks[seq[2]].key)
}
