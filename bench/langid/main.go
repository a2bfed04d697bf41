// Command langid compares language identifiers on two untouched test sets:
// the held-out fifth of the Tatoeba short sentences (the rows
// enrich.LangIDTestRow selects) and the Test part (internal/datasplit) of
// the language-labelled tweet sets. earshot's model is trained only on the
// other rows (enrich/train/langid).
//
//	cd bench/langid && GOMAXPROCS=1 go run . -data /work/shared/data
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/abadojack/whatlanggo"
	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/internal/datasplit"
	"github.com/pemistahl/lingua-go"
)

type row struct{ lang, text string }

type candidate struct {
	name   string
	langs  map[string]bool // labels it can return
	detect func(text, declared string) string
}

func main() {
	data := flag.String("data", "/work/shared/data", "the shared data folder")
	only := flag.String("only", "", "comma-separated candidates to run (default all)")
	sets := flag.String("sets", "tweets,tatoeba", "test sets to run")
	flag.Parse()
	tat, err := load(filepath.Join(*data, "langid/tatoeba_laser_112.tsv"))
	if err != nil {
		log.Fatal(err)
	}
	tw, err := loadTweets(*data)
	if err != nil {
		log.Fatal(err)
	}
	var cands []func() candidate
	cands = append(cands, func() candidate { return earshot(false) }, func() candidate { return earshot(true) }, func() candidate { return whatlang(true) }, func() candidate { return whatlang(false) }, func() candidate { return linguaCand(true) }, func() candidate { return linguaCand(false) })
	var built []candidate
	for _, mk := range cands {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		c := mk()
		if *only != "" && !strings.Contains(","+*only+",", ","+c.name+",") {
			continue
		}
		c.detect("warm up the models", "")
		load := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&after)
		fmt.Printf("# %s: %d languages, load %v, heap %.1f MiB\n", c.name, len(c.langs), load.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
		built = append(built, c)
	}
	for _, set := range []struct {
		name string
		rows []row
	}{{"tweets", tw}, {"tatoeba", tat}} {
		if strings.Contains(","+*sets+",", ","+set.name+",") {
			fmt.Printf("\n## %s: %d test rows\n\n", set.name, len(set.rows))
			compare(built, set.rows)
		}
	}
}

// bcms: Bosnian, Croatian, Serbian and earshot's group code, counted as one
// in the grouped accuracy.
func bcms(l string) bool { return l == "bs" || l == "hr" || l == "sr" || l == "sh" }

