package enrich

import "github.com/earshot-dev/earshot/post"

// emotionModels are the English emotion (anger, joy, optimism, sadness)
// and irony classifiers, on the sentiment model's features.
type emotionModels struct {
	emotion *learned
	irony   *learned
}

// Emotions are the labels of the emotion model.
var Emotions = []string{"anger", "joy", "optimism", "sadness"}

func loadEmotionModels() (*emotionModels, error) {
	em, err := loadLearned(emotionModelGz)
	if err != nil {
		return nil, err
	}
	ir, err := loadLearned(ironyModelGz)
	if err != nil {
		return nil, err
	}
	return &emotionModels{emotion: em, irony: ir}, nil
}

// emotionMinConfidence: below it the emotion is left empty. The model was
// trained on emotional tweets only, so it always has a favourite; a
// neutral post gets none.
const emotionMinConfidence = 0.5

// tag sets the emotion and irony of an English post, given its sentiment.
func (m *emotionModels) tag(text, lang string, s sentimentResult, en *post.Enrichment) {
	if m == nil || lang != "en" {
		return
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	lex := sentimentResult{score: s.lexicon, sarcastic: s.sarcastic}
	p := m.irony.predict(sc, text, lang, lex)
	if irony := p[indexOf(m.irony.m.Labels, "irony")]; irony >= 0.5 {
		en.Irony, en.IronyConfidence = true, irony
	} else {
		en.IronyConfidence = 1 - irony
	}
	if s.label != "positive" && s.label != "negative" {
		return
	}
	p = m.emotion.predict(sc, text, lang, lex)
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	if p[best] >= emotionMinConfidence {
		en.Emotion, en.EmotionConfidence = m.emotion.m.Labels[best], p[best]
	}
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return 0
}
