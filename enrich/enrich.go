// Package enrich tags matched posts with language, sentiment, country and
// region, intent, author influence and near-duplicate clusters. Every tag
// carries a confidence; the stage abstains ("und", "unknown") rather than
// guess when the evidence is thin.
package enrich

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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
	if e.lang, err = loadLangModel(langModelGz); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	if e.senti, err = loadSentimentModels(); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	if e.senti.learned, err = embeddedSentiment(); err != nil {
		panic(fmt.Errorf("enrich: embedded sentiment model: %w", err))
	}
	if e.senti.learnedEN, err = embeddedSentimentEN(); err != nil {
		panic(fmt.Errorf("enrich: embedded English sentiment model: %w", err))
	}
	if e.senti.learnedEN.cfg != e.senti.learned.cfg {
		panic(fmt.Errorf("enrich: the English sentiment model was built with other features (%+v) than the multilingual one (%+v): retrain (make models)", e.senti.learnedEN.cfg, e.senti.learned.cfg))
	}
	if e.senti.emotions, err = loadEmotionModels(e.senti.learned.cfg); err != nil {
		panic(fmt.Errorf("enrich: embedded emotion model: %w", err))
	}
	if e.gaz, err = loadGazetteer(); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	if e.borders, err = loadBorders(bordersGz); err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	im, err := parseIntentModel(intentModelTxt)
	if err != nil {
		panic(fmt.Errorf("enrich: embedded model: %w", err))
	}
	e.intentsM = newIntentMatcher(im)
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

// LanguageDetector is the stage's language identification alone, at the
// default confidence threshold. The model trainers use it: unlike New, it
// loads none of the models they build, so a trainer still runs when those
// are stale (a new feature version, a regenerated lexicon).
type LanguageDetector struct{ m *langModel }

// NewLanguageDetector loads the embedded language model.
func NewLanguageDetector() (*LanguageDetector, error) {
	m, err := loadLangModel(langModelGz)
	if err != nil {
		return nil, fmt.Errorf("language model: %w", err)
	}
	return &LanguageDetector{m: m}, nil
}

// DetectLanguage is Enricher.DetectLanguage with the default configuration.
func (d *LanguageDetector) DetectLanguage(text, declared string) (string, float64) {
	r := d.m.detect(text, declared, defaultLangMinConfidence)
	return r.lang, r.confidence
}

// Languages lists the languages the detector can return.
func (e *Enricher) Languages() []string {
	return append(append([]string(nil), e.lang.langs...), LangBCMS)
}

// Enrich returns the tags for p.
func (e *Enricher) Enrich(p *post.Post) *post.Enrichment {
	en := new(post.Enrichment)
	e.enrichInto(p, en)
	return en
}

// enrichInto sets en (zero) to the tags for p.
func (e *Enricher) enrichInto(p *post.Post, en *post.Enrichment) {
	en.Region, en.SentimentLabel = "unknown", "neutral"
	lr := e.lang.detect(p.Text, p.Lang, e.cfg.LangMinConfidence)
	en.Lang, en.LangConfidence = lr.lang, lr.confidence
	s := e.senti.score(p.Text, en.Lang)
	en.Sentiment, en.SentimentLabel, en.SentimentConfidence = s.score, s.label, s.confidence
	en.SentimentProbs = [3]float32{float32(s.probs[0]), float32(s.probs[1]), float32(s.probs[2])}
	s.emo.set(en)
	e.region(p, en)
	sc := wordsPool.Get().(*wordsScratch)
	sc.words, sc.buf = appendIntentWords(sc.words[:0], sc.buf, p.Text) // shared by intent and cluster
	e.intents(p, en, sc.words)
	en.Influence = influence(p)
	if e.cfg.Clustering != "off" {
		e.cluster(p, en, sc)
	}
	sc.release()
	if e.cfg.RedactPII {
		en.RedactedText = redactPII(p.Text)
	}
}

// Stage returns the enrich stage. Items given are never modified
// (stream.Stage): enriched posts go out as shallow copies. A watchlist's
// regions scope its matches: once the post's region is resolved, the
// matches of watchlists scoped to other regions are dropped (see InScope).
// A post left with no match is not passed on, but an edit is (without
// matches), so that the alert it raised before is retracted.
func (e *Enricher) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		out := make([]*post.Item, 0, len(in.Items))
		for _, it := range in.Items {
			if len(it.Matches) == 0 && it.Post.Kind != "" {
				out = append(out, it) // a delete or an edit that no longer matches: passed on for retraction
				continue
			}
			// the copy and its enrichment in one allocation: they live as
			// long as each other
			x := &enrichedItem{item: *it}
			cp := &x.item
			cp.Enrichment = &x.en
			e.enrichInto(it.Post, &x.en)
			if kept := InScope(it.Matches, cp.Enrichment.Region); len(kept) != len(it.Matches) {
				if len(kept) == 0 && it.Post.Kind == "" {
					continue
				}
				cp.Matches = kept
			}
			out = append(out, cp)
		}
		return post.Batch{Items: out}, nil
	}
}

// enrichedItem is an item the stage passes on and its enrichment.
type enrichedItem struct {
	item post.Item
	en   post.Enrichment
}

// InScope is the matches whose watchlist's regions include region (case
// aside), or that have no regions (global). A post whose region is unknown
// keeps every match: it is not known to be elsewhere. ms itself is
// returned when nothing is dropped.
func InScope(ms []post.Match, region string) []post.Match {
	if region == "" || region == "unknown" {
		return ms
	}
	in := func(m *post.Match) bool {
		return len(m.Regions) == 0 || slices.ContainsFunc(m.Regions, func(r string) bool { return strings.EqualFold(r, region) })
	}
	n := 0
	for i := range ms {
		if in(&ms[i]) {
			n++
		}
	}
	if n == len(ms) {
		return ms
	}
	kept := make([]post.Match, 0, n)
	for i := range ms {
		if in(&ms[i]) {
			kept = append(kept, ms[i])
		}
	}
	return kept
}

// wordsScratch is a post's normalised words (appendIntentWords) and the
// bytes they point into, reused from post to post: the words are split
// once and shared by intent and clustering, and make no garbage. The
// untagged text's words (clustering) have their own bytes.
type wordsScratch struct {
	words, untagged []string
	buf, ubuf       []byte
}

var wordsPool = sync.Pool{New: func() any { return new(wordsScratch) }}

// maxScratchBytes: a scratch that grew past this (a huge post) is not
// kept, so that the pool does not hold megabytes.
const maxScratchBytes = 64 << 10

func (sc *wordsScratch) release() {
	if cap(sc.buf)+cap(sc.ubuf) > maxScratchBytes || cap(sc.words)+cap(sc.untagged) > maxScratchBytes/16 {
		return
	}
	wordsPool.Put(sc)
}

// postTime is when a post was made, for the cluster window; ingestion time
// when the platform gave none.
func postTime(p *post.Post) time.Time {
	if !p.CreatedAt.IsZero() {
		return p.CreatedAt
	}
	return p.IngestedAt
}
