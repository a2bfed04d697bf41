package themes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	week   = 7 * 24 * time.Hour
	acme   = Match{Watchlist: "acme", Team: "care", Region: "EMEA"}
	stormy = []string{ // story A: the battery
		"my acme phone battery drains overnight after the update",
		"battery drains overnight since the acme update, so annoying",
		"acme: the battery drains overnight now. anyone else?",
		"after the update my battery drains overnight, thanks acme",
	}
	store = []string{ // story B: a shop
		"the acme store in athens closed early again today",
		"went to the acme store in athens, closed early, nobody told us",
		"acme store in athens closed early on a saturday!",
	}
	noiseWords = strings.Fields(`apple river quiet orange table lamp violin garden window bicycle pencil cloud
		mountain coffee ticket market silver engine candle harbor jacket island ladder mirror needle
		oyster parrot rocket saddle tunnel umbrella velvet wagon yogurt zebra anchor basket cactus dolphin
		eagle falcon glacier hammer igloo jungle kettle lantern magnet nectar orbit pepper quartz raven
		spider tomato unicorn valley walnut xylophone yacht zipper acorn bamboo canyon desert ember
		fossil galaxy harvest iris jasmine koala lemon meadow nutmeg olive peach quiver radish salmon
		thistle tulip urchin vanilla willow yarrow zinnia almond barley cedar daisy elm fern ginger
		hazel ivy juniper kelp lilac maple nettle oak pine quince rose sage thyme`)
)

