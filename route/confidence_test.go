package route

import (
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// A policy that trusts a judgement only when it is sure, and routes on
// emotion and irony.
const confidencePolicy = `
queues: [care, triage, social]
rules:
  - name: sure-angry
    when: {sentiment: [negative], emotions: [anger], min_confidence: 0.7}
    queue: care
    priority: P1
  - name: sure-negative
    when: {sentiment: [negative], min_confidence: 0.7}
    queue: care
    priority: P2
  - name: ironic
    when: {emotions: [irony], min_confidence: 0.6}
    queue: social
    priority: P4
  - name: unsure
    when: {sentiment: [negative, unknown]}
    queue: triage
    priority: P3
`

func TestDecideMinConfidenceAndEmotions(t *testing.T) {
	p, err := load(t, confidencePolicy)
	if err != nil {
		t.Fatal(err)
	}
	f := func(name string, en post.Enrichment, want string) {
		t.Helper()
		it := item("acme", []string{"acme"}, en.SentimentLabel, "EMEA", 1)
		it.Enrichment = &en
		got := ""
		if r := p.Decide(it); r != nil {
			got = r.Name
		}
		if got != want {
			t.Errorf("%s: Decide = %q, want %q", name, got, want)
		}
	}
	f("sure and angry", post.Enrichment{SentimentLabel: "negative", SentimentConfidence: 0.9, Emotion: "anger", EmotionConfidence: 0.8}, "sure-angry")
	f("sure, anger unsure", post.Enrichment{SentimentLabel: "negative", SentimentConfidence: 0.9, Emotion: "anger", EmotionConfidence: 0.5}, "sure-negative")
	f("sure, sad", post.Enrichment{SentimentLabel: "negative", SentimentConfidence: 0.9, Emotion: "sadness", EmotionConfidence: 0.9}, "sure-negative")
	f("angry but sentiment unsure", post.Enrichment{SentimentLabel: "negative", SentimentConfidence: 0.55, Emotion: "anger", EmotionConfidence: 0.9}, "unsure")
	f("abstained", post.Enrichment{SentimentLabel: "unknown", SentimentConfidence: 0.38}, "unsure")
	f("ironic praise", post.Enrichment{SentimentLabel: "positive", SentimentConfidence: 0.8, Irony: true, IronyConfidence: 0.75}, "ironic")
	f("maybe ironic", post.Enrichment{SentimentLabel: "positive", SentimentConfidence: 0.8, Irony: true, IronyConfidence: 0.55}, "")
	f("not ironic, confident", post.Enrichment{SentimentLabel: "positive", SentimentConfidence: 0.8, Irony: false, IronyConfidence: 0.9}, "")
}

func TestPolicyRejectsBadConfidenceAndEmotion(t *testing.T) {
	for _, c := range []struct{ when, want string }{
		{"{min_confidence: 1.5}", "min_confidence 1.5"},
		{"{min_confidence: -0.1}", "min_confidence -0.1"},
		{"{emotions: [rage]}", `emotion "rage"`},
	} {
		_, err := load(t, "queues: [care]\nrules:\n  - {name: r, when: "+c.when+", queue: care, priority: P2}\n")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("when %s: error %v, want one containing %q", c.when, err, c.want)
		}
	}
}
