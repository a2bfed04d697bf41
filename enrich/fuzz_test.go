package enrich

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzGazetteerLookup(f *testing.F) {
	for _, s := range goldenLocations {
		f.Add(s)
	}
	f.Add("Paris, Texas, USA, 🇫🇷🇺🇸, ,,,;;")
	f.Add(strings.Repeat("new york ", 40))
	g := testEnricher().gaz
	f.Fuzz(func(t *testing.T, loc string) {
		m := g.lookup(loc)
		if m.confidence < 0 || m.confidence > 1 {
			t.Fatalf("lookup(%q): confidence %v", loc, m.confidence)
		}
		if m.country != "" && !countryCode.MatchString(m.country) {
			t.Fatalf("lookup(%q): country %q is not an ISO code", loc, m.country)
		}
		if m.joke && (m.country != "" || m.region != "") {
			t.Fatalf("lookup(%q): a joke with a place %+v", loc, m)
		}
		if (m.country != "" || m.region != "") != (m.confidence > 0) {
			t.Fatalf("lookup(%q): %+v", loc, m)
		}
	})
}

func FuzzTokenizers(f *testing.F) {
	for _, p := range goldenPosts {
		f.Add(p.text)
	}
	f.Add("n'est-ce pas?! :-) 🇬🇷 #tag @user https://x.y/z?q=1 jane@doe.com +30 210 1234567")
	f.Add("\xff\xfe invalid utf8 \xc3")
	e := testEnricher()
	f.Fuzz(func(t *testing.T, text string) {
		var buf [64]rune
		letterWords(text, buf[:], func(w []rune) bool {
			if len(w) == 0 {
				t.Fatalf("letterWords(%q): empty word", text)
			}
			for _, r := range w {
				if r == ' ' || r == '@' || r == '#' {
					t.Fatalf("letterWords(%q): %q in word %q", text, r, string(w))
				}
			}
			return true
		})
		for _, w := range intentWords(text, nil) {
			if w == "" || strings.ContainsAny(w, " \t\n'") {
				t.Fatalf("intentWords(%q): word %q", text, w)
			}
		}
		for _, lang := range []string{"en", "el", "fr", "und"} {
			s := e.senti.score(text, lang)
			if s.score < -1 || s.score > 1 || s.confidence < 0 || s.confidence > 1 {
				t.Fatalf("score(%q, %s) = %+v", text, lang, s)
			}
		}
		l, c := e.DetectLanguage(text, "en")
		if l == "" || c < 0 || c > 1 {
			t.Fatalf("DetectLanguage(%q) = %q %v", text, l, c)
		}
		r := redactPII(text)
		if utf8.ValidString(text) && !utf8.ValidString(r) {
			t.Fatalf("redactPII(%q) = %q: invalid UTF-8", text, r)
		}
		if !strings.Contains(text, "@") && !strings.ContainsAny(text, "0123456789") && r != text {
			t.Fatalf("redactPII(%q) changed text without PII: %q", text, r)
		}
	})
}
