package enrich

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The language detector's answers are recorded, as a SHA-256 of every
// (language, confidence bits) it gives, in testdata/langid_answers.txt: a
// change made for speed must leave every answer and every confidence bit
// as it was. Two corpora: "embedded" needs no data (the hard tweets, the
// golden posts, the synthetic posts and seeded random strings), "data" is
// every row of the shared tweet files and of Tatoeba (skipped without the
// data). Each text is detected twice: without a declared language and with
// its row's label as the declared one (the prior's path). A change that is
// meant to change answers rewrites the file with -update and says so.
func TestLangIDAnswersUnchanged(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector; the answers do not depend on it")
	}
	rec := readAnswerRecord(t)
	e := testEnricher()
	check := func(corpus string, rows func(yield func(text, declared string))) {
		h := sha256.New()
		n := 0
		rows(func(text, declared string) {
			writeAnswer(h, e, text, "")
			writeAnswer(h, e, text, declared)
			n++
		})
		got := fmt.Sprintf("%s %d", hex.EncodeToString(h.Sum(nil)), n)
		if *update {
			rec[corpus] = got
			return
		}
		if want := rec[corpus]; got != want {
			t.Errorf("%s: answers %s, recorded %s: the detector's answers changed", corpus, got, want)
		}
	}
	check("embedded", embeddedLangRows)
	d, ok := sharedDataDir()
	if !ok {
		if _, err := os.Stat("/work/shared/data/sentiment"); err == nil {
			d, ok = "/work/shared/data", true // beside a worktree (as sharedData)
		}
	}
	if ok {
		check("data", func(yield func(text, declared string)) { dataLangRows(t, d, yield) })
	} else {
		t.Logf("no shared data at %s: only the embedded corpus checked", d)
	}
	if *update {
		writeAnswerRecord(t, rec)
	}
}

const answerRecord = "testdata/langid_answers.txt"

func readAnswerRecord(t *testing.T) map[string]string {
	rec := map[string]string{}
	b, err := os.ReadFile(answerRecord)
	if err != nil && !*update {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
			rec[k] = v
		}
	}
	return rec
}

func writeAnswerRecord(t *testing.T, rec map[string]string) {
	s := "# SHA-256 of the language detector's answers and row count, per corpus: see TestLangIDAnswersUnchanged\n"
	for _, k := range []string{"embedded", "data"} {
		if v, ok := rec[k]; ok {
			s += k + ": " + v + "\n"
		}
	}
	if err := os.WriteFile(answerRecord, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeAnswer(h hash.Hash, e *Enricher, text, declared string) {
	l, c := e.DetectLanguage(text, declared)
	fmt.Fprintf(h, "%s\t%016x\n", l, math.Float64bits(c))
}

// embeddedLangRows: texts the package carries, and random strings over the
// scripts the detector reads (letters, marks, digits, emoji, spaces, tags).
func embeddedLangRows(yield func(text, declared string)) {
	for _, c := range hardTweets {
		yield(c.text, c.want)
	}
	for _, p := range goldenPosts {
		yield(p.text, p.lang)
	}
	batch, _ := realisticBatch(2000)
	for _, it := range batch.Items {
		yield(it.Post.Text, it.Post.Lang)
	}
	yield(longTweet, "en")
	yield(strings.Repeat("Das ist ein ziemlich langer deutscher Beitrag über Akkus und Kameras. ", 1000), "de")
	rng := rand.New(rand.NewPCG(15, 14))
	pieces := []string{" ", " ", "#", "@", "http://x.y ", "\\u00e9", "&amp;", "🎉", "1", "'"}
	blocks := []rune{'a', 'A', 0xC0, 0x370, 0x400, 0x530, 0x5D0, 0x627, 0x905, 0xE01, 0x3041, 0x4E00, 0xAC00}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(600) {
			if rng.IntN(4) == 0 {
				b.WriteString(pieces[rng.IntN(len(pieces))])
				continue
			}
			b.WriteRune(blocks[rng.IntN(len(blocks))] + rune(rng.IntN(40)))
		}
		yield(b.String(), []string{"", "en", "hr", "sr", "zh", "xx"}[rng.IntN(6)])
	}
}

// dataLangRows: every row of the shared tweet files and of Tatoeba, with
// its label as the declared language.
func dataLangRows(t *testing.T, dir string, yield func(text, declared string)) {
	files := []string{"sentiment/mozetic_posneg_dev.tsv", "sentiment/umsab_train.tsv", "sentiment/umsab_val.tsv",
		"sentiment/politics_el_es_en_dev.tsv", "sentiment/semeval2017_en_train.tsv", "sentiment/afrisenti_pt_dev.tsv",
		"sentiment/tweeteval_en_val.tsv", "langid/tatoeba_laser_112.tsv"}
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			fs := strings.Split(sc.Text(), "\t")
			yield(fs[len(fs)-1], fs[0])
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
}
