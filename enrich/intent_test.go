package enrich

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// intentCases are the hard cases of issue 14 per language: complaints
// without a complaint word ("charged me twice"), feature requests for R&D,
// crisis posts, job ads, spam and questions without a question mark. want
// must all be among the post's intents; not must all be absent.
var intentCases = []struct {
	lang, text string
	want, not  []string
}{
	// English
	{"en", "@ShopCo charged me twice for the same order", []string{"complaint"}, []string{"praise"}},
	{"en", "my order never arrived and it's been 3 weeks @ParcelNow", []string{"complaint"}, nil},
	{"en", "the app crashes every time I open it 🙄", []string{"complaint"}, nil},
	{"en", "the app should let me export to CSV", []string{"feedback"}, []string{"complaint"}},
	{"en", "would be great if @Notely had a dark mode #featurerequest", []string{"feedback"}, nil},
	{"en", "I can't do this anymore, I just want to end it all tonight", []string{"crisis"}, []string{"praise"}},
	{"en", "my Acme heater started smoking and caught fire, kids are ok but this is dangerous", []string{"crisis"}, nil},
	{"en", "We're hiring a senior backend engineer in Berlin, remote ok. Apply via the link https://jobs.example.com/42", []string{"job"}, nil},
	{"en", "🔥 FREE iPhone 17 giveaway 🔥 just follow + RT and DM me your email, winners in 1h!!! #free #giveaway", []string{"spam"}, nil},
	{"en", "anyone know how to reset the Acme router without the app", []string{"question"}, nil},
	{"en", "does the pro plan include API access", []string{"question"}, nil},
	{"en", "why did you charge me twice @ShopCo?", []string{"complaint", "question"}, nil},
	{"en", "Huge thanks to @Acme support, fixed my issue in 5 minutes 🙌", []string{"praise"}, []string{"complaint"}},
	{"en", "The new Acme phone is out today", nil, []string{"complaint", "praise", "crisis", "spam", "job"}},
	// Greek
	{"el", "Με χρέωσαν δύο φορές για την ίδια παραγγελία @CosmoteGR", []string{"complaint"}, nil},
	{"el", "η παραγγελία μου δεν ήρθε ποτέ, 3 εβδομάδες περιμένω", []string{"complaint"}, nil},
	{"el", "η εφαρμογή κολλάει συνέχεια μετά το update", []string{"complaint"}, nil},
	{"el", "θα ήταν ωραίο να μπορώ να κάνω εξαγωγή σε CSV από την εφαρμογή", []string{"feedback"}, []string{"complaint"}},
	{"el", "ξέρει κανείς πώς αλλάζω τον κωδικό στο router", []string{"question"}, nil},
	{"el", "Ζητείται προγραμματιστής Go για μόνιμη θέση στην Αθήνα, στείλτε βιογραφικό", []string{"job"}, nil},
	{"el", "πήρε φωτιά ο φορτιστής στο σπίτι, παραλίγο να καεί το παιδί", []string{"crisis"}, nil},
	// Spanish
	{"es", "me cobraron dos veces el mismo pedido @TiendaMX", []string{"complaint"}, nil},
	{"es", "mi pedido nunca llegó y nadie responde", []string{"complaint"}, nil},
	{"es", "la app se cierra sola cada vez que la abro", []string{"complaint"}, nil},
	{"es", "deberían añadir la opción de exportar a CSV", []string{"feedback"}, []string{"complaint"}},
	{"es", "alguien sabe cómo cambiar la contraseña", []string{"question"}, nil},
	{"es", "Buscamos desarrollador/a backend, contrato indefinido en Madrid. Envía tu CV", []string{"job"}, nil},
	{"es", "GANA 500€ al día desde casa 💸💸 link en mi bio #dinero #gratis", []string{"spam"}, nil},
	// German
	{"de", "@TelekomHilft mir wurde doppelt abgebucht, bitte um Erstattung", []string{"complaint"}, nil},
	{"de", "die App stürzt ständig ab seit dem Update", []string{"complaint"}, nil},
	{"de", "wäre cool, wenn man die Daten als CSV exportieren könnte", []string{"feedback"}, nil},
	// French
	{"fr", "ma commande n'est jamais arrivée @LaPosteFr", []string{"complaint"}, nil},
	{"fr", "ce serait top de pouvoir exporter en CSV dans l'appli", []string{"feedback"}, nil},
	{"fr", "quelqu'un sait comment résilier l'abonnement", []string{"question"}, nil},
}