// corpus stores n posts of each story (cycling through its texts) and
// noise posts of random words, created in [from, from+week).
func corpus(m *Memory, rng *rand.Rand, from time.Time, prefix string, stories map[string][]string, counts map[string]int, noise int) map[string]string {
	truth := map[string]string{}
	i := 0
	add := func(text, story, sentiment string) {
		i++
		k := fmt.Sprintf("synthetic:%s-%d", prefix, i)
		m.Add(Post{Key: k, Text: text, Sentiment: sentiment, CreatedAt: from.Add(time.Duration(rng.Int64N(int64(week)))), Keywords: []string{"acme"}}, acme)
		truth[k] = story
	}
	for _, name := range slices.Sorted(maps.Keys(stories)) {
		texts := stories[name]
		for j := 0; j < counts[name]; j++ {
			add(texts[j%len(texts)], name, "negative")
		}
	}
	for j := 0; j < noise; j++ {
		n := 6 + rng.IntN(5)
		ws := []string{"acme"}
		for range n {
			ws = append(ws, noiseWords[rng.IntN(len(noiseWords))])
		}
		rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
		add(strings.Join(ws, " "), "", "neutral")
	}
	return truth
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func find(t *testing.T, m *Memory, o Options, sc Scope) *Result {
	t.Helper()
	res, err := o.Find(context.Background(), m, sc, t0, t0.Add(week), 10)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// purity checks every representative post of every theme is of one story.
func storyOf(t *testing.T, th Theme, truth map[string]string) string {
	t.Helper()
	story := ""
	for _, ex := range th.Representative {
		s := truth[ex.Key]
		if s == "" || story != "" && s != story {
			t.Errorf("theme %q: representative %q is of story %q, others of %q", th.Label, ex.Text, s, story)
		}
		story = s
	}
	return story
}

func TestTwoStoriesAndNoiseMakeTwoThemes(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(1, 2))
	truth := corpus(&m, rng, t0, "p", map[string][]string{"battery": stormy, "store": store}, map[string]int{"battery": 60, "store": 40}, 150)
	res := find(t, &m, DefaultOptions(), Scope{Watchlists: []string{"acme"}})
	if len(res.Themes) != 2 {
		for _, th := range res.Themes {
			t.Logf("theme %q: %d posts, phrases %q", th.Label, th.Posts, th.Phrases)
		}
		t.Fatalf("%d themes, want 2 (the battery, the store)", len(res.Themes))
	}
	want := map[string]int64{"battery": 60, "store": 40}
	for i, th := range res.Themes {
		s := storyOf(t, th, truth)
		if th.Posts != want[s] {
			t.Errorf("theme %d %q (story %q): %d posts, want %d", i, th.Label, s, th.Posts, want[s])
		}
		if len(th.Representative) != 3 {
			t.Errorf("theme %q: %d representative posts, want 3", th.Label, len(th.Representative))
		}
		if th.Sentiment.Negative != th.Posts {
			t.Errorf("theme %q: sentiment %+v, want all %d negative", th.Label, th.Sentiment, th.Posts)
		}
		if strings.Contains(th.Label, "acme") {
			t.Errorf("theme %q: the watchlist's keyword is in its label", th.Label)
		}
	}
	if !strings.Contains(res.Themes[0].Label, "battery drains overnight") {
		t.Errorf("first theme %q, want the battery's phrase", res.Themes[0].Label)
	}
	if !strings.Contains(res.Themes[1].Label, "athens") {
		t.Errorf("second theme %q, want the store in athens", res.Themes[1].Label)
	}
	if res.Posts != 250 || res.Read != 250 || res.Themed != 100.0/250 {
		t.Errorf("posts %d, read %d, themed %v: want 250, 250, 0.4", res.Posts, res.Read, res.Themed)
	}
	// Another watchlist's scope sees none of it.
	if res := find(t, &m, DefaultOptions(), Scope{Watchlists: []string{"globex"}}); len(res.Themes) != 0 || res.Posts != 0 {
		t.Errorf("scope globex: %d themes of %d posts, want none", len(res.Themes), res.Posts)
	}
}

// A market scope reads the posts of its markets only: not the region's
// posts of no market, not another market's.
func TestMarketScope(t *testing.T) {
	var m Memory
	for i := range 20 {
		at := t0.Add(time.Duration(i) * time.Hour)
		m.Add(Post{Key: fmt.Sprintf("x:de%d", i), Text: fmt.Sprintf("invoice portal login fails again %d", i%3), CreatedAt: at}, Match{Watchlist: "acme", Region: "EMEA", Market: "DACH"})
		m.Add(Post{Key: fmt.Sprintf("x:se%d", i), Text: fmt.Sprintf("parcel locker jammed shut %d", i%3), CreatedAt: at}, Match{Watchlist: "acme", Region: "EMEA", Market: "Nordics"})
		m.Add(Post{Key: fmt.Sprintf("x:gb%d", i), Text: fmt.Sprintf("battery drains overnight %d", i%3), CreatedAt: at}, Match{Watchlist: "acme", Region: "EMEA"})
	}
	for _, c := range []struct {
		sc    Scope
		posts int64
		label string
	}{
		{Scope{Markets: []string{"DACH"}}, 20, "invoice portal"},
		{Scope{Markets: []string{"Nordics"}, Regions: []string{"EMEA"}}, 20, "parcel locker"},
		{Scope{Markets: []string{"DACH", "Nordics"}}, 40, ""},
		{Scope{Markets: []string{"DACH"}, Regions: []string{"APAC"}}, 0, ""},
		{Scope{Markets: []string{"dach"}}, 0, ""}, // the column's spelling
		{Scope{Regions: []string{"EMEA"}}, 60, ""},
	} {
		res := find(t, &m, DefaultOptions(), c.sc)
		if res.Posts != c.posts {
			t.Errorf("%+v: %d posts, want %d", c.sc, res.Posts, c.posts)
		}
		for _, th := range res.Themes {
			if c.label != "" && !strings.Contains(th.Label, c.label) {
				t.Errorf("%+v: theme %q, want only %q", c.sc, th.Label, c.label)
			}
		}
	}
}

func TestGreekThemes(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(3, 4))
	battery := []string{
		"Η μπαταρία αδειάζει μέσα σε μια ώρα μετά την ενημέρωση της Acme",
		"η ΜΠΑΤΑΡΙΑ ΑΔΕΙΑΖΕΙ μέσα σε μια ώρα, απαράδεκτο",
		"Acme: η μπαταρια αδειαζει μεσα σε μια ωρα! Κανείς άλλος;",
		"Από χθες η μπαταρία αδειάζει μέσα σε μία ώρα",
	}
	fees := []string{
		"Νέες χρεώσεις στον λογαριασμό της Acme χωρίς ενημέρωση",
		"πάλι νέες χρεώσεις στον λογαριασμό μου, Acme τι γίνεται;",
		"Acme νέες χρεώσεις στον λογαριασμό, ντροπή",
	}
	truth := corpus(&m, rng, t0, "el", map[string][]string{"battery": battery, "fees": fees}, map[string]int{"battery": 30, "fees": 20}, 80)
	res := find(t, &m, DefaultOptions(), Scope{})
	if len(res.Themes) != 2 {
		for _, th := range res.Themes {
			t.Logf("theme %q: %d posts", th.Label, th.Posts)
		}
		t.Fatalf("%d themes, want 2", len(res.Themes))
	}
	if s := storyOf(t, res.Themes[0], truth); s != "battery" || res.Themes[0].Posts != 30 {
		t.Errorf("first theme %q: story %q with %d posts, want battery with 30 (case and accents fold)", res.Themes[0].Label, s, res.Themes[0].Posts)
	}
	if s := storyOf(t, res.Themes[1], truth); s != "fees" || res.Themes[1].Posts != 20 {
		t.Errorf("second theme %q: story %q with %d posts, want fees with 20", res.Themes[1].Label, s, res.Themes[1].Posts)
	}
	if !strings.Contains(res.Themes[0].Label, "μπαταρία αδειάζει") && !strings.Contains(res.Themes[0].Label, "αδειάζει") {
		t.Errorf("label %q: want the Greek words as written", res.Themes[0].Label)
	}
	for _, th := range res.Themes {
		for _, p := range th.Phrases {
			for _, stop := range []string{"η", "της", "μετά", "σε"} {
				if strings.HasPrefix(p, stop+" ") || strings.HasSuffix(p, " "+stop) || p == stop {
					t.Errorf("phrase %q begins or ends with the stop word %q", p, stop)
				}
			}
		}
	}
}

