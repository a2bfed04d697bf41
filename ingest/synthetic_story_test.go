package ingest

import (
	"strings"
	"testing"
	"time"
)

// TestSyntheticStory: every brand post of the firehose tells exactly one
// story, chatter none, and a repost its original's.
func TestSyntheticStory(t *testing.T) {
	s := NewSynthetic(SyntheticConfig{Seed: 3, BrandRate: 0.5, Start: time.Unix(0, 0)})
	stories := map[string]int{}
	for range 5_000 {
		p := s.Post()
		got := SyntheticStory(p.Text)
		mentions := false
		for _, b := range brands {
			mentions = mentions || strings.Contains(p.Text, b.name)
		}
		if mentions != (got != "") {
			t.Fatalf("%q: story %q", p.Text, got)
		}
		n := 0
		for _, sp := range storyPatterns() {
			if sp.re.MatchString(p.Text) {
				n++
			}
		}
		if mentions && n != 1 {
			t.Errorf("%q tells %d stories", p.Text, n)
		}
		stories[got]++
	}
	if len(stories) < 60 {
		t.Errorf("%d stories told, want most of the templates", len(stories))
	}
	for _, c := range []struct{ text, want string }{
		{"my Acme router is broken again, worst experience ever 😡 #acme", "en.neg.0"},
		{"coffee first, then everything else. Globex charged me twice, awful support https://example.com/p/1", "en.neg.2"},
		{"το κινητό της Initech χάλασε πάλι, απαίσια εμπειρία", "el.neg.0"},
		{"just got back from the gym", ""},
	} {
		if got := SyntheticStory(c.text); got != c.want {
			t.Errorf("%q: %q, want %q", c.text, got, c.want)
		}
	}
}
