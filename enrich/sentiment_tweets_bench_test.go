package enrich

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSentimentTweets is the sentiment tag on real tweets of the
// multilingual model's languages (Mozetič's 15 and UMSAB's non-English
// seven, their Dev parts' size: the first 4,000 rows of each file that are
// not English), each scored in the language the detector gives it, as the
// stage does. The synthetic posts of BenchmarkSentiment are mostly
// English, which the English model judges; this one measures the
// multilingual path. Needs the shared data (skips without it).
func BenchmarkSentimentTweets(b *testing.B) {
	dir, ok := sharedDataDir()
	if !ok {
		b.Skip("no shared data")
	}
	e := New(Config{})
	type tweet struct{ text, lang string }
	var tweets []tweet
	var bytes int64
	for _, f := range []string{"sentiment/mozetic_posneg_dev.tsv", "sentiment/umsab_val.tsv"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for n := 0; sc.Scan() && n < 4000; {
			p := strings.SplitN(sc.Text(), "\t", 3)
			if len(p) != 3 || p[0] == "en" {
				continue
			}
			text := CleanDatasetText(p[2])
			lang, _ := e.DetectLanguage(text, "")
			tweets = append(tweets, tweet{text, lang})
			bytes += int64(len(text))
			n++
		}
		fh.Close()
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		for _, t := range tweets {
			e.senti.score(t.text, t.lang)
		}
	}
	reportRates(b, len(tweets), c0)
}