func TestIntentHardCases(t *testing.T) {
	e := testEnricher()
	for _, c := range intentCases {
		en := e.Enrich(&post.Post{Platform: "x", ID: "1", Text: c.text, Lang: c.lang})
		for _, w := range c.want {
			if !slices.Contains(en.Intents, w) {
				t.Errorf("[%s] %q: intents %v, want %s", c.lang, c.text, en.Intents, w)
			}
		}
		for _, w := range c.not {
			if slices.Contains(en.Intents, w) {
				t.Errorf("[%s] %q: intents %v, not %s", c.lang, c.text, en.Intents, w)
			}
		}
		if en.IntentConfidence <= 0 || en.IntentConfidence > 1 {
			t.Errorf("[%s] %q: confidence %v", c.lang, c.text, en.IntentConfidence)
		}
	}
}

// The embedded weights were trained by this code from the committed intent
// set: its hash and the model version match, and training again gives the
// same bytes (so `go run ./enrich/train/intent` is deterministic and the
// weights are not stale). Runs without ../shared/data.
func TestIntentModelEmbedded(t *testing.T) {
	data, err := os.ReadFile("testdata/intent_posts.tsv")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseIntentModel(intentModelTxt)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if m.dataSHA != hex.EncodeToString(sum[:]) {
		t.Fatalf("embedded intent model was trained on data %s, testdata/intent_posts.tsv is %x: run go run ./enrich/train/intent", m.dataSHA, sum)
	}
	if m.version != IntentModelVersion {
		t.Fatalf("model version %d, code %d", m.version, IntentModelVersion)
	}
	if testing.Short() {
		return
	}
	out, _, err := TrainIntentModel(data, IntentTrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, intentModelTxt) {
		t.Fatalf("training again gives %d bytes that differ from the embedded %d: run go run ./enrich/train/intent", len(out), len(intentModelTxt))
	}
}

// Every row of the intent set parses, uses known intents, and the set has
// the languages and size the docs claim.
func TestIntentSet(t *testing.T) {
	data, err := os.ReadFile("testdata/intent_posts.tsv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ParseIntentRows(data)
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]int{}
	seen := map[string]bool{}
	for _, r := range rows {
		langs[r.Lang]++
		if seen[r.Text] {
			t.Errorf("duplicate post %q", r.Text)
		}
		seen[r.Text] = true
	}
	if len(rows) < 400 {
		t.Errorf("%d posts, want at least 400", len(rows))
	}
	for _, l := range []string{"en", "el", "es", "de", "fr"} {
		if langs[l] < 40 {
			t.Errorf("%s: %d posts, want at least 40", l, langs[l])
		}
	}
	// The hard cases above are not in the set (they test generalisation).
	for _, c := range intentCases {
		if seen[c.text] {
			t.Errorf("hard case %q is in the training set", c.text)
		}
	}
}

// Tagging a post allocates nothing, whatever its intents and language.
func TestIntentNoAllocs(t *testing.T) {
	e := testEnricher()
	for _, c := range intentCases {
		p := &post.Post{Text: c.text, Lang: c.lang}
		words := intentWords(p.Text, nil)
		en := *e.Enrich(p) // language and sentiment set: English posts take the complaint blend
		if n := testing.AllocsPerRun(50, func() { e.intents(p, &en, words) }); n != 0 {
			t.Errorf("%q: %v allocations per post", c.text, n)
		}
	}
}

// Probabilities are probabilities, the tags follow them, and "other" is
// alone.
func TestIntentScoresConsistent(t *testing.T) {
	e := testEnricher()
	for _, c := range intentCases {
		en := e.Enrich(&post.Post{Text: c.text, Lang: c.lang})
		checkIntentTags(t, c.text, en)
	}
}