func TestGrowingStoryShowsItsTrend(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(5, 6))
	stories := map[string][]string{"battery": stormy, "store": store}
	corpus(&m, rng, t0.Add(-week), "prev", stories, map[string]int{"battery": 10, "store": 30}, 100)
	corpus(&m, rng, t0, "now", stories, map[string]int{"battery": 50, "store": 30}, 100)
	res := find(t, &m, DefaultOptions(), Scope{})
	if len(res.Themes) != 2 {
		t.Fatalf("%d themes, want 2", len(res.Themes))
	}
	bat, sto := res.Themes[0], res.Themes[1]
	if bat.Posts != 50 || bat.Previous != 10 || bat.Growth == nil || *bat.Growth != 4 {
		t.Errorf("battery %q: %d posts, %d before, growth %v: want 50, 10, 4", bat.Label, bat.Posts, bat.Previous, bat.Growth)
	}
	if sto.Posts != 30 || sto.Previous != 30 || sto.Growth == nil || *sto.Growth != 0 {
		t.Errorf("store %q: %d posts, %d before, growth %v: want 30, 30, 0", sto.Label, sto.Posts, sto.Previous, sto.Growth)
	}
	// A story new this period: no growth to state.
	var n Memory
	corpus(&n, rng, t0, "new", stories, map[string]int{"battery": 20}, 50)
	res = find(t, &n, DefaultOptions(), Scope{})
	if len(res.Themes) != 1 || res.Themes[0].Previous != 0 || res.Themes[0].Growth != nil {
		t.Errorf("new story: %+v, want one theme with nothing before and no growth", res.Themes)
	}
}

