package enrich

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
)

// The learned models, built by `go run ./enrich/train/sentiment` (make
// models) from ../shared/data; see docs/enrichment.md for their cards.
var (
	//go:embed models/sentiment.lm.gz
	sentimentModelGz []byte
	//go:embed models/sentiment_en.lm.gz
	sentimentENModelGz []byte
	//go:embed models/emotion.lm.gz
	emotionModelGz []byte
	//go:embed models/irony.lm.gz
	ironyModelGz []byte
	//go:embed lexicon/afinn_translated.tsv.gz
	afinnGz []byte
)

// The embedded models are decoded once per process and shared by every
// Enricher: they are immutable, and decoding them takes a good part of a
// second (far more under the race detector).
var (
	embeddedSentiment   = sync.OnceValues(func() (*learned, error) { return loadLearned(sentimentModelGz) })
	embeddedSentimentEN = sync.OnceValues(func() (*learned, error) { return loadLearned(sentimentENModelGz) })
	embeddedEmotion     = sync.OnceValues(func() (*learned, error) { return loadLearned(emotionModelGz) })
	embeddedIrony       = sync.OnceValues(func() (*learned, error) { return loadLearned(ironyModelGz) })
	embeddedAfinn       = sync.OnceValues(func() (afinnTable, error) {
		text, err := gunzip(afinnGz)
		if err != nil {
			return afinnTable{}, fmt.Errorf("afinn_translated.tsv.gz: %w", err)
		}
		return parseAfinn(string(text))
	})
)

// sentiClasses is the order of the sentiment model's classes.
var sentiClasses = []string{"negative", "neutral", "positive"}

// learned is a trained classifier with the thresholds its trainer chose.
type learned struct {
	m       *linmodel.Model
	cfg     featCfg
	abstain float64 // below this top probability the answer is "unknown"
	// abstainLang are per-language thresholds (by sentiLangGroup), chosen
	// on Dev so that every language abstains on about the same share of
	// posts; a language not listed uses abstain
	abstainLang map[string]float64
	langs       map[string]bool // languages with training rows
	// afinn is the translated AFINN list, when the model reads it
	// (recorded as afinn=true)
	afinn afinnTable
}

