package enrich

import (
	_ "embed"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/earshot-dev/earshot/enrich/internal/lid"
)

// langModelGz is the language identifier: a linear model over hashed
// character 1–4-grams and words, trained on tweets and Tatoeba sentences by
// `go run ./enrich/train/langid` (see docs/enrichment.md, "Language
// identification", and lexicon/LANGID_LICENSE.txt).
//
//go:embed lexicon/langid_model.bin.gz
var langModelGz []byte

const (
	maxLangs = 256
	// langSampleBytes is how much of a post the detector reads: its
	// first 2 KiB, cut back to a whole character. Longer than any tweet,
	// Bluesky or Mastodon post, and the model reads at most
	// lid.MaxFeatures features anyway (about the first 20 words); the cut
	// keeps a long post as cheap as a tweet.
	langSampleBytes = 2048
	// declaredBonus is added to the logit of the platform's declared
	// language (calibrated logits): it tips short or ambiguous texts, but a
	// long clear text outweighs it many times over.
	declaredBonus = 1.5
	// bcmsShare is the share of the Bosnian+Croatian+Serbian probability
	// the top one of them needs to be named; below it the post is "sh"
	// (the BCMS group) unless the declared language is one of the three.
	bcmsShare = 0.8
	// LangBCMS is the group code returned for Latin-script Bosnian,
	// Croatian or Serbian text that cannot be told apart (ISO 639-1 "sh",
	// Serbo-Croatian).
	LangBCMS = "sh"
)

// streamPriors are added to the trained priors at load, in calibrated
// logits: the training mix is not a stream's. UMSAB's romanised Hindi is
// an eighth of its rows and a third of it plain English, so the hi-Latn
// class learnt much English; in a real stream a short English post is far
// likelier than romanised Hindi. Chosen on Dev (earshot eval language
// --split dev): see docs/enrichment.md.
var streamPriors = map[string]float32{"hi-Latn": -1.5}

// langModel wraps the trained model with the rules around it (scripts of
// one language, the Chinese rule, the BCMS group, the declared prior). It
// is immutable after load and shared by all goroutines.
type langModel struct {
	m            *lid.Model
	langs        []string // what the detector reports, one per language
	class        []int    // the model's class → index in langs ("sr-Cyrl" → "sr")
	byName       map[string]int
	bs, hr, sr   int // in langs
	srLatin      int // the model's class of Latin-script Serbian
	zh, yue      int
	dataHash     [32]byte
	meta         string
	modelVersion uint32
}

// LangIDTestRow reports whether a row of the Tatoeba language-ID set is in
// the held-out test split (one row in five, by a hash of its text). The
// model is trained only on the other rows.
func LangIDTestRow(text string) bool {
	h := fnv.New32a()
	h.Write([]byte(text))
	return h.Sum32()%5 == 0
}

// loadLangModel decodes the embedded model.
func loadLangModel(gz []byte) (*langModel, error) {
	m, err := lid.Decode(gz)
	if err != nil {
		return nil, fmt.Errorf("loading language model: %w", err)
	}
	if len(m.Langs) > maxLangs {
		return nil, fmt.Errorf("loading language model: %d classes, at most %d", len(m.Langs), maxLangs)
	}
	lm := &langModel{m: m, byName: map[string]int{}, dataHash: m.DataHash, meta: m.Meta, modelVersion: lid.Version, srLatin: -1}
	for i, c := range m.Langs {
		m.Prior[i] += streamPriors[c]
		l, _, _ := strings.Cut(c, "-") // a second script of a language: "sr-Cyrl", "hi-Latn"
		j, ok := lm.byName[l]
		if !ok {
			j = len(lm.langs)
			lm.byName[l] = j
			lm.langs = append(lm.langs, l)
		}
		lm.class = append(lm.class, j)
		if c == "sr" {
			lm.srLatin = i
		}
	}
	idx := func(l string) int {
		if i, ok := lm.byName[l]; ok {
			return i
		}
		return -1
	}
	lm.bs, lm.hr, lm.sr, lm.zh, lm.yue = idx("bs"), idx("hr"), idx("sr"), idx("zh"), idx("yue")
	if lm.zh < 0 || lm.bs < 0 || lm.hr < 0 || lm.srLatin < 0 {
		return nil, fmt.Errorf("loading language model: no zh, bs, hr or sr")
	}
	return lm, nil
}

// langResult is a detection with the scores behind it.
type langResult struct {
	lang       string
	confidence float64
}

// detect identifies the language of text. declared is the platform's label
// (may be empty); it shifts the odds toward that language without deciding.
// The result is "und" when the text has no letters, is in a script the
// model does not know, or no language is likely enough (the confidence is
// then the best language's, not 0).
func (m *langModel) detect(text, declared string, minConf float64) langResult {
	text = langSample(text)
	tally := tallyScripts(text)
	if l, share := tally.scriptLang(); l != "" {
		if share < minConf {
			return langResult{lang: "und", confidence: share}
		}
		return langResult{lang: l, confidence: share}
	}
	letters, known, han := tally.letters, tally.known, tally.hanLetters
	if letters == 0 || known*2 <= letters {
		return langResult{lang: "und"}
	}
	var fb [lid.MaxFeatures]uint32
	feats := fb[:lid.Features(text, &fb)]
	if len(feats) == 0 {
		return langResult{lang: "und"}
	}
	var acc [maxLangs]int32
	m.m.Score(feats, &acc)
	var z [maxLangs]float64
	m.m.Logits(acc[:], len(feats), z[:])
	nc := len(m.class)
	dl, hasDeclared := m.byName[normLangTag(declared)]
	if hasDeclared {
		for c := range nc {
			if m.class[c] == dl {
				z[c] += declaredBonus
			}
		}
	}
	top := 0
	for c := range nc {
		if z[c] > z[top] {
			top = c
		}
	}
	// softmax relative to the top class, summed per language
	var pl [maxLangs]float64
	var sum float64
	for c := range nc {
		if d := z[c] - z[top]; d > -30 {
			e := math.Exp(d)
			pl[m.class[c]] += e
			sum += e
		}
	}
	best := 0
	for l := range m.langs {
		pl[l] /= sum
		if pl[l] > pl[best] {
			best = l
		}
	}
	lang, conf := m.langs[best], pl[best]
	switch {
	case han*2 > letters:
		// Chinese characters without kana or Hangul (those went to ja and
		// ko above): Chinese, Cantonese when the model prefers it. Never
		// und: the script says this much.
		pz, py := pl[m.zh], 0.0
		if m.yue >= 0 {
			py = pl[m.yue]
		}
		lang, conf = "zh", pz/(pz+py+1e-12)
		if py > pz {
			lang, conf = "yue", py/(pz+py)
		}
		return langResult{lang: lang, confidence: max(conf, 0.5)}
	case best == m.bs || best == m.hr || best == m.sr && top == m.srLatin:
		// Latin-script Bosnian, Croatian, Serbian: named only when the
		// model is sure within the group; else the declared one of them
		// as tie-breaker, else the group code. The confidence is the
		// group's: that the text is one of the three.
		psr := 0.0
		if e := z[m.srLatin] - z[top]; e > -30 {
			psr = math.Exp(e) / sum
		}
		group := pl[m.bs] + pl[m.hr] + psr
		if conf < bcmsShare*group {
			switch {
			case hasDeclared && (dl == m.bs || dl == m.hr || dl == m.sr):
				lang = m.langs[dl]
			default:
				lang = LangBCMS
			}
			conf = group
		}
	}
	if conf < minConf {
		return langResult{lang: "und", confidence: conf}
	}
	return langResult{lang: lang, confidence: conf}
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
