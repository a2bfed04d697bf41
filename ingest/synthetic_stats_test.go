package ingest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/post"
)

// TestSyntheticDeletesAndCrisis: deletes name earlier posts, and a crisis
// multiplies its brand's volume with negative posts for its window only.
func TestSyntheticDeletesAndCrisis(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := SyntheticConfig{Seed: 7, Rate: 1000, BrandRate: 0.1, Start: start, DeleteRate: 0.02,
		Crises: []Crisis{{Brand: "Globex", At: 20 * time.Second, Duration: 10 * time.Second}}}
	s := NewSynthetic(cfg)
	seen := map[string]bool{}
	deletes := 0
	globex := map[string]int{} // by phase
	negative := 0
	for range 40_000 { // 40 s of post time at 1,000/s
		p := s.Post()
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if p.Kind == post.KindDelete {
			deletes++
			if !seen[p.ID] {
				t.Fatalf("delete of %s, never posted", p.ID)
			}
			delete(seen, p.ID)
			continue
		}
		seen[p.ID] = true
		off := p.CreatedAt.Sub(start)
		phase := "before"
		if off >= 20*time.Second && off < 30*time.Second {
			phase = "during"
		} else if off >= 30*time.Second {
			phase = "after"
		}
		if strings.Contains(p.Text, "Globex") && p.RepostOf == "" {
			globex[phase]++
			if phase == "during" && isNegative(p) {
				negative++
			}
		}
	}
	if deletes < 600 || deletes > 1000 {
		t.Errorf("%d deletes in 40,000 records at delete_rate 0.02", deletes)
	}
	// Globex's usual share is 0.1 × 3/10: 600 in 20 s; ×20 in 10 s is about 6,000
	usual := float64(globex["before"]) / 20
	if during := float64(globex["during"]) / 10; during < 15*usual || during > 25*usual {
		t.Errorf("Globex per second: %.0f before, %.0f during the crisis; want about ×20", usual, during)
	}
	if after := float64(globex["after"]) / 10; after > 2*usual {
		t.Errorf("Globex per second after the crisis: %.0f, usual %.0f", after, usual)
	}
	if negative < globex["during"]*9/10 {
		t.Errorf("%d of %d Globex posts during the crisis are negative", negative, globex["during"])
	}
	// the same seed gives the same stream, deletes and crises included
	a, b := NewSynthetic(cfg), NewSynthetic(cfg)
	for i := range 5000 {
		if pa, pb := a.Post(), b.Post(); pa.ID != pb.ID || pa.Text != pb.Text || pa.Kind != pb.Kind {
			t.Fatalf("record %d differs between two runs of one seed", i)
		}
	}
}

// isNegative reports whether p's text comes from a negative template.
func isNegative(p *post.Post) bool {
	for _, l := range languages {
		if l.code != p.Lang {
			continue
		}
		for _, tmpl := range l.neg {
			head, _, _ := strings.Cut(tmpl, "{")
			if head == "" {
				_, rest, _ := strings.Cut(tmpl, "}")
				head, _, _ = strings.Cut(rest, "{")
			}
			if strings.Contains(p.Text, strings.TrimSpace(head)) {
				return true
			}
		}
	}
	return false
}

// TestSyntheticStats measures the firehose that benchmarks run on (seed 7,
// brand_rate 0.1) and checks it against the figures in docs/ingest.md. Run
// with -v to print them.
func TestSyntheticStats(t *testing.T) {
	const n = 100_000
	s := NewSynthetic(SyntheticConfig{Seed: 7, BrandRate: 0.1, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	var lens []int
	langs := map[string]int{}
	var acme, competitors, reposts, tags, mentions, urls, country, location int
	for range n {
		p := s.Post()
		lens = append(lens, utf8.RuneCountInString(p.Text))
		langs[p.Lang]++
		low := strings.ToLower(p.Text)
		if strings.Contains(low, "acme") {
			acme++
		}
		if (strings.Contains(low, "globex") || strings.Contains(low, "initech")) && !strings.Contains(low, "hiring") && !strings.Contains(low, "apply now") {
			competitors++
		}
		if p.RepostOf != "" {
			reposts++
			if p.RepostOf == "synthetic:" || p.Text == "" {
				t.Fatalf("repost of nothing: %+v", p)
			}
		}
		if len(p.Hashtags) > 0 {
			tags++
		}
		if len(p.Mentions) > 0 {
			mentions++
		}
		if len(p.URLs) > 0 {
			urls++
		}
		if p.Country != "" {
			country++
		}
		if p.Author.Location != "" {
			location++
		}
	}
	sort.Ints(lens)
	q := func(f float64) int { return lens[int(f*float64(n-1))] }
	pct := func(k int) string { return fmt.Sprintf("%.1f %%", 100*float64(k)/n) }
	var codes []string
	for c := range langs {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return langs[codes[i]] > langs[codes[j]] })
	var ls []string
	for _, c := range codes {
		ls = append(ls, c+" "+pct(langs[c]))
	}
	t.Logf("text length in characters: p10 %d, p50 %d, p90 %d, p99 %d, max %d", q(0.1), q(0.5), q(0.9), q(0.99), lens[n-1])
	t.Logf("languages: %s", strings.Join(ls, ", "))
	t.Logf("mention acme %s, globex/initech (not hiring) %s, reposts %s, hashtags %s, mentions %s, urls %s, country %s, profile location %s",
		pct(acme), pct(competitors), pct(reposts), pct(tags), pct(mentions), pct(urls), pct(country), pct(location))
	if len(langs) < 8 || langs["el"] == 0 {
		t.Errorf("languages %v", langs)
	}
	if acme < n*5/100 || acme > n*8/100 || competitors < n*4/100 || competitors > n*7/100 {
		t.Errorf("acme %d, competitors %d of %d: the documented rates have moved", acme, competitors, n)
	}
	if location < n*80/100 || location > n*88/100 || location == n {
		t.Errorf("profile location on %d of %d posts: the documented share (83.7 %%, not all) has moved", location, n)
	}
}