func TestDeletedAndRedeliveredPosts(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(7, 8))
	truth := corpus(&m, rng, t0, "p", map[string][]string{"battery": stormy, "store": store}, map[string]int{"battery": 40, "store": 20}, 100)
	before := find(t, &m, DefaultOptions(), Scope{})
	// Redelivery: every post stored again changes nothing.
	var keys []string
	for k := range truth {
		keys = append(keys, k)
	}
	m.mu.Lock()
	var again []Post
	for _, k := range keys {
		again = append(again, m.posts[k].p)
	}
	m.mu.Unlock()
	for _, p := range again {
		m.Add(p, acme)
	}
	if after := find(t, &m, DefaultOptions(), Scope{}); js(after) != js(before) {
		t.Errorf("redelivered posts changed the themes:\n%v\n%v", before, after)
	}
	// Deletes: every store post and ten battery posts go.
	gone := 0
	for _, k := range keys {
		if truth[k] == "store" || truth[k] == "battery" && gone < 10 {
			if truth[k] == "battery" {
				gone++
			}
			m.Delete(k)
		}
	}
	res := find(t, &m, DefaultOptions(), Scope{})
	if len(res.Themes) != 1 || res.Themes[0].Posts != 30 {
		t.Fatalf("after deletes: %d themes (%v), want the battery's alone with 30 posts", len(res.Themes), res.Themes)
	}
	for _, ex := range res.Themes[0].Representative {
		if _, ok := m.posts[ex.Key]; !ok {
			t.Errorf("representative %s was deleted", ex.Key)
		}
	}
	// A deleted post delivered again stays deleted.
	for _, p := range again {
		m.Add(p, acme)
	}
	if again := find(t, &m, DefaultOptions(), Scope{}); js(again) != js(res) {
		t.Error("deleted posts came back when delivered again")
	}
}

func TestRepresentativeAreTypicalNotRecent(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(9, 10))
	truth := corpus(&m, rng, t0, "p", map[string][]string{"battery": stormy}, map[string]int{"battery": 40}, 60)
	// The latest posts of the story have one of its phrases only.
	for i := range 5 {
		k := fmt.Sprintf("synthetic:late-%d", i)
		m.Add(Post{Key: k, Text: fmt.Sprintf("overnight, like number %d", i) + " battery drains and so on", CreatedAt: t0.Add(week - time.Minute), Keywords: []string{"acme"}}, acme)
		truth[k] = "late"
	}
	res := find(t, &m, DefaultOptions(), Scope{})
	if len(res.Themes) != 1 {
		t.Fatalf("%d themes, want 1", len(res.Themes))
	}
	seen := map[string]bool{}
	for _, ex := range res.Themes[0].Representative {
		if truth[ex.Key] != "battery" {
			t.Errorf("representative %q is not a typical post of the story", ex.Text)
		}
		if seen[ex.Text] {
			t.Errorf("representative %q twice", ex.Text)
		}
		seen[ex.Text] = true
	}
}

func TestSampleIsBoundedAndDeterministic(t *testing.T) {
	o := DefaultOptions()
	o.MaxPosts = 100
	build := func(seed uint64) *Memory {
		var m Memory
		rng := rand.New(rand.NewPCG(11, 12))
		corpus(&m, rng, t0, "p", map[string][]string{"battery": stormy, "store": store}, map[string]int{"battery": 150, "store": 100}, 250)
		// The same posts, stored in another order.
		if seed != 0 {
			var ps []*memPost
			for _, mp := range m.posts {
				ps = append(ps, mp)
			}
			var n Memory
			r := rand.New(rand.NewPCG(seed, seed))
			r.Shuffle(len(ps), func(a, b int) { ps[a], ps[b] = ps[b], ps[a] })
			for _, mp := range ps {
				n.Add(mp.p, mp.matches...)
			}
			return &n
		}
		return &m
	}
	a, b := find(t, build(0), o, Scope{}), find(t, build(99), o, Scope{})
	if js(a) != js(b) {
		t.Errorf("the same posts stored in another order gave other themes:\n%v\n%v", a, b)
	}
	if a.Read != 100 || a.Posts != 500 {
		t.Errorf("read %d of %d, want 100 of 500", a.Read, a.Posts)
	}
	if len(a.Themes) != 2 || !a.Themes[0].Sampled {
		for _, th := range a.Themes {
			t.Logf("theme %q: %d posts, phrases %q", th.Label, th.Posts, th.Phrases)
		}
		t.Fatalf("%d themes (sampled %v), want 2 estimated from the sample", len(a.Themes), len(a.Themes) > 0 && a.Themes[0].Sampled)
	}
	// Estimates: 150 and 100 posts, within a sample's error.
	if p := a.Themes[0].Posts; p < 100 || p > 200 {
		t.Errorf("battery estimated at %d posts, want about 150", p)
	}
}

