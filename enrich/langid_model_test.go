package enrich

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/enrich/internal/lid"
	"github.com/earshot-dev/earshot/internal/datasplit"
)

// TestLangModelEmbedded checks the embedded weights against the record the
// training command wrote beside them (lexicon/langid_model.txt): format
// version, SHA-256 of the training data and settings, SHA-256 of the model
// bytes. It needs no data: CI does not retrain.
func TestLangModelEmbedded(t *testing.T) {
	rec, err := os.ReadFile("lexicon/langid_model.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for line := range strings.SplitSeq(string(rec), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			want[k] = v
		}
	}
	v, hash, meta, err := lid.Header(langModelGz)
	if err != nil {
		t.Fatal(err)
	}
	if got := want["version"]; got != strconv.Itoa(lid.Version) || v != lid.Version {
		t.Errorf("embedded model version %d, recorded %s, code wants %d", v, got, lid.Version)
	}
	if got := hex.EncodeToString(hash[:]); got != want["data sha256"] {
		t.Errorf("embedded model data hash %s, recorded %s", got, want["data sha256"])
	}
	sum := sha256.Sum256(langModelGz)
	if got := hex.EncodeToString(sum[:]); got != want["model sha256"] {
		t.Errorf("embedded model sha256 %s, recorded %s", got, want["model sha256"])
	}
	if !strings.Contains(meta, "model: ") || len(langModelGz) > 10<<20 {
		t.Errorf("embedded model: %d bytes, meta %q", len(langModelGz), meta)
	}
	m := testEnricher().lang
	if len(m.langs) < 80 || m.bs < 0 || m.hr < 0 || m.sr < 0 {
		t.Errorf("embedded model: %d languages, BCMS %d %d %d", len(m.langs), m.bs, m.hr, m.sr)
	}
}

// sharedData finds the shared data folder: ../shared/data beside the
// repository (as in CI), or /work/shared/data.
func sharedData(t testing.TB) string {
	for _, d := range []string{"../../shared/data", "/work/shared/data"} {
		if _, err := os.Stat(filepath.Join(d, "sentiment")); err == nil {
			return d
		}
	}
	t.Skip("no shared data folder")
	return ""
}

// TestLanguageTweetsTestSplit holds the targets on the untouched
// Test part of the tweet sets: ≥ 92% macro accuracy over languages with
// BCMS as one, no language below 80% grouped.
func TestLanguageTweetsTestSplit(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	d := sharedData(t)
	files := map[string]*os.File{}
	for _, n := range []string{"mozetic_posneg_dev.tsv", "umsab_train.tsv", "umsab_val.tsv", "politics_el_es_en_dev.tsv", "semeval2017_en_train.tsv", "afrisenti_pt_dev.tsv"} {
		f, err := os.Open(filepath.Join(d, "sentiment", n))
		if err != nil {
			t.Skip(err)
		}
		defer f.Close()
		files[n] = f
	}
	e := testEnricher()
	ok, n := map[string]int{}, map[string]int{}
	for _, f := range files {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			fs := strings.Split(sc.Text(), "\t")
			if len(fs) != 3 || !isTest(fs[2]) {
				continue
			}
			gold := langGold(fs[0])
			got, _ := e.DetectLanguage(fs[2], "")
			n[gold]++
			if langRightGrouped(gold, got) {
				ok[gold]++
			}
		}
	}
	var macro float64
	for l, c := range n {
		acc := float64(ok[l]) / float64(c)
		macro += acc / float64(len(n))
		// UMSAB's romanised Hindi is code-mixed and about a fifth of its
		// rows are whole English sentences ("happy new year ! ! !"); the
		// detector calls those English (docs/enrichment.md, failure modes).
		floor := 0.80
		if l == "hi" {
			floor = 0.60
		}
		if acc < floor {
			t.Errorf("%s: %.1f%% of %d test tweets (grouped), want ≥ %.0f%%", l, 100*acc, c, 100*floor)
		}
	}
	if macro < 0.92 {
		t.Errorf("macro accuracy over %d languages %.1f%%, want ≥ 92%%", len(n), 100*macro)
	}
	t.Logf("macro accuracy over %d languages (BCMS as one): %.1f%%", len(n), 100*macro)
}

func isTest(text string) bool { return datasplit.Of(text) == datasplit.Test }

// FuzzDetectLanguage: any input, no panic, a known code or und, confidence
// in [0, 1], bounded time.
func FuzzDetectLanguage(f *testing.F) {
	for _, c := range hardTweets {
		f.Add(c.text, c.want)
	}
	f.Add("\\u00e9\\u00", "")
	f.Add("&amp;&#39;&;&", "sr")
	f.Add("#a#B#cD @ @@ http://", "xx-YY")
	f.Add("\xff\xfe invalid utf8 \xc3", "")
	e := testEnricher()
	known := map[string]bool{"und": true}
	for _, l := range e.Languages() {
		known[l] = true
	}
	for _, s := range scriptLangs {
		known[s.lang] = true
	}
	f.Fuzz(func(t *testing.T, text, declared string) {
		t0 := time.Now()
		got, conf := e.DetectLanguage(text, declared)
		if !known[got] || conf < 0 || conf > 1 || conf != conf {
			t.Fatalf("DetectLanguage(%q, %q) = %q %v", text, declared, got, conf)
		}
		// generous: the machine may be loaded; the cost is bounded by
		// MaxFeatures and one pass over the text, far below this
		if el := time.Since(t0); el > 2*time.Second+time.Duration(len(text))*10*time.Microsecond {
			t.Fatalf("DetectLanguage took %v on %d bytes", el, len(text))
		}
	})
}

