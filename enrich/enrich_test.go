package enrich

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

// One enricher for the read-only tests: loading the models takes ~0.1 s.
var testEnricher = sync.OnceValue(func() *Enricher { return New(Config{}) })

// VADER's published examples (vaderSentiment README) and their compound
// scores: the English model must reproduce them.
func TestVADERReference(t *testing.T) {
	m := testEnricher().senti
	for _, c := range []struct {
		text string
		want float64
	}{
		{"VADER is smart, handsome, and funny.", 0.8316},
		{"VADER is smart, handsome, and funny!", 0.8439},
		{"VADER is very smart, handsome, and funny.", 0.8545},
		{"VADER is VERY SMART, handsome, and FUNNY.", 0.9227},
		{"VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342},
		{"VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469},
		// VADER negates "handsome" across the comma; earshot stops negation
		// at a clause end ("refund never came, terrible"), so only "smart"
		// and "funny" are negated here.
		{"VADER is not smart, handsome, nor funny.", -0.1190},
		{"The book was good.", 0.4404},
		{"At least it isn't a horrible book.", 0.431},
		{"The book was only kind of good.", 0.3832},
		{"The plot was good, but the characters are uncompelling and the dialog is not great.", -0.7042},
		{"Today SUX!", -0.5461},
		{"Today only kinda sux! But I'll get by, lol", 0.5249},
		{"Make sure you :) or :D today!", 0.8633},
		{"Not bad at all", 0.431},
		{"", 0},
	} {
		got := m.lexScore(c.text, "en").score
		if math.Abs(got-c.want) > 0.002 {
			t.Errorf("score(%q) = %.4f, VADER gives %.4f", c.text, got, c.want)
		}
	}
}

func TestSentimentRules(t *testing.T) {
	m := testEnricher().senti
	f := func(lang, text, want string) {
		t.Helper()
		s := m.score(text, lang)
		if s.label != want || s.score < -1 || s.score > 1 || s.confidence < 0 || s.confidence > 1 {
			t.Errorf("[%s] %q = %.3f %s (conf %.2f), want %s", lang, text, s.score, s.label, s.confidence, want)
		}
	}
	// negation, per language
	f("en", "it is not good", "negative")
	f("es", "no es bueno", "negative")
	f("fr", "ce n'est pas bon", "negative")
	f("de", "das ist nicht gut", "negative")
	f("pt", "não é bom", "negative")
	f("it", "non è buono", "negative")
	f("el", "δεν είναι καλό", "negative")
	f("en", "not bad at all", "positive")
	f("es", "no está mal", "positive")
	// positives, negatives per language, accents dropped as people type
	f("es", "pesimo servicio", "negative")
	f("el", "λατρευω το νεο κινητο", "positive")
	f("de", "Ich hasse dieses Handy", "negative")
	f("pt", "adorei, muito bom", "positive")
	f("it", "servizio pessimo, che schifo", "negative")
	f("fr", "génial, merci", "positive")
	// written laughter, outside English
	f("es", "jajajaja", "positive")
	f("pt", "kkkkkk", "positive")
	f("fr", "mdr", "positive")
	f("es", "jamón", "neutral")
	// emoji and emoticons count in every language
	f("und", "🎉🎉", "positive")
	f("und", "😡", "negative")
	f("ja", "最悪 😡", "negative")
	f("ja", "Acmeのスマホがまた壊れた、最悪", "negative")
	f("en", ":(", "negative")
	// sarcasm markers turn praise around
	f("en", "great, it broke again /s", "negative")
	f("en", "Love waiting two hours on hold 🙄", "negative")
	// empty and URL-only text carry no sentiment
	f("en", "", "neutral")
	f("en", "https://example.com/great-awesome-love", "neutral")
	f("en", "@best_friend_ever", "neutral")
}

func TestSentimentEmphasis(t *testing.T) {
	m := testEnricher().senti
	base := m.score("the service was good", "en").score
	for _, s := range []string{"the service was very good", "the service was GOOD", "the service was good!!!"} {
		if got := m.score(s, "en").score; got <= base {
			t.Errorf("%q = %.3f, want more than %q = %.3f", s, got, "the service was good", base)
		}
	}
	// "but": the clause after it dominates
	if s := m.score("the screen is great but the battery is awful", "en").score; s >= 0 {
		t.Errorf("but-clause: %.3f, want negative", s)
	}
	if s := m.score("la pantalla es mala pero la batería es excelente", "es").score; s <= 0 {
		t.Errorf("pero-clause: %.3f, want positive", s)
	}
}

func TestLanguage(t *testing.T) {
	e := testEnricher()
	f := func(text, declared, want string) {
		t.Helper()
		got, conf := e.DetectLanguage(text, declared)
		if got != want || conf < 0 || conf > 1 {
			t.Errorf("DetectLanguage(%q, %q) = %s %.2f, want %s", text, declared, got, conf, want)
		}
	}
	f("Η εξυπηρέτηση πελατών ήταν απαράδεκτη", "", "el")
	f("Ich warte seit zwei Wochen auf mein Paket", "", "de")
	f("Je n'ai toujours pas reçu mon colis", "", "fr")
	f("Todavía no he recibido mi pedido", "", "es")
	f("Ainda não recebi a minha encomenda", "", "pt")
	f("Non ho ancora ricevuto il mio pacco", "", "it")
	f("Я до сих пор не получил свой заказ", "", "ru")
	f("لم أستلم طلبي بعد", "", "ar")             // right to left
	f("עדיין לא קיבלתי את ההזמנה שלי", "", "he") // right to left
	f("まだ注文が届いていません", "", "ja")
	f("아직 주문을 받지 못했습니다", "", "ko")
	f("我还没有收到我的订单", "", "zh")
	// hashtags, mentions, URLs and emoji are not language
	f("#acme #love @acme_support https://acme.com 🎉🎉", "", "und")
	f("https://example.com/das-ist-ein-deutscher-satz", "", "und")
	f("", "en", "und")
	f("😍😍😍", "en", "und")
	// a German hashtag does not make it German; three words may be und
	// (issue 15: 1–3 words get a low confidence)
	if got, _ := e.DetectLanguage("I love it @acme #ichliebees", ""); got != "en" && got != "und" {
		t.Errorf("DetectLanguage(%q) = %s, want en or und", "I love it @acme #ichliebees", got)
	}
	f("I love it so much, the camera is great @acme #ichliebees", "", "en")
	// the declared language is evidence, not truth
	f("Das ist wirklich ein sehr gutes Telefon", "en", "de")
	// Gujarati: a script we have no model for
	f("મને આ ફોન ગમે છે", "", "und")
}

// TestLanguageHeldOut checks accuracy on the Tatoeba rows the profiles
// were not built from, when the data is at hand.
func TestLanguageHeldOut(t *testing.T) {
	const path = "/work/shared/data/langid/tatoeba_laser_112.tsv"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skip("no langid data:", err)
	}
	e := testEnricher()
	var out bytes.Buffer
	if err := e.Evaluate("language", bytes.NewReader(data), &out, EvalOptions{HeldOut: true}); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, l := range e.Languages() {
		known[l] = true
	}
	n, ok := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l, text, _ := strings.Cut(sc.Text(), "\t")
		if !known[l] || !LangIDTestRow(text) {
			continue
		}
		n++
		if got, _ := e.DetectLanguage(text, ""); got == l {
			ok++
		}
	}
	if acc := float64(ok) / float64(n); acc < 0.88 || len(known) < 60 {
		t.Errorf("held-out accuracy %.3f on %d rows, %d languages; want ≥ 0.88 and ≥ 60", acc, n, len(known))
	}
}