func TestWorstInputs(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(13, 14))
	corpus(&m, rng, t0, "p", map[string][]string{"battery": stormy}, map[string]int{"battery": 30}, 30)
	// A post of a million words, one of invisible characters and look-alike
	// letters, one of nothing.
	huge := strings.Repeat("battery drains overnight word ", 250_000)
	m.Add(Post{Key: "x:huge", Text: huge, CreatedAt: t0.Add(time.Hour)}, acme)
	m.Add(Post{Key: "x:odd", Text: "b\u200Bаttеry drains оvernight", CreatedAt: t0.Add(time.Hour)}, acme) // Cyrillic а, е, о
	m.Add(Post{Key: "x:empty", Text: "", CreatedAt: t0.Add(time.Hour)}, acme)
	start := time.Now()
	res := find(t, &m, DefaultOptions(), Scope{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if len(res.Themes) != 1 || res.Themes[0].Posts != 32 {
		t.Errorf("themes %v: want the battery's, with the huge and the look-alike posts (32)", res.Themes)
	}
	for _, ex := range res.Themes[0].Representative {
		if len(ex.Text) > DefaultOptions().MaxTextBytes {
			t.Errorf("representative text of %d bytes, over the cut", len(ex.Text))
		}
	}
}

// TestNoEmojiDigitsOrStopWordPhrases: emoji, flags and numbers are in
// every post of a story here, yet no phrase is made of them, and no phrase
// begins or ends with a stop word.
func TestNoEmojiDigitsOrStopWordPhrases(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(15, 16))
	texts := []string{"🔥🔥 the battery drains overnight 2026 🇬🇷", "🔥🔥 battery drains overnight since 2026 🇬🇷 of the"}
	corpus(&m, rng, t0, "p", map[string][]string{"battery": texts}, map[string]int{"battery": 30}, 40)
	res := find(t, &m, DefaultOptions(), Scope{})
	if len(res.Themes) != 1 {
		t.Fatalf("%d themes, want 1", len(res.Themes))
	}
	for _, p := range res.Themes[0].Phrases {
		for _, bad := range []string{"🔥", "🇬", "2026", "the ", " the", "of "} {
			if strings.Contains(" "+p+" ", bad) && (bad != "the " || strings.HasPrefix(p, "the ")) {
				t.Errorf("phrase %q has %q", p, bad)
			}
		}
	}
}

func TestBadRequests(t *testing.T) {
	var m Memory
	ctx := context.Background()
	for _, c := range []struct {
		from, to time.Time
		limit    int
	}{
		{t0, t0.Add(week), 0},
		{t0, t0.Add(week), MaxLimit + 1},
		{t0, t0, 10},
		{t0.Add(week), t0, 10},
		{t0, t0.Add(400 * 24 * time.Hour), 10},
	} {
		if _, err := Themes(ctx, &m, Scope{}, c.from, c.to, c.limit); err == nil {
			t.Errorf("%v to %v, limit %d: no error", c.from, c.to, c.limit)
		}
	}
	o := DefaultOptions()
	o.MaxPosts, o.Cohesion = 1e12, 0
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "max_posts") || !strings.Contains(err.Error(), "cohesion") {
		t.Errorf("Validate: %v, want both problems", err)
	}
	// A period at the start of time: the windows before it are empty, not errors.
	strict := strictReader{&m}
	if _, err := Themes(ctx, strict, Scope{}, time.Unix(0, 0), time.Unix(86400, 0), 10); err != nil {
		t.Errorf("a period from 1970: %v", err)
	}
	if th, err := Themes(ctx, &m, Scope{}, t0, t0.Add(week), 10); err != nil || th == nil || len(th) != 0 {
		t.Errorf("no posts: %v, %v; want no themes, no error", th, err)
	}
}