func compare(built []candidate, rows []row) {
	common := map[string]bool{}
	for _, r := range rows {
		all := true
		for _, c := range built {
			all = all && c.langs[r.lang]
		}
		common[r.lang] = all
	}
	fmt.Println("| candidate | accuracy, own languages (rows) | accuracy, languages all support (rows) | same, BCMS as one | macro over languages, BCMS as one | abstained | µs/post (1 core) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	perLang := map[string]map[string][2]int{}
	for _, c := range built {
		var own, ownOK, com, comOK, comOKG, und int
		pl := map[string][2]int{}
		plg := map[string][2]int{}
		t0 := time.Now()
		for _, r := range rows {
			got := c.detect(r.text, r.lang)
			if !c.langs[r.lang] {
				continue
			}
			own++
			ok := got == r.lang
			if got == "und" || got == "" {
				und++
			}
			if ok {
				ownOK++
			}
			okG := ok || bcms(got) && bcms(r.lang)
			if common[r.lang] {
				com++
				if ok {
					comOK++
				}
				if okG {
					comOKG++
				}
				g := plg[r.lang]
				g[0]++
				if okG {
					g[1]++
				}
				plg[r.lang] = g
			}
			v := pl[r.lang]
			v[0]++
			if ok {
				v[1]++
			}
			pl[r.lang] = v
		}
		el := time.Since(t0)
		perLang[c.name] = pl
		var macro float64
		for _, g := range plg {
			macro += pct(g[1], g[0]) / float64(len(plg))
		}
		fmt.Printf("| %s | %.1f%% (%d) | %.1f%% (%d) | %.1f%% | %.1f%% | %.1f%% | %.1f |\n", c.name, pct(ownOK, own), own, pct(comOK, com), com,
			pct(comOKG, com), macro, pct(und, own), float64(el.Microseconds())/float64(len(rows)))
	}
	// Per-language accuracy of each candidate on the languages all support.
	var langs []string
	for l, ok := range common {
		if ok {
			langs = append(langs, l)
		}
	}
	sort.Strings(langs)
	fmt.Printf("\n| lang |")
	for _, c := range built {
		fmt.Printf(" %s |", c.name)
	}
	fmt.Printf("\n|---|%s\n", strings.Repeat("---|", len(built)))
	for _, l := range langs {
		fmt.Printf("| %s |", l)
		for _, c := range built {
			v := perLang[c.name][l]
			fmt.Printf(" %.1f |", pct(v[1], v[0]))
		}
		fmt.Println()
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func load(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening langid data: %w", err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l, t, ok := strings.Cut(sc.Text(), "\t")
		if ok && enrich.LangIDTestRow(t) {
			rows = append(rows, row{l, t})
		}
	}
	return rows, sc.Err()
}

// earshot, without or with the gold label passed as the declared language
// (the platform's label is a prior; real ones are noisier than gold).
func earshot(declared bool) candidate {
	e := enrich.New(enrich.Config{})
	c := candidate{name: "earshot", langs: map[string]bool{}}
	if declared {
		c.name = "earshot+declared"
	}
	for _, l := range e.Languages() {
		c.langs[l] = true
	}
	c.detect = func(s, gold string) string {
		if !declared {
			gold = ""
		}
		l, _ := e.DetectLanguage(s, gold)
		return l
	}
	return c
}

// tweetSets are the language-labelled tweet files (lang TAB label TAB text).
var tweetSets = []string{"mozetic_posneg_dev.tsv", "umsab_train.tsv", "umsab_val.tsv", "politics_el_es_en_dev.tsv", "semeval2017_en_train.tsv", "afrisenti_pt_dev.tsv"}

// loadTweets reads the Test part of the tweet sets, each text once.
func loadTweets(data string) ([]row, error) {
	var rows []row
	seen := map[string]bool{}
	for _, name := range tweetSets {
		f, err := os.Open(filepath.Join(data, "sentiment", name))
		if err != nil {
			return nil, fmt.Errorf("opening tweets: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			fs := strings.Split(sc.Text(), "\t")
			if len(fs) != 3 || datasplit.Of(fs[2]) != datasplit.Test || seen[fs[2]] {
				continue
			}
			seen[fs[2]] = true
			l := fs[0]
			if l == "hi-Latn" {
				l = "hi"
			}
			rows = append(rows, row{l, fs[2]})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// whatlang labels: ISO 639-1 where whatlanggo has one, else its 639-3 code,
// mapped to the data set's labels.
func whatlang(reliableOnly bool) candidate {
	c := candidate{name: "whatlanggo", langs: map[string]bool{}}
	if !reliableOnly {
		c.name = "whatlanggo-raw"
	}
	fix := map[string]string{"cmn": "zh", "pes": "fa", "zsm": "ms", "nob": "nb", "swh": "sw", "uzb": "uz", "ydd": "yi", "tgl": "tl", "azj": "az", "ekk": "et", "lvs": "lv", "plt": "mg"}
	label := func(l whatlanggo.Lang) string {
		if s := l.Iso6391(); s != "" {
			return s
		}
		s := whatlanggo.LangToStringShort(l)
		if f, ok := fix[s]; ok {
			return f
		}
		return s
	}
	for l := range whatlanggo.Langs {
		c.langs[label(l)] = true
	}
	c.detect = func(s, _ string) string {
		info := whatlanggo.Detect(s)
		if reliableOnly && !info.IsReliable() {
			return "und"
		}
		return label(info.Lang)
	}
	return c
}

func linguaCand(low bool) candidate {
	b := lingua.NewLanguageDetectorBuilder().FromAllLanguages().WithPreloadedLanguageModels()
	name := "lingua-high"
	if low {
		b = b.WithLowAccuracyMode()
		name = "lingua-low"
	}
	d := b.Build()
	c := candidate{name: name, langs: map[string]bool{}}
	label := func(l lingua.Language) string {
		s := strings.ToLower(l.IsoCode639_1().String())
		if s == "nb" || s == "nn" {
			return s
		}
		return s
	}
	for _, l := range lingua.AllLanguages() {
		c.langs[label(l)] = true
	}
	c.detect = func(s, _ string) string {
		l, ok := d.DetectLanguageOf(s)
		if !ok {
			return "und"
		}
		return label(l)
	}
	return c
}