func TestRegion(t *testing.T) {
	e := New(Config{Regions: map[string][]string{"DACH": {"DE", "AT", "CH"}}})
	f := func(p post.Post, lang, country, region, source string) {
		t.Helper()
		en := &post.Enrichment{Region: "unknown", Lang: lang, LangConfidence: 0.9}
		e.region(&p, en)
		if en.Country != country || en.Region != region || en.RegionSource != source {
			t.Errorf("%+v: got %s/%s/%s, want %s/%s/%s", p, en.Country, en.Region, en.RegionSource, country, region, source)
		}
		if en.RegionConfidence < 0 || en.RegionConfidence > 1 || (region != "unknown") != (en.RegionConfidence > 0) {
			t.Errorf("%+v: confidence %.2f for region %s", p, en.RegionConfidence, region)
		}
	}
	f(post.Post{Country: "gr"}, "", "GR", "EMEA", "place")
	f(post.Post{Geo: &post.Geo{Country: "JP"}, Country: "GR"}, "", "JP", "APAC", "geo")
	f(post.Post{Geo: &post.Geo{Place: "Athens, Greece"}}, "", "GR", "EMEA", "place")
	f(post.Post{Author: post.Author{Location: "Brooklyn, New York"}}, "", "US", "NA", "profile")
	f(post.Post{Author: post.Author{Location: "Αθήνα"}}, "", "GR", "EMEA", "profile")
	f(post.Post{Author: post.Author{Location: "München"}}, "", "DE", "DACH", "profile")
	f(post.Post{Country: "BR"}, "", "BR", "LATAM", "place")
	// the profile outranks the language; the language is the last resort
	f(post.Post{Author: post.Author{Location: "Toronto"}}, "el", "CA", "NA", "profile")
	f(post.Post{}, "el", "GR", "EMEA", "language")
	f(post.Post{}, "de", "", "DACH", "language")
	f(post.Post{}, "en", "", "unknown", "")
	// jokes are no place, and then the language decides
	f(post.Post{Author: post.Author{Location: "the moon"}}, "", "", "unknown", "")
	f(post.Post{Author: post.Author{Location: "Everywhere"}}, "ja", "JP", "APAC", "language")
	f(post.Post{Author: post.Author{Location: "somewhere nice"}}, "", "", "unknown", "")
}

