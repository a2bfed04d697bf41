package enrich

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s line %d:\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}

// goldenPosts are posts per language and the hard cases of the issue:
// negation, sarcasm, emoji only, mixed languages, empty text, a URL only,
// right-to-left scripts.
var goldenPosts = []struct{ lang, text string }{
	{"en", "I love my new Acme phone, the camera is amazing!"},
	{"en", "My Acme phone is not good. Support never answered, still waiting for a refund"},
	{"en", "The screen is great but the battery is TERRIBLE"},
	{"en", "How do I reset my Acme router?"},
	{"en", "Oh great, my phone died again. Best product ever /s"},
	{"en", "Thinking of buying the new Acme watch, where can I buy it in Berlin?"},
	{"en", "We're hiring! Join our team as a support engineer, apply now https://jobs.example.com"},
	{"en", "My Acme charger caught fire last night, my kid was almost injured"},
	{"en", "FREE followers!!! click here #follow #like #win #free #promo #giveaway http://spam.example"},
	{"el", "Λατρεύω το νέο κινητό της Acme, εξαιρετική κάμερα!"},
	{"el", "Το κινητό δεν είναι καλό, απαράδεκτη εξυπηρέτηση πελατών"},
	{"el", "Πού μπορώ να αγοράσω το νέο ρολόι;"},
	{"es", "Me encanta mi nuevo teléfono, es excelente"},
	{"es", "El teléfono no es bueno, quiero un reembolso"},
	{"es", "¿Dónde comprar el nuevo reloj de Acme?"},
	{"fr", "J'adore mon nouveau téléphone, il est génial"},
	{"fr", "Ce téléphone n'est pas bon, le service client est nul"},
	{"de", "Ich liebe mein neues Handy, wirklich toll"},
	{"de", "Das Handy ist nicht gut, totaler Betrug"},
	{"pt", "Adoro o meu novo telemóvel, é ótimo"},
	{"pt", "O telefone não é bom, quero reembolso"},
	{"it", "Adoro il mio nuovo telefono, è fantastico"},
	{"it", "Il telefono non è buono, servizio pessimo"},
	{"ja", "Acmeのスマホがまた壊れた、最悪"},
	{"ar", "أحب هاتفي الجديد من أكمي، إنه رائع جدا"},
	{"he", "אני אוהב את הטלפון החדש שלי"},
	{"", "🎉🎉😍"},
	{"", "😡💔"},
	{"", ""},
	{"", "https://example.com/acme/phone"},
	{"", "@acme @support #acme"},
	{"en", "Acme est génial mais the battery is awful"},
	{"fr", "The new Acme phone is out today"},
}

func TestGoldenTags(t *testing.T) {
	e := New(Config{RedactPII: true})
	var lang, senti, intent strings.Builder
	for _, g := range goldenPosts {
		p := &post.Post{Platform: "x", ID: g.text, Text: g.text, Lang: g.lang}
		en := e.Enrich(p)
		fmt.Fprintf(&lang, "%-3s %-4s %.2f | %s\n", g.lang, en.Lang, en.LangConfidence, g.text)
		fmt.Fprintf(&senti, "%-4s %-8s %+.3f %.2f | %s\n", en.Lang, en.SentimentLabel, en.Sentiment, en.SentimentConfidence, g.text)
		fmt.Fprintf(&intent, "%-4s %-24s %.2f | %s\n", en.Lang, strings.Join(en.Intents, ","), en.IntentConfidence, g.text)
	}
	golden(t, "language.golden", lang.String())
	golden(t, "sentiment.golden", senti.String())
	golden(t, "intent.golden", intent.String())
}

var goldenLocations = []string{
	"Brooklyn, NY", "NYC", "New York", "Paris, Texas", "Paris", "London, Ontario", "Tbilisi, Georgia",
	"Atlanta, Georgia", "Georgia", "Perth, WA", "Seattle, WA", "Αθήνα", "Athens, Greece", "Θεσσαλονίκη 🇬🇷",
	"München", "Munich, Bavaria", "muenchen", "São Paulo", "sao paulo, brasil", "CDMX", "Ciudad de México",
	"Bogotá, Colombia", "東京", "서울", "Mumbai, India", "Lagos 🇳🇬", "🇩🇪", "Europe", "Latin America",
	"somewhere in Europe", "living in London", "the moon", "Everywhere", "the internet", "Mars", "Nice",
	"somewhere nice", "in your heart", "Zürich", "Genève", "Kyiv", "Москва", "Tel Aviv", "القاهرة", "Dubai, UAE",
	"", "🌍", "Earth", "ATX", "SF Bay Area", "Reading, UK", "Split, Croatia",
}

func TestGoldenRegions(t *testing.T) {
	e := New(Config{})
	var b strings.Builder
	for _, loc := range goldenLocations {
		en := &post.Enrichment{Region: "unknown"}
		e.region(&post.Post{Author: post.Author{Location: loc}}, en)
		fmt.Fprintf(&b, "%-24q %-2s %-7s %-8s %.2f\n", loc, en.Country, en.Region, en.RegionSource, en.RegionConfidence)
	}
	golden(t, "region.golden", b.String())
}
