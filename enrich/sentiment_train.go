package enrich

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
)

// TrainRow is one labelled text for Train.
type TrainRow struct {
	Lang, Label, Text string
	// Allowed, when set, are the classes the row chooses between (pos/neg
	// data trains a three-class model without saying its rows are not
	// neutral); empty means all.
	Allowed []string
	Weight  float32 // 0 means 1
	// NoLang hides the language from the language-specific features (the
	// lexicon still reads it), so the model also learns what holds when
	// detection fails or the language has no rows.
	NoLang bool
}

// TrainConfig is what Train needs besides the rows.
type TrainConfig struct {
	Labels    []string
	Bits      uint8 // log2 of the hashed feature space
	Epochs    int
	LR, L2    float64
	Seed      uint64
	CharGrams bool
	// NBBlend, when positive, is the weight of a second model in an
	// average of two: one trained as usual and one with the naive-Bayes
	// step scale (linmodel.TrainOptions.NB, smoothing 1)
	NBBlend float64
	// Afinn adds the translated AFINN list's judgement as features
	Afinn bool
	// recorded in the model
	Version, DataHash string
	Langs             []string
}

// LearnedModel is a trained classifier, for the training command: it
// predicts with exactly the features the enrich stage makes, and encodes
// into the file the binary embeds.
type LearnedModel struct {
	l   *learned
	lex *sentimentModels
}

// Train fits a classifier on rows and calibrates its confidence on dev.
// Deterministic: the same rows and config give the same bytes from Encode.
func Train(rows, dev []TrainRow, cfg TrainConfig) (*LearnedModel, error) {
	lex, err := loadSentimentModels()
	if err != nil {
		return nil, err
	}
	if !(cfg.NBBlend >= 0 && cfg.NBBlend <= 1) {
		return nil, fmt.Errorf("NB blend weight %v: want 0 to 1", cfg.NBBlend)
	}
	lm := &LearnedModel{lex: lex, l: &learned{cfg: featCfg{charGrams: cfg.CharGrams}}}
	if cfg.Afinn {
		if lm.l.afinn, err = embeddedAfinn(); err != nil {
			return nil, err
		}
	}
	ex, err := lm.examples(rows, cfg.Labels)
	if err != nil {
		return nil, err
	}
	dx, err := lm.examples(dev, cfg.Labels)
	if err != nil {
		return nil, err
	}
	o := linmodel.TrainOptions{Bits: cfg.Bits, Epochs: cfg.Epochs, LR: cfg.LR, L2: cfg.L2, Seed: cfg.Seed}
	m := linmodel.Train(cfg.Labels, ex, o)
	if cfg.NBBlend > 0 {
		// The two models learn from the same features in different
		// ways (the second moves faster on features that tell a class
		// apart), and the average of two linear models' logits is one
		// linear model: the blend costs nothing at prediction.
		o.NB = 1
		nb := linmodel.Train(cfg.Labels, ex, o)
		for i := range m.W {
			m.W[i] = float32((1-cfg.NBBlend)*float64(m.W[i]) + cfg.NBBlend*float64(nb.W[i]))
		}
	}
	m.Calibrate(dx)
	m.Meta["features"] = featureVersion
	m.Meta["char_grams"] = strconv.FormatBool(cfg.CharGrams)
	if cfg.Afinn {
		m.Meta["afinn"] = "true"
		m.Meta["afinn_hash"] = afinnHash()
	}
	m.Meta["version"] = cfg.Version
	m.Meta["data_hash"] = cfg.DataHash
	langs := slices.Clone(cfg.Langs)
	slices.Sort(langs)
	m.Meta["langs"] = strings.Join(slices.Compact(langs), " ")
	lm.l.m = m
	return lm, nil
}

