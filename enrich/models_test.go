package enrich

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
)

// sharedDataDir is ../shared/data from the repository root, or
// $EARSHOT_DATA; tests that need it skip, or do less, when it is absent
// (CI).
func sharedDataDir() (string, bool) {
	dir := os.Getenv("EARSHOT_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	_, err := os.Stat(filepath.Join(dir, "sentiment"))
	return dir, err == nil
}

// TestEmbeddedModelsRecorded: the embedded weights carry the recipe
// versions this code expects and a data hash; with the data at hand, the
// hash is that of the files they name (else: retrain with make models).
func TestEmbeddedModelsRecorded(t *testing.T) {
	ms, err := EmbeddedModels()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		version string
		files   []string
	}{
		"sentiment":    {SentimentModelVersion, SentimentTrainFiles},
		"sentiment_en": {SentimentENModelVersion, SentimentTrainFiles},
		"emotion":      {EmotionModelVersion, EmotionTrainFiles},
		"irony":        {IronyModelVersion, IronyTrainFiles},
	}
	total := 0
	for _, m := range ms {
		w := want[m.Name]
		if m.Version != w.version {
			t.Errorf("%s: embedded version %q, code expects %q: retrain (make models)", m.Name, m.Version, w.version)
		}
		if len(m.DataHash) != 16 {
			t.Errorf("%s: data hash %q", m.Name, m.DataHash)
		}
		total += m.Bytes
	}
	if total > 40<<20 {
		t.Errorf("embedded models are %d bytes, over the 40 MB budget", total)
	}
	dir, ok := sharedDataDir()
	if !ok {
		t.Logf("no shared data at %s: data hashes not recomputed", dir)
		return
	}
	for _, m := range ms {
		h, err := DataHash(dir, want[m.Name].files)
		if err != nil {
			t.Fatal(err)
		}
		if h != m.DataHash {
			t.Errorf("%s: embedded weights were trained on data %s, the data here hashes to %s: retrain (make models)", m.Name, m.DataHash, h)
		}
	}
}

// TestTrainDeterministic trains twice on the same small sample and wants
// the same bytes; a third run on a changed sample must differ.
func TestTrainDeterministic(t *testing.T) {
	var rows []TrainRow
	for _, c := range sentimentHardCases {
		rows = append(rows, TrainRow{Lang: c.lang, Label: c.want, Text: c.text})
	}
	for _, p := range goldenPosts {
		rows = append(rows, TrainRow{Lang: p.lang, Label: "neutral", Text: p.text, Allowed: []string{"neutral", "positive"}})
	}
	cfg := TrainConfig{Labels: sentiClasses, Bits: 12, Epochs: 3, LR: 0.1, Seed: 1, CharGrams: true, Version: "t", DataHash: "0123456789abcdef", Langs: []string{"en", "el"}}
	enc := func(rows []TrainRow) []byte {
		m, err := Train(rows, rows[:5], cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := m.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := enc(rows), enc(rows)
	if !bytes.Equal(a, b) {
		t.Fatal("two trainings on the same rows gave different bytes")
	}
	// the shipped recipe: averaged with a naive-Bayes-scaled model
	cfg.NBBlend = 0.5
	blend := enc(rows)
	if !bytes.Equal(blend, enc(rows)) {
		t.Fatal("two blended trainings on the same rows gave different bytes")
	}
	if bytes.Equal(blend, a) {
		t.Fatal("the blend left the model unchanged")
	}
	for _, bad := range []float64{-0.1, 1.5, 1e12, math.NaN()} {
		cfg.NBBlend = bad
		if _, err := Train(rows, rows[:5], cfg); err == nil {
			t.Errorf("NB blend weight %v accepted", bad)
		}
	}
	cfg.NBBlend = 0
	rows[0].Label = "positive"
	if bytes.Equal(a, enc(rows)) {
		t.Fatal("a changed label left the model unchanged")
	}
	m, err := linmodel.Decode(a)
	if err != nil || m.Meta["version"] != "t" || m.Meta["langs"] != "el en" {
		t.Fatalf("decoded %+v, %v", m, err)
	}
}

func FuzzSentimentFeatures(f *testing.F) {
	for _, c := range sentimentHardCases {
		f.Add(c.text, c.lang)
	}
	f.Add("n'est-ce pas?! :-) 🇬🇷 #tag @user https://x.y/z?q=1 sooooo GOOD", "fr")
	f.Add("\xff\xfe invalid utf8 \xc3", "und")
	e := testEnricher()
	afinn, err := embeddedAfinn()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		b := featBuf{f: make([]linmodel.Feat, 0, maxFeats)}
		sentiFeatures(text, sentiLangGroup(lang), sentimentResult{}, featCfg{charGrams: true}, afinn, &b)
		if len(b.f) > maxFeats {
			t.Fatalf("%d features", len(b.f))
		}
		s := e.senti.score(text, lang)
		if s.confidence < 0 || s.confidence > 1 || s.score < -1 || s.score > 1 {
			t.Fatalf("score(%q) = %+v", text, s)
		}
		switch s.label {
		case "negative", "neutral", "positive", "unknown":
		default:
			t.Fatalf("label %q", s.label)
		}
	})
}

// TestSentimentHugePost: a 1 MB post costs what its first 4 KB cost, and
// its features stay within the buffer.
func TestSentimentHugePost(t *testing.T) {
	e := testEnricher()
	huge := strings.Repeat("terrible service, never again 😡 ", 1<<15) // ~1 MB
	start := time.Now()
	s := e.senti.score(huge, "en")
	if s.label != "negative" {
		t.Errorf("huge post: %+v", s)
	}
	if got := e.senti.score(capText(huge), "en"); got != s {
		t.Errorf("the 1 MB post scored %+v, its first 4 KB %+v: the model read past the cap", s, got)
	}
	t.Logf("1 MB post scored in %v", time.Since(start))
}