// TestHashtagTheme: a hashtag alone can make a theme, shown with its #.
func TestHashtagTheme(t *testing.T) {
	var m Memory
	rng := rand.New(rand.NewPCG(17, 18))
	texts := []string{"so proud of the team #BlackFriday", "queues everywhere #blackfriday", "#BlackFriday deals are fake"}
	corpus(&m, rng, t0, "p", map[string][]string{"bf": texts}, map[string]int{"bf": 12}, 40)
	res := find(t, &m, DefaultOptions(), Scope{})
	if len(res.Themes) != 1 || !strings.HasPrefix(res.Themes[0].Label, "#blackfriday ·") || res.Themes[0].Posts != 12 {
		t.Errorf("themes %v, want #blackfriday with 12 posts", res.Themes)
	}
}

func TestWriteText(t *testing.T) {
	g := 1.5
	res := &Result{Posts: 900, Read: 300, Themed: 0.5, Themes: []Theme{
		{Label: "broken\tagain · worst", Posts: 120, Previous: 48, Growth: &g, Sampled: true, Sentiment: Sentiment{Negative: 100, Neutral: 15, Positive: 5},
			Representative: []Example{{Text: "line one\nline two " + strings.Repeat("x", 100)}}},
		{Label: "new one", Posts: 3},
	}}
	var b strings.Builder
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "broken again · worst") || !strings.Contains(lines[1], "~120") || !strings.Contains(lines[1], "+150%") ||
		!strings.Contains(lines[1], "100/15/5") || !strings.Contains(lines[1], "line one line two") || !strings.HasSuffix(lines[1], "…") ||
		!strings.Contains(lines[2], "new") || lines[3] != "2 themes; 900 posts in scope, 300 read, 50% of them in a theme" {
		t.Errorf("text:\n%s", b.String())
	}
}

// strictReader refuses windows before 1970, as the ClickHouse reader does.
type strictReader struct{ *Memory }

func (r strictReader) Scan(ctx context.Context, sc Scope, from, to time.Time, max, maxText int, fn func(Post) error) (int64, error) {
	if from.Unix() < 0 {
		return 0, fmt.Errorf("%s is before 1970", from)
	}
	return r.Memory.Scan(ctx, sc, from, to, max, maxText, fn)
}

// A market is bound as a quoted literal, however hostile, and a scope of
// too many markets is refused.
func TestClickHouseWhereMarkets(t *testing.T) {
	ch := ClickHouse{DB: "earshot"}
	w, err := ch.where(Scope{Markets: []string{`DACH') OR 1=1 --`, `x\' OR '1'='1`}}, t0, t0.Add(week))
	if err != nil {
		t.Fatal(err)
	}
	if want := `market IN ('DACH\') OR 1=1 --', 'x\\\' OR \'1\'=\'1')`; !strings.Contains(w, want) {
		t.Errorf("where %q, want it to hold %q", w, want)
	}
	if _, err := ch.where(Scope{Markets: make([]string, maxScopeValues+1)}, t0, t0.Add(week)); !errors.Is(err, ErrInvalid) {
		t.Errorf("%d markets: %v, want ErrInvalid", maxScopeValues+1, err)
	}
	if _, err := ch.where(Scope{Markets: []string{"\xff"}}, t0, t0.Add(week)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a market not UTF-8: %v, want ErrInvalid", err)
	}
}
