// Package enrich tags matched posts with language, sentiment, country and
// region, intent, author influence and near-duplicate clusters. Every tag
// carries a confidence; the stage abstains ("und", "unknown") rather than
// guess when the evidence is thin.
package enrich

import (
	"context"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/region"
)

// Enricher tags posts. Its models are immutable; its only mutable state,
// the near-duplicate window, is bounded and locked, so it is safe for
// concurrent use.
type Enricher struct {
	cfg      Config
	regions  map[string]string
	lang     *langModel
	senti    *sentimentModels
	gaz      *gazetteer
	borders  *borders
	clusters *clusterer
	intentsM *intentMatcher
}

// New returns an enricher for cfg; zero fields take their defaults. The
// embedded models are checked by the package's tests, so a failure to load
// them is a broken build and panics.
func New(cfg Config) *Enricher {
	cfg = cfg.withDefaults()
	e := &Enricher{cfg: cfg, regions: region.Map(cfg.Regions)}
	var err error
	if e.lang, err = loadLangModel(langProfilesGz); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	if e.senti, err = loadSentimentModels(); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	if e.gaz, err = loadGazetteer(); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	if e.borders, err = loadBorders(bordersGz); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	e.intentsM = newIntentMatcher()
	e.clusters = newClusterer(cfg.ClusterWindow.Duration(), cfg.ClusterCapacity)
	return e
}

// DetectLanguage returns the language of text (ISO 639-1 where one exists,
// else 639-3; "und" when unsure) and its confidence. declared is the
// platform's label, used as evidence.
func (e *Enricher) DetectLanguage(text, declared string) (string, float64) {
	r := e.lang.detect(text, declared, e.cfg.LangMinConfidence)
	return r.lang, r.confidence
}

// Languages lists the languages the detector can return.
func (e *Enricher) Languages() []string { return append([]string(nil), e.lang.langs...) }

// Enrich returns the tags for p.
func (e *Enricher) Enrich(p *post.Post) *post.Enrichment {
	en := &post.Enrichment{Region: "unknown", SentimentLabel: "neutral"}
	lr := e.lang.detect(p.Text, p.Lang, e.cfg.LangMinConfidence)
	en.Lang, en.LangConfidence = lr.lang, lr.confidence
	s := e.senti.score(p.Text, en.Lang)
	en.Sentiment, en.SentimentLabel, en.SentimentConfidence = s.score, s.label, s.confidence
	e.region(p, en)
	var arr [64]string
	words := intentWords(p.Text, arr[:0]) // shared by intent and cluster
	e.intents(p, en, words)
	en.Influence = influence(p)
	if e.cfg.Clustering != "off" {
		e.cluster(p, en, words)
	}
	if e.cfg.RedactPII {
		en.RedactedText = redactPII(p.Text)
	}
	return en
}

// Stage returns the enrich stage. Items given are never modified
// (stream.Stage): enriched posts go out as shallow copies.
func (e *Enricher) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		out := post.Batch{Items: make([]*post.Item, len(in.Items))}
		for i, it := range in.Items {
			if len(it.Matches) == 0 && it.Post.Kind != "" {
				out.Items[i] = it // a delete or an edit that no longer matches: passed on for retraction
				continue
			}
			cp := *it
			cp.Enrichment = e.Enrich(it.Post)
			out.Items[i] = &cp
		}
		return out, nil
	}
}

// postTime is when a post was made, for the cluster window; ingestion time
// when the platform gave none.
func postTime(p *post.Post) time.Time {
	if !p.CreatedAt.IsZero() {
		return p.CreatedAt
	}
	return p.IngestedAt
}