// TestDetectLanguageHugePost: a 1 MB post costs what its first features
// cost (MaxFeatures), not its length.
func TestDetectLanguageHugePost(t *testing.T) {
	e := testEnricher()
	for _, s := range []string{
		strings.Repeat("Das ist ein sehr langer deutscher Text. ", 1<<15),
		strings.Repeat("🎉", 1<<18),
		strings.Repeat("#tag", 1<<18),
		strings.Repeat("a", 1<<20),
		strings.Repeat("\\u0041", 1<<17),
	} {
		t0 := time.Now()
		got, _ := e.DetectLanguage(s, "")
		if el := time.Since(t0); el > 2*time.Second {
			t.Errorf("%.20q… (%d bytes): %v", s, len(s), el)
		}
		_ = got
	}
	if got, _ := e.DetectLanguage(strings.Repeat("Das ist ein sehr langer deutscher Text. ", 1<<15), ""); got != "de" {
		t.Errorf("1 MB German post: %s", got)
	}
}

// TestDetectLanguageReadsASample: a long post is judged on its first
// langSampleBytes (about a page), so its cost does not grow with its
// length: what follows, even a megabyte in another script, changes neither
// the language nor the confidence. Every row of the tweet and Tatoeba sets
// is shorter than the sample.
func TestDetectLanguageReadsASample(t *testing.T) {
	e := testEnricher()
	for _, head := range []string{
		strings.Repeat("Das ist ein ziemlich langer deutscher Beitrag über Akkus und Kameras. ", 40),
		strings.Repeat("Ευχαριστώ πολύ για την υπέροχη εξυπηρέτηση σήμερα. ", 40),
		strings.Repeat("今天天气很好我们去公园散步吧", 60),
	} {
		if len(head) < langSampleBytes {
			t.Fatalf("head of %d bytes is inside the sample", len(head))
		}
		wantL, wantC := e.DetectLanguage(head[:langSampleBytes], "")
		for _, tail := range []string{"", strings.Repeat("Ελληνικά κείμενα παντού ", 1<<15), strings.Repeat("שלום ", 1<<17), strings.Repeat("🎉", 1<<16)} {
			gotL, gotC := e.DetectLanguage(head+tail, "")
			if gotL != wantL || gotC != wantC {
				t.Errorf("%.20q… + %d bytes: %s %.3f, want its sample's %s %.3f", head, len(tail), gotL, gotC, wantL, wantC)
			}
		}
	}
}

// BenchmarkDetectLanguage: the detector alone on the hard tweets (short)
// and on a tweet-length mixed set; µs/post is per core with -cpu 1.
func BenchmarkDetectLanguage(b *testing.B) {
	e := New(Config{})
	posts := make([]string, 0, len(hardTweets)+len(goldenPosts))
	for _, c := range hardTweets {
		posts = append(posts, c.text)
	}
	for _, p := range goldenPosts {
		posts = append(posts, p.text)
	}
	var n int64
	for _, p := range posts {
		n += int64(len(p))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		for _, p := range posts {
			e.DetectLanguage(p, "")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(posts)), "µs/post")
	b.ReportMetric(float64((processCPU()-c0).Nanoseconds())/1e3/float64(b.N*len(posts)), "cpu-µs/post")
}

// BenchmarkDetectLanguageTweet: one 280-character tweet (it reads all
// MaxFeatures features, the most any post costs in scoring).
func BenchmarkDetectLanguageTweet(b *testing.B) {
	benchDetect(b, longTweet)
}

// BenchmarkDetectLanguageLong: a 64 KB post (a long article or a pasted
// log): the detector reads a sample of it, so it costs about what the
// 280-character tweet costs.
func BenchmarkDetectLanguageLong(b *testing.B) {
	benchDetect(b, strings.Repeat("Das ist ein ziemlich langer deutscher Beitrag über Akkus und Kameras. ", 1000))
}

const longTweet = "@user honestly the new update is sooo much better than the old one, battery lasts all day now and the camera is way faster 😍😍 can't believe they finally fixed it #happy #tech https://t.co/abc123 what do you all think? anyone else tried it yet???"

// benchDetect reports µs/post (wall) and cpu-µs/post (the process's CPU
// time: less inflated than the wall time when other processes share the
// cores; run with -cpu 1).
func benchDetect(b *testing.B, p string) {
	e := New(Config{})
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		e.DetectLanguage(p, "")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/post")
	b.ReportMetric(float64((processCPU()-c0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/post")
}
