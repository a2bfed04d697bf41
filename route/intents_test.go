package route

import (
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/post"
)

// Routing on intents, with posts tagged by the real enricher: crisis to
// legal, product feedback to R&D, complaints to care; and every intent the
// enricher can tag is one a rule may name.
const intentPolicy = `
queues: [legal, rnd, care]
rules:
  - name: not-customers
    when: {intents: [spam, job]}
    suppress: not a customer
  - name: crisis
    when: {intents: [crisis]}
    queue: legal
    priority: P1
  - name: product-feedback
    when: {intents: [feedback]}
    queue: rnd
    priority: P4
  - name: complaints
    when: {intents: [complaint]}
    queue: care
    priority: P2
`

func TestRouteByIntent(t *testing.T) {
	p, err := load(t, intentPolicy)
	if err != nil {
		t.Fatal(err)
	}
	e := enrich.New(enrich.Config{Clustering: "off"})
	for _, c := range []struct{ text, want string }{
		{"the app should let me export to CSV", "product-feedback"},
		{"@Notely please add a dark mode, my eyes 😵", "product-feedback"},
		{"deberían añadir la opción de exportar a CSV", "product-feedback"},
		{"@ShopCo charged me twice for the same order", "complaints"},
		{"my order never arrived and it's been 3 weeks @ParcelNow", "complaints"},
		{"my Acme heater caught fire last night, this is dangerous", "crisis"},
		{"We're hiring a backend engineer in Berlin, apply now https://jobs.example.com/42", "not-customers"},
		{"The new Acme phone is out today", ""},
	} {
		it := &post.Item{Post: &post.Post{Platform: "x", ID: "1", Text: c.text}, Matches: []post.Match{{Watchlist: "acme"}}}
		it.Enrichment = e.Enrich(it.Post)
		got := ""
		if r := p.Decide(it); r != nil {
			got = r.Name
		}
		if got != c.want {
			t.Errorf("%q (intents %v): rule %q, want %q", c.text, it.Enrichment.Intents, got, c.want)
		}
	}
}

func TestIntentNamesValid(t *testing.T) {
	for _, name := range enrich.IntentNames() {
		if !slices.Contains(intents, name) {
			t.Errorf("the enricher tags %q, which routing rules cannot name", name)
		}
	}
	_, err := load(t, "queues: [rnd]\nrules:\n  - {name: a, when: {intents: [feature-request]}, queue: rnd, priority: P4}\n")
	if err == nil || !strings.Contains(err.Error(), `intent "feature-request"`) || !strings.Contains(err.Error(), "feedback") {
		t.Errorf("error %v, want it to name the bad intent and list feedback", err)
	}
}
