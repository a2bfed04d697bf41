package enrich

import (
	"slices"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestSentimentEnglishModel: a post detected as English is judged by the
// English model (its probabilities and its abstention threshold), every
// other post by the multilingual one, and both read the same features
// (so emotion and irony, which reuse them, still apply).
func TestSentimentEnglishModel(t *testing.T) {
	e := testEnricher()
	if e.senti.learnedEN == nil {
		t.Fatal("no English sentiment model loaded")
	}
	if e.senti.learnedEN.cfg != e.senti.learned.cfg {
		t.Fatalf("English model features %+v, multilingual %+v", e.senti.learnedEN.cfg, e.senti.learned.cfg)
	}
	if !e.senti.learnedEN.langs["en"] || len(e.senti.learnedEN.langs) != 1 {
		t.Errorf("English model languages %v", e.senti.learnedEN.langs)
	}
	predict := func(l *learned, text, lang string) []float64 {
		s := newScratch()
		lex := e.senti.lexScoreWith(s, capText(text), lang)
		return slices.Clone(l.predict(s, capText(text), sentiLangGroup(lang), lex))
	}
	near := func(a []float64, b [3]float32) bool {
		for i := range a {
			if d := a[i] - float64(b[i]); d > 1e-6 || d < -1e-6 {
				return false
			}
		}
		return true
	}
	for _, c := range []struct{ text, lang string }{
		{"The support team was slow but they fixed my broken screen in the end", "en"},
		{"Der Kundendienst war langsam, aber am Ende haben sie mein Display repariert", "de"},
	} {
		en := e.Enrich(&post.Post{Text: c.text})
		if en.Lang != c.lang {
			t.Fatalf("%q detected %s, want %s", c.text, en.Lang, c.lang)
		}
		pEN, pML := predict(e.senti.learnedEN, c.text, c.lang), predict(e.senti.learned, c.text, c.lang)
		if slices.Equal(pEN, pML) {
			t.Fatalf("%q: the two models agree to the last digit; the test cannot tell them apart", c.text)
		}
		want := pML
		if c.lang == "en" {
			want = pEN
		}
		if !near(want, en.SentimentProbs) {
			t.Errorf("%s post: probabilities %v, want %v (English model %v, multilingual %v)", c.lang, en.SentimentProbs, want, pEN, pML)
		}
	}
}
