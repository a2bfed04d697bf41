package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/digest"
	"github.com/earshot-dev/earshot/insights/themes"
)

// A digest's themes section shows the themes the API shows for its scope:
// labels, sizes, the negative share and typical posts, and nothing of a
// watchlist outside the scope.
func TestDigestThemesFromInsightsThemes(t *testing.T) {
	var m themes.Memory
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	stories := []struct {
		list, text, sentiment string
		n                     int
	}{
		{"acme", "acme battery drains overnight again %d", "negative", 30},
		{"acme", "acme store in athens opened today %d", "positive", 20},
		{"globex", "globex refund never arrived %d", "negative", 25},
	}
	for _, s := range stories {
		for i := range s.n {
			key := fmt.Sprintf("x:%s-%d-%d", s.list, len(s.text), i)
			m.Add(themes.Post{Key: key, Text: fmt.Sprintf(s.text, i), Sentiment: s.sentiment, CreatedAt: t0.Add(time.Duration(i) * time.Minute), Keywords: []string{s.list}},
				themes.Match{Watchlist: s.list, Team: "care", Region: "EMEA"})
		}
	}
	dt := DigestThemes{themes.Bound{Reader: &m, Options: themes.DefaultOptions()}}
	got, err := dt.Themes(context.Background(), digest.Scope{Watchlists: []string{"acme"}}, t0, t0.Add(24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d themes, want 2: %+v", len(got), got)
	}
	for _, th := range got {
		switch {
		case strings.Contains(th.Label, "battery"):
			if th.Size != 30 || th.Negative != 1 {
				t.Errorf("battery theme: %d posts, negative %v; want 30, 1", th.Size, th.Negative)
			}
		case strings.Contains(th.Label, "athens"):
			if th.Size != 20 || th.Negative != 0 {
				t.Errorf("store theme: %d posts, negative %v; want 20, 0", th.Size, th.Negative)
			}
		default:
			t.Errorf("theme %q is neither story of acme", th.Label)
		}
		if len(th.Posts) == 0 || len(th.Posts) > 3 {
			t.Errorf("theme %q: %d typical posts, want 1 to 3", th.Label, len(th.Posts))
		}
		for _, p := range th.Posts {
			if strings.Contains(p, "globex") {
				t.Errorf("theme %q shows a post outside the scope: %q", th.Label, p)
			}
		}
	}
}

// A market-scoped digest's themes are its markets' only.
func TestDigestThemesOfAMarket(t *testing.T) {
	var m themes.Memory
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Minute)
		m.Add(themes.Post{Key: fmt.Sprintf("x:de%d", i), Text: fmt.Sprintf("acme invoice portal login fails %d", i), Sentiment: "negative", CreatedAt: at, Keywords: []string{"acme"}},
			themes.Match{Watchlist: "acme", Team: "care", Region: "EMEA", Market: "DACH"})
		m.Add(themes.Post{Key: fmt.Sprintf("x:gb%d", i), Text: fmt.Sprintf("acme battery drains overnight again %d", i), Sentiment: "negative", CreatedAt: at, Keywords: []string{"acme"}},
			themes.Match{Watchlist: "acme", Team: "care", Region: "EMEA"})
	}
	dt := DigestThemes{themes.Bound{Reader: &m, Options: themes.DefaultOptions()}}
	got, err := dt.Themes(context.Background(), digest.Scope{Watchlists: []string{"acme"}, Markets: []string{"DACH"}}, t0, t0.Add(24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0].Label, "invoice") || got[0].Size != 30 {
		t.Errorf("themes %+v, want DACH's invoice portal (30 posts) only", got)
	}
}
