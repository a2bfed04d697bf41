package enrich

import (
	"bytes"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
)

// TestAfinnFeatures: the translated AFINN list is found for words as the
// feature extractor hashes them (case, accents, elongation), per language
// group, and negated in a negator's scope.
func TestAfinnFeatures(t *testing.T) {
	tab, err := embeddedAfinn()
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.words) < 40000 {
		t.Fatalf("afinn table has %d entries, want the ~50k of the generated file", len(tab.words))
	}
	score := func(text, lang string) (float32, bool) {
		b := featBuf{f: make([]linmodel.Feat, 0, maxFeats)}
		sentiFeatures(text, lang, sentimentResult{}, featCfg{}, tab, &b)
		for _, f := range b.f {
			if f.I == mix(0, nsAfinn) {
				return f.V, true
			}
		}
		return 0, false
	}
	for _, c := range []struct {
		text, lang string
		sign       int
	}{
		{"qué día tan ABURRIDO", "es", -1},
		{"es muy agradable", "es", 1},
		{"no es agradable", "es", -1},
		{"ovo je skandal, skandalozan", "sh", -1}, // Serbian in Latin script
		{"ovo je skandalozan", "hr", 0},           // "hr" is not a group: no list
		{"just a word", "es", 0},
		{"aburrido", "en", 0}, // English has no translated list
	} {
		v, ok := score(c.text, c.lang)
		switch {
		case c.sign == 0 && ok:
			t.Errorf("%q (%s): afinn feature %v, want none", c.text, c.lang, v)
		case c.sign < 0 && !(ok && v < 0), c.sign > 0 && !(ok && v > 0):
			t.Errorf("%q (%s): afinn %v (found %v), want sign %d", c.text, c.lang, v, ok, c.sign)
		}
	}
}

// TestAfinnModelRefusesOtherList: a model trained with the AFINN list
// records its hash, and loading it against another list fails (a
// regenerated list needs a retrained model), while the embedded pair loads.
func TestAfinnModelRefusesOtherList(t *testing.T) {
	m, err := linmodel.Decode(sentimentModelGz)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta["afinn"] != "true" || m.Meta["afinn_hash"] != afinnHash() {
		t.Fatalf("embedded sentiment model: afinn %q, hash %q, want true and %s", m.Meta["afinn"], m.Meta["afinn_hash"], afinnHash())
	}
	if _, err := loadLearned(sentimentModelGz); err != nil {
		t.Fatalf("embedded model: %v", err)
	}
	m.Meta["afinn_hash"] = "0123456789abcdef"
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := loadLearned(b.Bytes()); err == nil || !strings.Contains(err.Error(), "retrain") {
		t.Fatalf("model with another AFINN hash: err %v, want a retrain error", err)
	}
}

// TestLanguageDetectorAgrees: the trainers' detector (the language model
// alone) answers as the stage's Enricher does.
func TestLanguageDetectorAgrees(t *testing.T) {
	d, err := NewLanguageDetector()
	if err != nil {
		t.Fatal(err)
	}
	e := testEnricher()
	for _, c := range sentimentHardCases {
		for _, declared := range []string{"", c.lang} {
			l1, c1 := d.DetectLanguage(c.text, declared)
			l2, c2 := e.DetectLanguage(c.text, declared)
			if l1 != l2 || c1 != c2 {
				t.Errorf("%q (declared %q): detector %s %.3f, enricher %s %.3f", c.text, declared, l1, c1, l2, c2)
			}
		}
	}
}

// TestAfinnBloomKeepsEveryWord: the Bloom filter in front of the map lets
// every listed word through (it may only let unlisted ones through too).
func TestAfinnBloomKeepsEveryWord(t *testing.T) {
	tab, err := embeddedAfinn()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range tab.words {
		if v, ok := tab.lookup(k); !ok || v != want {
			t.Fatalf("key %x: lookup %v %v, want %v", k, v, ok, want)
		}
	}
	// and it turns most unlisted keys away before the map
	passed := 0
	for i := range uint64(100000) {
		a, b := afinnProbes(i * 0x9e3779b97f4a7c15)
		if tab.bloom[a>>6]&(1<<(a&63)) != 0 && tab.bloom[b>>6]&(1<<(b&63)) != 0 {
			passed++
		}
	}
	if passed > 6000 {
		t.Errorf("the filter passes %d of 100,000 random keys, want under 6%%", passed)
	}
}