func TestInfluence(t *testing.T) {
	p := func(platform string, followers int64, likes int64, verified bool) *post.Post {
		return &post.Post{Platform: platform, Author: post.Author{Followers: followers, Verified: verified},
			Engagement: &post.Engagement{Likes: likes}}
	}
	order := []*post.Post{p("x", 0, 0, false), p("x", 100, 0, false), p("x", 100, 10, false),
		p("x", 10_000, 10, false), p("x", 10_000, 10, true), p("x", 50_000_000, 1_000_000, true)}
	prev := -1.0
	for _, q := range order {
		s := influence(q)
		if s <= prev || s < 0 || s > 100 {
			t.Errorf("influence(%+v) = %.1f after %.1f: want increasing in [0, 100]", q.Author, s, prev)
		}
		prev = s
	}
	if influence(p("mastodon", 1000, 0, false)) <= influence(p("x", 1000, 0, false)) {
		t.Error("1,000 followers on Mastodon should weigh more than on X")
	}
	if s := influence(&post.Post{Author: post.Author{Followers: -5}}); s != 0 {
		t.Errorf("negative followers: %.1f", s)
	}
	// Counts near the int64 limit, which ingest accepts (it refuses only
	// negative ones): the weighted sum overflowed to a negative number and
	// the score was NaN, which no JSON encoding (an alert, a dead letter)
	// can write, so route retried the batch for ever.
	for _, g := range []post.Engagement{{Reposts: math.MaxInt64/2 + 1}, {Likes: 1 << 62, Replies: 1 << 62}, {Quotes: 5e18},
		{Likes: math.MaxInt64, Reposts: math.MaxInt64, Replies: math.MaxInt64, Quotes: math.MaxInt64}} {
		q := &post.Post{Platform: "mastodon", Author: post.Author{Followers: math.MaxInt64, Verified: true}, Engagement: &g}
		if s := influence(q); math.IsNaN(s) || s != 100 {
			t.Errorf("influence with engagement %+v and the most followers: %v, want 100", g, s)
		}
	}
}

