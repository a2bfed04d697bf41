package enrich

import (
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

func TestSentiment(t *testing.T) {
	f := func(text, want string) {
		t.Helper()
		s := sentiment(text)
		if got := label(s); got != want || s < -1 || s > 1 {
			t.Errorf("sentiment(%q) = %.3f (%s), want %s", text, s, got, want)
		}
	}
	f("I love my new Acme phone", "positive")
	f("my Acme phone is broken again, worst experience ever", "negative")
	f("it is not good", "negative")
	f("Acme announced a new phone today", "neutral")
	f("το κινητό της Acme χάλασε πάλι, απαίσια εμπειρία", "negative")
	f("λατρεύω το νέο κινητό", "positive")
	f("mein Handy ist kaputt", "negative")
	f("Acmeのスマホがまた壊れた、最悪", "negative")
	f("🎉🎉", "positive")
}

func TestRegion(t *testing.T) {
	e := New(Config{Regions: map[string][]string{"DACH": {"DE", "AT", "CH"}}})
	f := func(p post.Post, country, region string) {
		t.Helper()
		en := e.Enrich(&p)
		if en.Country != country || en.Region != region {
			t.Errorf("%+v: got %s/%s, want %s/%s", p, en.Country, en.Region, country, region)
		}
	}
	f(post.Post{Country: "gr"}, "GR", "EMEA")
	f(post.Post{Geo: &post.Geo{Country: "JP"}, Country: "GR"}, "JP", "APAC")
	f(post.Post{Author: post.Author{Location: "Brooklyn, New York"}}, "US", "NA")
	f(post.Post{Author: post.Author{Location: "Αθήνα"}}, "GR", "EMEA")
	f(post.Post{Country: "BR"}, "BR", "LATAM")
	f(post.Post{Country: "DE"}, "DE", "DACH")
	f(post.Post{Author: post.Author{Location: "the moon"}}, "", "unknown")
}

func TestValidate(t *testing.T) {
	err := Config{Regions: map[string][]string{"A": {"de"}, "B": {"FR"}, "C": {"FR"}}}.Validate()
	for _, want := range []string{`"de" is not`, "FR is in both"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Error(err)
	}
}