func (lm *LearnedModel) examples(rows []TrainRow, labels []string) ([]linmodel.Example, error) {
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	ex := make([]linmodel.Example, 0, len(rows))
	for i, r := range rows {
		y, ok := idx[r.Label]
		if !ok {
			return nil, fmt.Errorf("row %d: label %q not in %v", i, r.Label, labels)
		}
		var allowed uint32
		for _, a := range r.Allowed {
			c, ok := idx[a]
			if !ok {
				return nil, fmt.Errorf("row %d: allowed label %q not in %v", i, a, labels)
			}
			allowed |= 1 << c
		}
		b := featBuf{f: make([]linmodel.Feat, 0, maxFeats)}
		fl := sentiLangGroup(r.Lang)
		if r.NoLang {
			fl = "und"
		}
		sentiFeatures(r.Text, fl, lm.lex.lexScore(capText(r.Text), r.Lang), lm.l.cfg, lm.l.afinn, &b)
		ex = append(ex, linmodel.Example{Feats: slices.Clip(b.f), Label: y, Allowed: allowed, Weight: r.Weight})
	}
	return ex, nil
}

// Labels are the model's classes, in the order of Predict's probabilities.
func (lm *LearnedModel) Labels() []string { return lm.l.m.Labels }

// Predict returns the calibrated class probabilities of text.
func (lm *LearnedModel) Predict(text, lang string) []float64 {
	p := lm.l.predict(newScratch(), text, sentiLangGroup(lang), lm.lex.lexScore(capText(text), lang))
	return slices.Clone(p)
}

// minAbstainRows is the fewest Dev rows a language needs for a threshold
// of its own; rarer ones use the global one.
const minAbstainRows = 40

// SetAbstain chooses the abstention thresholds on dev (rows whose Lang is
// the detected language, as inference sees it): the top probability below
// which a share q of the rows fall over all rows; when perLang, a language
// group with at least minAbstainRows rows whose own such quantile is lower
// gets that one. No language then abstains on much more than a share q of
// its posts (the model is less sure of romanised Hindi, which abstained on
// a fifth of them), and none abstains more than under the global rule. It records them in the model and returns the
// global threshold and the per-language ones as recorded.
func (lm *LearnedModel) SetAbstain(dev []TrainRow, q float64, perLang bool) (float64, string) {
	quantile := func(tops []float64) float64 {
		slices.Sort(tops)
		return tops[int(float64(len(tops))*q)]
	}
	var all []float64
	by := map[string][]float64{}
	for _, r := range dev {
		top := slices.Max(lm.Predict(r.Text, r.Lang))
		all = append(all, top)
		g := sentiLangGroup(r.Lang)
		by[g] = append(by[g], top)
	}
	if len(all) == 0 {
		return 0, ""
	}
	global := quantile(all)
	lm.l.m.Meta["abstain"] = strconv.FormatFloat(global, 'f', 3, 64)
	var parts []string
	if perLang {
		for g, tops := range by {
			if t := quantile(tops); len(tops) >= minAbstainRows && t < global {
				parts = append(parts, g+"="+strconv.FormatFloat(quantile(tops), 'f', 3, 64))
			}
		}
		slices.Sort(parts)
		lm.l.m.Meta["abstain_langs"] = strings.Join(parts, " ")
	}
	lm.l.abstain, lm.l.abstainLang, _ = parseAbstain(lm.l.m.Meta)
	return global, strings.Join(parts, " ")
}

// SetMeta records a key (a threshold the command chose) in the model.
func (lm *LearnedModel) SetMeta(k, v string) { lm.l.m.Meta[k] = v }

// Temperature is the fitted softmax temperature.
func (lm *LearnedModel) Temperature() float32 { return lm.l.m.Temp }

// Encode writes the model file the binary embeds.
func (lm *LearnedModel) Encode(w io.Writer) error { return lm.l.m.Encode(w) }

// CleanDatasetText undoes what the public tweet sets did to their text:
// literal escapes ("\u2019", "\u002c") and HTML entities ("&amp;"). The
// trainer and `earshot eval` read files through it; live posts never
// carry these.
func CleanDatasetText(s string) string {
	if !strings.Contains(s, `\u`) && !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+5 < len(s)+0 && i+6 <= len(s) && s[i+1] == 'u' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
				b.WriteRune(rune(v))
				i += 5
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return html.UnescapeString(b.String())
}