func TestClusters(t *testing.T) {
	e := New(Config{ClusterWindow: Duration(time.Minute), ClusterCapacity: 100})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	text := "Acme phone exploded in my pocket, this is the third time this month, never buying again"
	var id string
	for i := range 1000 {
		p := &post.Post{Platform: "x", ID: fmt.Sprint(i), Text: text, CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
		if i%3 == 1 {
			p.Text = "RT @someone: " + text + " https://t.co/x" + fmt.Sprint(i) // a repost with a link
		}
		if i%3 == 2 {
			p.Text = strings.ToUpper(text) + "!!"
		}
		en := e.Enrich(p)
		if i == 0 {
			id = en.ClusterID
		}
		if en.ClusterID != id || en.ClusterSize != i+1 {
			t.Fatalf("copy %d: cluster %s size %d, want %s size %d", i, en.ClusterID, en.ClusterSize, id, i+1)
		}
	}
	// A redelivered copy does not grow the cluster.
	again := e.Enrich(&post.Post{Platform: "x", ID: "7", Text: text, CreatedAt: t0.Add(7 * time.Millisecond)})
	if again.ClusterID != id || again.ClusterSize != 1000 {
		t.Errorf("redelivered copy: cluster %s size %d, want %s size 1000", again.ClusterID, again.ClusterSize, id)
	}
	other := e.Enrich(&post.Post{Platform: "x", ID: "o", Text: "Loving the new Acme watch, battery lasts for days", CreatedAt: t0})
	if other.ClusterID == id || other.ClusterSize != 1 {
		t.Errorf("a different post joined cluster %s (size %d)", other.ClusterID, other.ClusterSize)
	}
	// after the window the cluster is forgotten
	late := e.Enrich(&post.Post{Platform: "x", ID: "late", Text: text, CreatedAt: t0.Add(time.Hour)})
	if late.ClusterSize != 1 || late.ClusterID == id {
		t.Errorf("after the window: cluster %s size %d, want a new one", late.ClusterID, late.ClusterSize)
	}
	// memory stays bounded
	for i := range 1000 {
		e.Enrich(&post.Post{Platform: "x", ID: fmt.Sprint("u", i), Text: fmt.Sprintf("unique post number %d about %d things", i, i*7919), CreatedAt: t0.Add(time.Hour)})
	}
	if n := e.clusters.len(); n > 100 {
		t.Errorf("%d clusters remembered, capacity 100", n)
	}
}

func TestRedactPII(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := redactPII(in); got != want {
			t.Errorf("redactPII(%q) = %q, want %q", in, got, want)
		}
	}
	f("mail me at jane.doe+acme@example.co.uk.", "mail me at [email].")
	f("call +30 210 123 4567 or (212) 555-0199 now", "call [phone] or [phone] now")
	f("order 2024-01-15 arrives at 10:30", "order 2024-01-15 arrives at 10:30")
	f("ping @acme_support about #123456789", "ping @acme_support about #123456789")
	f("no pii here", "no pii here")
	f("", "")
	e := New(Config{})
	if en := e.Enrich(&post.Post{Text: "jane@example.com"}); en.RedactedText != "" {
		t.Errorf("redaction is off by default, got %q", en.RedactedText)
	}
	e = New(Config{RedactPII: true})
	if en := e.Enrich(&post.Post{Text: "jane@example.com"}); en.RedactedText != "[email]" {
		t.Errorf("redaction on: got %q", en.RedactedText)
	}
}

