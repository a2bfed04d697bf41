package enrich

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
)

// Regenerate the embedded language profiles from the Tatoeba set:
//
//	go test ./enrich -run TestGenerateLangProfiles -genprofiles=/work/shared/data/langid/tatoeba_laser_112.tsv
var (
	genProfiles = flag.String("genprofiles", "", "build lexicon/langid_profiles.txt.gz from this lang TAB text file (training split only)")
	genTopK     = flag.Int("genprofiles.k", 2000, "trigrams kept per language")
)

// profileLangs are the languages the detector knows: real, living
// languages with enough Tatoeba rows. Constructed languages other than
// Esperanto, historical ones and tiny or near-identical dialect sets are
// left out so that they do not steal posts from their big neighbours.
const profileLangs = `af am ar az be ber bg bn br bs ca ceb cs cy da de el en eo es et eu fa fi fo fr ga gd gl he hi hr hu hy
id is it ja jv ka kab kk km ko ku kw la lt lv mhr mk ml mn mr ms nb nds nl nn oc pl pt ro ru sk sl sq sr sv sw ta te th tk tl tr
tt ug uk ur uz vi yi yue zh`

func TestGenerateLangProfiles(t *testing.T) {
	if *genProfiles == "" {
		t.Skip("set -genprofiles to rebuild the language profiles")
	}
	want := map[string]bool{}
	for _, l := range strings.Fields(profileLangs) {
		want[l] = true
	}
	f, err := os.Open(*genProfiles)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var buf [64]rune
	for sc.Scan() {
		lang, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || !want[lang] || LangIDTestRow(text) {
			continue
		}
		c := counts[lang]
		if c == nil {
			c = map[string]int{}
			counts[lang] = c
		}
		letterWords(text, buf[:], func(w []rune) bool {
			a, b := ' ', ' '
			for i := 0; i <= len(w); i++ {
				r := ' '
				if i < len(w) {
					r = w[i]
				}
				c[string([]rune{a, b, r})]++
				a, b = b, r
			}
			return true
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	langs := make([]string, 0, len(counts))
	for l := range counts {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		c := counts[l]
		type gc struct {
			g string
			n int
		}
		var all []gc
		total := 0
		for g, n := range c {
			all = append(all, gc{g, n})
			total += n
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].n != all[j].n {
				return all[i].n > all[j].n
			}
			return all[i].g < all[j].g
		})
		// Add-half smoothing over the observed vocabulary; every trigram
		// outside the kept profile gets the probability of an unseen one.
		denom := float64(total) + 0.5*float64(len(all)+1)
		floor := math.Log(0.5 / denom)
		fmt.Fprintf(&out, "%s\t%.2f\t", l, floor)
		for i, e := range all {
			if i == *genTopK {
				break
			}
			if i > 0 {
				out.WriteByte(' ')
			}
			fmt.Fprintf(&out, "%s=%.2f", strings.ReplaceAll(e.g, " ", "_"), math.Log((float64(e.n)+0.5)/denom))
		}
		out.WriteByte('\n')
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(out.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("lexicon/langid_profiles.txt.gz", gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d languages, %d bytes (%d compressed)", len(langs), out.Len(), gz.Len())
}