func checkIntentTags(t *testing.T, text string, en *post.Enrichment) {
	t.Helper()
	s := en.IntentScores
	probs := []float32{s.Complaint, s.Question, s.Praise, s.Feedback, s.Purchase, s.Crisis, s.Job, s.Spam}
	for k, pk := range probs {
		if pk < 0 || pk > 1 || pk != pk {
			t.Fatalf("%q: %s probability %v", text, intentNames[k], pk)
		}
		thr := testEnricher().intentsM.intentThreshold(k, en)
		if tagged := slices.Contains(en.Intents, intentNames[k]); tagged != (float64(pk) >= thr) {
			t.Fatalf("%q: %s at %v tagged=%v (threshold %v)", text, intentNames[k], pk, tagged, thr)
		}
	}
	if len(en.Intents) == 0 || slices.Contains(en.Intents, intentOther) && len(en.Intents) != 1 {
		t.Fatalf("%q: intents %v", text, en.Intents)
	}
	if en.IntentConfidence < 0 || en.IntentConfidence > 1 {
		t.Fatalf("%q: confidence %v", text, en.IntentConfidence)
	}
}

// A 1 MB post is tagged in bounded time: only its first 128 words and
// 16 KB count, so tagging it (words already split, as Enrich shares them)
// costs about what a tweet does.
func TestIntentHugePost(t *testing.T) {
	e := testEnricher()
	text := strings.Repeat("my order never arrived 😡 @Acme #fail https://x.y/z ", 1<<20/50)
	p := &post.Post{Text: text}
	words := intentWords(text, nil)
	var en post.Enrichment
	start := time.Now()
	for range 100 {
		e.intents(p, &en, words)
	}
	if d := time.Since(start) / 100; d > 10*time.Millisecond {
		t.Errorf("tagging a 1 MB post took %v", d)
	}
	if !slices.Contains(en.Intents, intentComplaint) {
		t.Errorf("intents %v", en.Intents)
	}
	var f intentFeats
	e.intentsM.features(text, words, &f)
	if f.n > maxIntentFeats {
		t.Errorf("%d features", f.n)
	}
	// The whole path takes it too (seconds under -race: language and
	// sentiment read all of it).
	if testing.Short() {
		return
	}
	if en := e.Enrich(p); !slices.Contains(en.Intents, intentComplaint) {
		t.Errorf("Enrich: intents %v", en.Intents)
	}
}

func FuzzIntentFeatures(f *testing.F) {
	for _, c := range intentCases {
		f.Add(c.text)
	}
	f.Add("@a @b @c @d @e @f #1 #2 #3 #4 #5 #6 http://a http://b http://c ??? ;;; !!! €€€ 💰💰")
	f.Add("\xff\xfe\xc3 invalid ; γιατί;")
	f.Add(strings.Repeat("why ", 1000))
	e := testEnricher()
	f.Fuzz(func(t *testing.T, text string) {
		var fs intentFeats
		e.intentsM.features(text, intentWords(text, nil), &fs)
		if fs.n > maxIntentFeats {
			t.Fatalf("%d features", fs.n)
		}
		for _, i := range fs.idx[:fs.n] {
			if i < 0 || int(i) >= intentFeatureDim {
				t.Fatalf("feature %d out of range", i)
			}
		}
		en := &post.Enrichment{}
		e.intents(&post.Post{Text: text}, en, intentWords(text, nil))
		checkIntentTags(t, text, en)
	})
}

// BenchmarkIntent tags the realistic batch's posts (words already split, as
// Enrich shares them with clustering); allocs/op must be 0.
func BenchmarkIntent(b *testing.B) {
	batch, bytes := realisticBatch(500)
	e := New(Config{})
	words := make([][]string, len(batch.Items))
	enriched := make([]post.Enrichment, len(batch.Items))
	for i, it := range batch.Items {
		words[i] = intentWords(it.Post.Text, nil)
		enriched[i] = *e.Enrich(it.Post)
	}
	// bare: no language or sentiment (the model alone); enriched: as Enrich
	// calls it, so English posts take the complaint blend.
	for _, mode := range []string{"bare", "enriched"} {
		b.Run(mode, func(b *testing.B) {
			var en post.Enrichment
			b.SetBytes(bytes)
			b.ReportAllocs()
			for b.Loop() {
				for i, it := range batch.Items {
					if mode == "enriched" {
						en = enriched[i]
					}
					e.intents(it.Post, &en, words[i])
				}
			}
			b.ReportMetric(float64(b.N*len(batch.Items))/b.Elapsed().Seconds(), "posts/s")
		})
	}
}