// TestStageConcurrent runs the stage from several goroutines (run with
// -race), as the runner's workers do.
func TestStageConcurrent(t *testing.T) {
	stage := New(Config{}).Stage()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch, _ := realisticBatch(200)
			for _, it := range batch.Items {
				it.Post.ID += fmt.Sprint("-", w)
			}
			out, err := stage(context.Background(), batch)
			if err != nil {
				t.Error(err)
				return
			}
			for _, it := range out.Items {
				en := it.Enrichment
				if en == nil || en.Lang == "" || en.Region == "" || en.SentimentLabel == "" || len(en.Intents) == 0 {
					t.Errorf("incomplete enrichment %+v", en)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestValidate(t *testing.T) {
	err := Config{
		Regions:           map[string][]string{"A": {"de"}, "B": {"FR"}, "C": {"FR"}},
		LangMinConfidence: 2, ClusterWindow: -1, ClusterCapacity: -1,
	}.Validate()
	for _, want := range []string{`"de" is not`, "FR is in both", "lang_min_confidence", "cluster_window", "cluster_capacity"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestEvaluate(t *testing.T) {
	e := testEnricher()
	in := "en\tpos\tI love this phone\nen\tneg\tthis phone is terrible\nen\tneu\tthe phone is blue\nes\tpos\tme encanta\n"
	var out bytes.Buffer
	if err := e.Evaluate("sentiment", strings.NewReader(in), &out, EvalOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"en    3     100.0%", "es    1     100.0%", "gold\\pred"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := e.Evaluate("sentiment", strings.NewReader("1\t2.5\tgreat\n2\t-3\tawful\n3\t0.1\tok then\n"), &out, EvalOptions{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pearson_r") || strings.Contains(out.String(), "  -\n") {
		t.Errorf("continuous labels should give Pearson r:\n%s", out.String())
	}
	if err := e.Evaluate("colour", strings.NewReader(in), &out, EvalOptions{}); err == nil {
		t.Error("unknown kind accepted")
	}
	if err := e.Evaluate("sentiment", strings.NewReader("en\tmaybe\ttext\n"), &out, EvalOptions{}); err == nil {
		t.Error("bad label accepted")
	}
}

func TestConfigYAML(t *testing.T) {
	var c Config
	err := strictyaml.Decode("test.yaml", []byte("regions: {DACH: [DE, AT]}\nlang_min_confidence: 0.6\nredact_pii: true\ncluster_window: 5m\ncluster_capacity: 10\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClusterWindow.Duration() != 5*time.Minute || !c.RedactPII || c.LangMinConfidence != 0.6 || c.ClusterCapacity != 10 {
		t.Errorf("decoded %+v", c)
	}
	if err := strictyaml.Decode("test.yaml", []byte("cluster_window: soon\n"), &c); err == nil {
		t.Error("bad duration accepted")
	}
	if err := strictyaml.Decode("test.yaml", []byte("colour: blue\n"), &c); err == nil {
		t.Error("unknown key accepted")
	}
}

// TestSyntheticLanguageAgreement: on the synthetic firehose, whose
// templates are written per language, detection should agree with the
// declared language nearly always, and mostly even without it.
func TestSyntheticLanguageAgreement(t *testing.T) {
	e := testEnricher()
	batch, _ := realisticBatch(20000)
	with, without := 0, 0
	for _, it := range batch.Items {
		p := it.Post
		if l, _ := e.DetectLanguage(p.Text, p.Lang); l == p.Lang {
			with++
		}
		if l, _ := e.DetectLanguage(p.Text, ""); l == p.Lang {
			without++
		}
	}
	n := float64(len(batch.Items))
	t.Logf("agreement with the declared language: %.1f%% using it as evidence, %.1f%% without", 100*float64(with)/n, 100*float64(without)/n)
	if float64(with)/n < 0.97 || float64(without)/n < 0.9 {
		t.Errorf("agreement %.3f / %.3f, want ≥ 0.97 / 0.90", float64(with)/n, float64(without)/n)
	}
}
