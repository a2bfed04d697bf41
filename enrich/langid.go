package enrich

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strconv"
	"strings"
)

// langProfiles holds, per language, the log-probabilities of its most
// frequent character trigrams, built from the training split of the Tatoeba
// sentences (see lexicon/LANGID_LICENSE.txt and TestGenerateLangProfiles).
//
//go:embed lexicon/langid_profiles.txt.gz
var langProfilesGz []byte

const (
	maxLangs     = 128
	maxLangGrams = 400 // trigrams looked at per post: enough evidence, bounded cost
	// Trigrams are not independent, so the model's log-likelihoods are
	// overconfident; they are scaled by langTemper before the priors (the
	// declared language and langPriors, in the same tempered nats) are
	// added and the posterior is taken.
	langTemper    = 0.35
	declaredBonus = 3.0 // the platform's declared language: evidence, not truth
)

// langPriors lower the odds of languages that are rare in social posts
// next to a big neighbour that shares most trigrams (Galician and
// Portuguese, Low German and German): without them a short Portuguese post
// is as likely to be called Galician. In tempered nats; languages not
// listed get 0.
var langPriors = map[string]float32{
	"gl": -1.5, "nds": -1.5, "oc": -1.5, "br": -1.5, "kw": -1.5, "la": -1.5, "eo": -1.5, "ber": -1.5, "kab": -1.5,
	"mhr": -1.5, "jv": -1.5, "ceb": -1.5, "fo": -1.5, "gd": -1.5, "ga": -1, "cy": -1, "tt": -1, "ku": -1,
	"tk": -1, "yi": -1, "ug": -1, "af": -1,
}

// langModel is a naive-Bayes character-trigram language identifier. It is
// immutable after load and shared by all goroutines.
type langModel struct {
	langs    []string
	byName   map[string]int
	floor    []float32 // log-probability of a trigram outside the language's profile
	prior    []float32 // log prior: how common the language is in social posts
	index    map[uint64]uint32
	postings []langPosting
}

type langPosting struct {
	lang  uint8
	delta float32 // log p(gram|lang) - floor[lang], > 0
}

// packGram packs three runes (21 bits each) into one map key.
func packGram(a, b, c rune) uint64 { return uint64(a)<<42 | uint64(b)<<21 | uint64(c) }

// LangIDTestRow reports whether a row of the Tatoeba language-ID set is in
// the held-out test split (one row in five, by a hash of its text). The
// embedded profiles are built only from the other rows.
func LangIDTestRow(text string) bool {
	h := fnv.New32a()
	h.Write([]byte(text))
	return h.Sum32()%5 == 0
}

// loadLangModel parses the embedded profiles: one language per line,
// "lang TAB floor TAB gram=logp gram=logp …", with '_' for a word boundary.
func loadLangModel(gz []byte) (*langModel, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("reading language profiles: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("reading language profiles: %w", err)
	}
	m := &langModel{byName: map[string]int{}, prior: make([]float32, 0, maxLangs)}
	grams := map[uint64][]langPosting{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("language profiles line %d: want 3 fields, got %d", line, len(f))
		}
		floor, err := strconv.ParseFloat(f[1], 32)
		if err != nil {
			return nil, fmt.Errorf("language profiles line %d: %w", line, err)
		}
		l := len(m.langs)
		if l >= maxLangs {
			return nil, fmt.Errorf("language profiles: more than %d languages", maxLangs)
		}
		m.langs = append(m.langs, f[0])
		m.byName[f[0]] = l
		m.floor = append(m.floor, float32(floor))
		m.prior = append(m.prior, langPriors[f[0]])
		for item := range strings.FieldsSeq(f[2]) {
			g, lp, ok := strings.Cut(item, "=")
			r := []rune(strings.ReplaceAll(g, "_", " "))
			if !ok || len(r) != 3 {
				return nil, fmt.Errorf("language profiles line %d: bad item %q", line, item)
			}
			v, err := strconv.ParseFloat(lp, 32)
			if err != nil {
				return nil, fmt.Errorf("language profiles line %d: %w", line, err)
			}
			if d := float32(v) - float32(floor); d > 0 {
				k := packGram(r[0], r[1], r[2])
				grams[k] = append(grams[k], langPosting{lang: uint8(l), delta: d})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading language profiles: %w", err)
	}
	m.index = make(map[uint64]uint32, len(grams))
	for k, ps := range grams {
		m.index[k] = uint32(len(m.postings))<<8 | uint32(len(ps))
		m.postings = append(m.postings, ps...)
	}
	return m, nil
}

// langResult is a detection with the scores behind it.
type langResult struct {
	lang       string
	confidence float64
}

// detect identifies the language of text. declared is the platform's label
// (may be empty); it shifts the odds toward that language without deciding.
// The result is "und" when the text has no letters, is in a script or
// language the model does not know, or no language is likely enough.
func (m *langModel) detect(text, declared string, minConf float64) langResult {
	if l, share := scriptLang(text); l != "" {
		if share < minConf {
			return langResult{lang: "und", confidence: share}
		}
		return langResult{lang: l, confidence: share}
	}
	var scores [maxLangs]float32
	var hits [maxLangs]uint16
	var buf [64]rune
	n := 0
	letterWords(text, buf[:], func(w []rune) bool {
		a, b := ' ', ' '
		for i := 0; i <= len(w); i++ {
			c := ' '
			if i < len(w) {
				c = w[i]
			}
			if v, ok := m.index[packGram(a, b, c)]; ok {
				for _, p := range m.postings[v>>8 : v>>8+v&0xff] {
					scores[p.lang] += p.delta
					hits[p.lang]++
				}
			}
			n++
			a, b = b, c
		}
		return n < maxLangGrams
	})
	if n == 0 {
		return langResult{lang: "und"}
	}
	best := -1
	for l := range m.langs {
		scores[l] = langTemper*(scores[l]+float32(n)*m.floor[l]) + m.prior[l]
	}
	dl, hasDeclared := m.byName[normLangTag(declared)]
	if hasDeclared {
		scores[dl] += declaredBonus
	}
	for l := range m.langs {
		if best < 0 || scores[l] > scores[best] {
			best = l
		}
	}
	// A language must explain a good share of the trigrams; otherwise the
	// text is in a script or language we have no profile for.
	if int(hits[best])*3 < n {
		return langResult{lang: "und"}
	}
	var z float64
	for l := range m.langs {
		if d := float64(scores[l] - scores[best]); d > -30 { // smaller terms vanish
			z += math.Exp(d)
		}
	}
	conf := 1 / z
	if conf < minConf {
		return langResult{lang: "und", confidence: conf}
	}
	return langResult{lang: m.langs[best], confidence: conf}
}

// normLangTag reduces a BCP 47 tag ("pt-BR", "zh_Hant") to the model's
// labels ("pt", "zh"); Norwegian "no" is Bokmål.
func normLangTag(tag string) string {
	tag = strings.ToLower(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	switch tag {
	case "no", "nob":
		return "nb"
	case "iw":
		return "he"
	case "in":
		return "id"
	case "fil":
		return "tl"
	}
	return tag
}