// "why…" and "how come…" open a complaint-like question; "how do I…" does
// not.
func TestIntentWhyFirst(t *testing.T) {
	im := testEnricher().intentsM
	for text, want := range map[string]bool{
		"why is my order late": true, "how come my order is late": true, "whats up with the app today": true,
		"γιατί δεν απαντάτε": true, "por qué me cobráis": true,
		"how do I reset the router": false, "what time do you open": false, "come stai": false,
	} {
		var f intentFeats
		im.features(text, intentWords(text, nil), &f)
		if got := slices.Contains(f.idx[:f.n], int32(featWhyFirst)); got != want {
			t.Errorf("%q: why-first %v, want %v", text, got, want)
		}
	}
}

// Posts in languages the intent lexicon does not cover fall back on the
// sentiment, as the rules did: a strongly negative Japanese post is a
// complaint, a strongly positive one praise; a covered-language post is
// left to the model.
func TestIntentSentimentFallback(t *testing.T) {
	e := testEnricher()
	for _, c := range []struct{ lang, text, want string }{
		{"ja", "Acmeのスマホがまた壊れた、最悪", intentComplaint},
		{"ja", "Acmeの新しいカメラは最高、大好き", intentPraise},
		{"zh", "Acme的手机坏了，太差", intentComplaint},
		{"en", "The new Acme phone is out today", intentOther},
	} {
		en := e.Enrich(&post.Post{Text: c.text, Lang: c.lang})
		if !slices.Contains(en.Intents, c.want) {
			t.Errorf("[%s] %q: intents %v (sentiment %.2f), want %s", c.lang, c.text, en.Intents, en.Sentiment, c.want)
		}
		checkIntentTags(t, c.text, en)
	}
}

// On English posts the complaint probability is the model's, moved by the
// sentiment model's negative probability (the blend tuned on the
// complaints set); elsewhere it is the model's own. A negative English post
// scores above what the model alone says, a non-negative one below, and a
// Spanish post is left alone.
func TestIntentComplaintBlend(t *testing.T) {
	e := testEnricher()
	for _, c := range []struct {
		lang, text string
		blended    bool
	}{
		{"en", "@ShopCo still waiting on my order, third email, this is a joke", true},
		{"en", "@ShopCo my order arrived today, lovely packaging", true},
		{"es", "mi pedido nunca llegó y nadie responde", false},
	} {
		p := &post.Post{Text: c.text, Lang: c.lang}
		en := e.Enrich(p)
		var f intentFeats
		e.intentsM.features(p.Text, intentWords(p.Text, nil), &f)
		model := e.intentsM.model.probs(&f)[iComplaint]
		got := float64(en.IntentScores.Complaint)
		if !c.blended {
			if math.Abs(got-model) > 1e-6 || blendComplaint(en) {
				t.Errorf("[%s] %q: complaint %.4f, model %.4f: blended outside English", c.lang, c.text, got, model)
			}
			continue
		}
		want := complaintBlend(model, float64(en.SentimentProbs[0]))
		if math.Abs(got-want) > 1e-6 || math.Abs(got-model) < 1e-3 {
			t.Errorf("[%s] %q: complaint %.4f, model %.4f, blend %.4f (p_neg %.2f)", c.lang, c.text, got, model, want, en.SentimentProbs[0])
		}
		checkIntentTags(t, c.text, en)
	}
	// The blend is monotone in both of its inputs.
	if !(complaintBlend(0.5, 0.9) > complaintBlend(0.5, 0.1) && complaintBlend(0.6, 0.5) > complaintBlend(0.4, 0.5)) {
		t.Error("complaint blend not monotone")
	}
	if p := complaintBlend(0, 0); p < 0 || p > 1 || p != p {
		t.Errorf("complaint blend at 0, 0: %v", p)
	}
}
