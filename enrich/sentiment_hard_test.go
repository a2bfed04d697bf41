package enrich

import "testing"

// sentimentHardCases are the hard cases of issue 14, per language:
// negation, contrast ("but"), sarcasm markers, emoji only, code-mixed
// text and hashtags used as words. The language is given as the detector
// would; the label is what an analyst would say.
var sentimentHardCases = []struct{ lang, text, want string }{
	{"en", "refund never came, terrible", "negative"},
	{"en", "not bad at all, I actually like it", "positive"},
	{"en", "The screen is great but the battery is terrible", "negative"},
	{"en", "Oh great, my phone died again. Best product ever /s", "negative"},
	{"en", "#worstservice #fail", "negative"},
	{"en", "😡😡😡", "negative"},
	{"en", "Acme est génial mais the battery is awful", "negative"},
	{"es", "no me gusta nada, pésimo servicio", "negative"},
	{"es", "el diseño es bonito pero la batería es horrible", "negative"},
	{"es", "no está nada mal, me encanta", "positive"},
	{"fr", "le produit est beau mais il ne marche pas, nul", "negative"},
	{"fr", "pas mal du tout, j'adore", "positive"},
	{"de", "sieht gut aus, aber funktioniert nicht, totaler Mist", "negative"},
	{"de", "gar nicht schlecht, gefällt mir sehr", "positive"},
	{"pt", "não gostei, péssimo atendimento", "negative"},
	{"pt", "#amei 😍😍", "positive"},
	{"it", "non mi piace per niente, pessimo", "negative"},
	{"el", "Απαράδεκτη εξυπηρέτηση, δεν θα ξαναγοράσω ποτέ", "negative"},
	{"el", "Ωραίο κινητό αλλά η μπαταρία είναι χάλια", "negative"},
	{"el", "Τέλειο! Μου αρέσει πολύ 😍", "positive"},
	{"hi", "yaar ye phone bahut bekar hai, paisa barbaad", "negative"},
	{"und", "👍👍🎉", "positive"},
}

func TestSentimentHardCases(t *testing.T) {
	e := testEnricher()
	for _, c := range sentimentHardCases {
		s := e.senti.score(c.text, c.lang)
		if s.label != c.want {
			t.Errorf("%s %q: %s (%.3f, confidence %.2f), want %s", c.lang, c.text, s.label, s.score, s.confidence, c.want)
		}
	}
}
