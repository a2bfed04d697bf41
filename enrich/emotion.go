package enrich

import (
	"fmt"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
	"github.com/earshot-dev/earshot/post"
)

// emotionModels are the English emotion (anger, joy, optimism, sadness)
// and irony classifiers. They read the sentiment model's features, made
// once per post.
type emotionModels struct {
	emotion *learned
	irony   *learned
	ironyC  int // the index of "irony" among the irony model's labels
}

// Emotions are the labels of the emotion model.
var Emotions = []string{"anger", "joy", "optimism", "sadness"}

func loadEmotionModels(sentiment featCfg) (*emotionModels, error) {
	em, err := embeddedEmotion()
	if err != nil {
		return nil, err
	}
	ir, err := embeddedIrony()
	if err != nil {
		return nil, err
	}
	if em.cfg != sentiment || ir.cfg != sentiment {
		return nil, fmt.Errorf("emotion and irony must be built with the sentiment model's features (%+v): retrain (make models)", sentiment)
	}
	m := &emotionModels{emotion: em, irony: ir, ironyC: indexOf(ir.m.Labels, "irony")}
	if m.ironyC < 0 {
		return nil, fmt.Errorf("irony model: no irony label in %v", ir.m.Labels)
	}
	return m, nil
}

// emotionMinConfidence: below it the emotion is left empty. The model was
// trained on emotional tweets only, so it always has a favourite; a
// neutral post gets none.
const emotionMinConfidence = 0.5

// emotionResult is the emotion and irony of an English post.
type emotionResult struct {
	emotion     string // "" when none is clear
	emotionConf float64
	irony       bool
	ironyConf   float64 // of the judgement made, either way
}

// judge reads the features of an English post (made for the sentiment
// model with the same configuration) and its sentiment label.
func (m *emotionModels) judge(feats []linmodel.Feat, label string, probs *[8]float64) emotionResult {
	var r emotionResult
	p := probs[:m.irony.m.K()]
	m.irony.m.Predict(feats, p)
	if irony := p[m.ironyC]; irony >= 0.5 {
		r.irony, r.ironyConf = true, irony
	} else {
		r.ironyConf = 1 - irony
	}
	if label != "positive" && label != "negative" {
		return r
	}
	p = probs[:m.emotion.m.K()]
	m.emotion.m.Predict(feats, p)
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	if p[best] >= emotionMinConfidence {
		r.emotion, r.emotionConf = m.emotion.m.Labels[best], p[best]
	}
	return r
}

// set copies the result into en.
func (r emotionResult) set(en *post.Enrichment) {
	en.Emotion, en.EmotionConfidence, en.Irony, en.IronyConfidence = r.emotion, r.emotionConf, r.irony, r.ironyConf
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}