func loadLearned(gz []byte) (*learned, error) {
	m, err := linmodel.Decode(gz)
	if err != nil {
		return nil, err
	}
	if v := m.Meta["features"]; v != featureVersion {
		return nil, fmt.Errorf("model built with features %q, this binary makes %q: retrain (make models)", v, featureVersion)
	}
	l := &learned{m: m, cfg: featCfg{charGrams: m.Meta["char_grams"] == "true"}, langs: map[string]bool{}}
	if l.abstain, l.abstainLang, err = parseAbstain(m.Meta); err != nil {
		return nil, err
	}
	for l2 := range strings.FieldsSeq(m.Meta["langs"]) {
		l.langs[l2] = true
	}
	if m.Meta["afinn"] == "true" {
		if h := m.Meta["afinn_hash"]; h != afinnHash() {
			return nil, fmt.Errorf("model trained on the AFINN list %s, the binary embeds %s: retrain (make models)", h, afinnHash())
		}
		if l.afinn, err = embeddedAfinn(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// parseAbstain reads the abstention thresholds a trainer recorded:
// "abstain" (global) and "abstain_langs" ("ar=0.412 hi=0.371").
func parseAbstain(meta map[string]string) (float64, map[string]float64, error) {
	var global float64
	if s := meta["abstain"]; s != "" {
		var err error
		if global, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, nil, fmt.Errorf("abstain threshold: %w", err)
		}
	}
	by := map[string]float64{}
	for kv := range strings.FieldsSeq(meta["abstain_langs"]) {
		k, v, ok := strings.Cut(kv, "=")
		t, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || t < 0 || t > 1 {
			return 0, nil, fmt.Errorf("abstain threshold %q: want lang=probability", kv)
		}
		by[k] = t
	}
	return global, by, nil
}

// abstainFor is the abstention threshold of a (grouped) language.
func (l *learned) abstainFor(group string) float64 {
	if t, ok := l.abstainLang[group]; ok {
		return t
	}
	return l.abstain
}

// scratch is one post's working memory, pooled so that scoring allocates
// nothing in the steady state.
type scratch struct {
	feats featBuf
	probs [8]float64
	// the lexicon model's tokens, values and lower-cased keys
	toks  []stoken
	vals  []float64
	arena []byte
}

func newScratch() *scratch {
	return &scratch{feats: featBuf{f: make([]linmodel.Feat, 0, maxFeats)}, toks: make([]stoken, 0, 128),
		vals: make([]float64, 0, 128), arena: make([]byte, 0, 2*maxFeatureText)}
}

var scratchPool = sync.Pool{New: func() any { return newScratch() }}

// predict fills s.probs[:K] for text.
func (l *learned) predict(s *scratch, text, lang string, lex sentimentResult) []float64 {
	s.feats.f, s.feats.words = s.feats.f[:0], 0
	sentiFeatures(text, lang, lex, l.cfg, l.afinn, &s.feats)
	p := s.probs[:l.m.K()]
	l.m.Predict(s.feats.f, p)
	return p
}

// learnedSentiment is the classifier's verdict, given the lexicon's.
func (m *sentimentModels) learnedSentiment(s *scratch, text, lang string, lex sentimentResult) sentimentResult {
	group := sentiLangGroup(lang)
	model := m.learned
	if group == "en" && m.learnedEN != nil {
		model = m.learnedEN
	}
	p := model.predict(s, text, group, lex)
	if s.feats.words == 0 {
		// no words, no emoji (empty, a link, mentions): nothing expressed
		lex.probs = [3]float64{0, 1, 0}
		return lex
	}
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	res := sentimentResult{label: sentiClasses[best], confidence: p[best], sarcastic: lex.sarcastic, lexicon: lex.score}
	copy(res.probs[:], p)
	// the continuous score: the lexicon's, pulled toward the classifier's
	// expected polarity
	res.score = clamp1(0.5*lex.score + 0.5*(p[2]-p[0]))
	if s.feats.words <= shortPost && lex.label != "neutral" && math.Abs(lex.score) >= 0.25 && p[best] < 0.6 {
		// Backoff: on a post of a few words ("not bad at all", "jajaja")
		// the classifier has little to go on and the lexicon's rules know
		// the idiom; its label wins, at the confidence the two share —
		// also when the two agree, and then the post is not abstained on.
		c := max(0, indexOf(sentiClasses, lex.label))
		res.label, res.confidence = lex.label, (p[c]+lex.confidence)/2
	} else if p[best] < model.abstainFor(group) {
		res.label = "unknown"
	}
	if res.label == "positive" && lex.sarcastic {
		// "Best product ever /s": few training tweets carry the marker, so
		// the rule the lexicon model had stays: the praise is the joke.
		res.label, res.score = "negative", -math.Abs(res.score)
		res.confidence = math.Min(res.confidence, 0.5)
	}
	if m.emotions != nil && lang == "en" {
		res.emo = m.emotions.judge(s.feats.f, res.label, &s.probs)
	}
	return res
}

// shortPost is the most words a post can have for the lexicon backoff.
const shortPost = 4

func clamp1(x float64) float64 { return math.Max(-1, math.Min(1, x)) }

// ModelInfo describes an embedded model: its version and the hash of the
// data it was trained on, as the trainer recorded them.
type ModelInfo struct {
	Name, Version, DataHash string
	Labels                  []string
	Langs                   []string
	Bytes                   int
}

// EmbeddedModels lists the learned models in the binary.
func EmbeddedModels() ([]ModelInfo, error) {
	var out []ModelInfo
	for _, x := range []struct {
		name string
		gz   []byte
	}{{"sentiment", sentimentModelGz}, {"sentiment_en", sentimentENModelGz}, {"emotion", emotionModelGz}, {"irony", ironyModelGz}} {
		m, err := linmodel.Decode(x.gz)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.name, err)
		}
		out = append(out, ModelInfo{Name: x.name, Version: m.Meta["version"], DataHash: m.Meta["data_hash"],
			Labels: m.Labels, Langs: strings.Fields(m.Meta["langs"]), Bytes: len(x.gz)})
	}
	return out, nil
}

var _ = bytes.Equal

// gunzip is the content of an embedded gzip file.
func gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

// afinnHash identifies the embedded translated AFINN list (first 16 hex
// digits of its SHA-256): a model that reads it records the one it was
// trained with.
func afinnHash() string {
	h := sha256.Sum256(afinnGz)
	return hex.EncodeToString(h[:8])
}
