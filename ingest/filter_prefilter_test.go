package ingest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// Skipping the lines in which no keyword occurs (FilterOptions.MayKeep =
// Engine.MayMatch) must never drop a line that decoding and matching keep:
// on real X, Bluesky and Mastodon lines and on canonical posts with
// look-alikes, invisible characters, handles, hashtags and phrases, with
// keywords drawn from the posts' own words and word pairs (so that many
// lines match), the output is the same with and without it, byte for byte.
func TestFilterSkipsOnlyLinesThatCannotMatch(t *testing.T) {
	files := map[string][]byte{}
	for _, g := range []string{"testdata/x/*.jsonl", "testdata/bluesky/*.jsonl", "testdata/mastodon/*.ndjson"} {
		paths, _ := filepath.Glob(g)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[p] = b
		}
	}
	texts := []string{
		"ＡＣＭＥ rocks", "my аcme phone", "ac\u200bme support is slow", "Acme’s app", "ping @acme_support now", "@acme",
		"#acme #Globex", "café cafe\u0301 globex", "acme😡globex", "acme support", "lawsuit: acme", "ACME\u00a0SUPPORT",
		"東京acme大阪", "initech, hiring now", "fraudulent acme charges", "acme\u2028support", "x acme_support_team y",
	}
	var canon bytes.Buffer
	enc := gojson.NewEncoder(&canon)
	enc.SetEscapeHTML(false)
	for i, p := range bench.Posts(3000, 11) {
		p.IngestedAt = p.CreatedAt
		if i < len(texts) {
			p.Text = texts[i]
		}
		enc.Encode(p)
	}
	files["canonical"] = canon.Bytes()
	// Reddit: a submission's text is its title and body joined, so the
	// phrase "recall anyone" is in the post and in no one field
	files["reddit"] = []byte(`{"id":"c1","name":"t1_c1","author":"ann","body":"my phone broke","created_utc":1763719200,"subreddit":"gadgets"}
{"id":"s1","name":"t3_s1","author":"bob","title":"Big recall","selftext":"anyone else?","is_self":true,"created_utc":1763719100.0,"subreddit":"gadgets"}
{"id":"s2","name":"t3_s2","author":"bob","title":"nothing here","selftext":"","is_self":true,"created_utc":1763719100.0,"subreddit":"gadgets"}
`)

	// keywords: one word and one pair of words from every third post of
	// every file, as decoded
	seen := map[string]bool{}
	var kws []string
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	for _, b := range files {
		n := 0
		ingest.Filter(context.Background(), "f", bytes.NewReader(b), &bytes.Buffer{}, func(p *post.Post) bool {
			<-mu
			defer func() { mu <- struct{}{} }()
			n++
			if n%3 != 0 {
				return false
			}
			w := strings.FieldsFunc(p.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
			add := func(k string) {
				if n := len([]rune(k)); n >= 3 && n <= 8 && !seen[k] && len(kws) < match.MaxKeywords {
					seen[k] = true
					kws = append(kws, k)
				}
			}
			if len(w) > 1 {
				add(w[1])
			}
			if len(w) > 3 && len([]rune(w[2])) <= 8 && len([]rune(w[3])) <= 8 {
				seen[w[2]+" "+w[3]] = false
				if !seen[w[2]+" "+w[3]] && len(kws) < match.MaxKeywords {
					seen[w[2]+" "+w[3]] = true
					kws = append(kws, w[2]+" "+w[3])
				}
			}
			return false
		}, ingest.FilterOptions{Workers: 1, Reject: func(string) {}})
	}
	// drop the words the JSON around the texts is full of ("app", "bsky",
	// "post", "text"): with them every line could match, and nothing
	// would be skipped to test
	var all []string
	for _, b := range files {
		all = append(all, strings.Split(strings.ToLower(string(b)), "\n")...)
	}
	rare := kws[:0]
	for _, k := range kws {
		n := 0
		for _, l := range all {
			if strings.Contains(l, strings.ToLower(k)) {
				n++
			}
		}
		if n*50 < len(all) {
			rare = append(rare, k)
		}
	}
	kws = rare
	for _, w := range bench.BrandKeywordSet(1000, 1) {
		w.Status = "live"
	}
	lists, err := match.LoadDir("../deploy/examples/watchlists")
	if err != nil {
		t.Fatal(err)
	}
	lists = append(lists, bench.BrandKeywordSet(1000, 1)...)
	lists = append(lists, &match.Watchlist{ID: "words", Version: 1, Status: "live", Keywords: kws},
		&match.Watchlist{ID: "handles", Version: 1, Status: "live", Keywords: []string{"@acme", "#acme", "cafe", "ＡＣＭＥ", "recall anyone"}})
	m, err := match.New(lists)
	if err != nil {
		t.Fatal(err)
	}
	e := m.Engine()
	keep := func(p *post.Post) bool { return len(e.Match(p)) > 0 }
	for name, b := range files {
		var strict, fast bytes.Buffer
		var sr, fr []string
		st, err := ingest.Filter(context.Background(), name, bytes.NewReader(b), &strict, keep, ingest.FilterOptions{Reject: func(r string) { sr = append(sr, r) }})
		if err != nil {
			t.Fatal(err)
		}
		ft, err := ingest.Filter(context.Background(), name, bytes.NewReader(b), &fast, keep, ingest.FilterOptions{MayKeep: e.MayMatch, Reject: func(r string) { fr = append(fr, r) }})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(strict.Bytes(), fast.Bytes()) {
			t.Errorf("%s: %d lines kept decoding every line, %d skipping those without a keyword", name, st.Kept, ft.Kept)
		}
		t.Logf("%s: %d lines, %d kept, %d skipped undecoded, %d refused (%d reported when skipping)", name, st.Lines, st.Kept, ft.Skipped, st.Dead, len(fr))
		if name == "canonical" && (ft.Skipped < 500 || st.Kept < 50) || strings.Contains(name, "152events") && ft.Skipped < 50 || name == "reddit" && !bytes.Contains(strict.Bytes(), []byte(`"id":"s1"`)) {
			t.Errorf("%s: %d skipped, %d kept: the test would not catch a wrongly skipped line", name, ft.Skipped, st.Kept)
		}
	}
}
