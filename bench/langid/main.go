// Command langid compares language identifiers on the held-out split of the
// Tatoeba short sentences (the rows enrich.LangIDTestRow selects; earshot's
// own profiles are built from the other rows).
//
//	cd bench/langid && GOMAXPROCS=1 go run . -data /work/shared/data/langid/tatoeba_laser_112.tsv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/abadojack/whatlanggo"
	"github.com/earshot-dev/earshot/enrich"
	"github.com/pemistahl/lingua-go"
)

type row struct{ lang, text string }

type candidate struct {
	name   string
	langs  map[string]bool // labels it can return
	detect func(string) string
}

func main() {
	data := flag.String("data", "/work/shared/data/langid/tatoeba_laser_112.tsv", "lang TAB text")
	only := flag.String("only", "", "comma-separated candidates to run (default all)")
	flag.Parse()
	rows, err := load(*data)
	if err != nil {
		log.Fatal(err)
	}
	var cands []func() candidate
	cands = append(cands, earshot, func() candidate { return whatlang(true) }, func() candidate { return whatlang(false) }, func() candidate { return linguaCand(true) }, func() candidate { return linguaCand(false) })
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
		c.detect("warm up the models")
		load := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&after)
		fmt.Printf("# %s: %d languages, load %v, heap %.1f MiB\n", c.name, len(c.langs), load.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
		built = append(built, c)
	}
	common := map[string]bool{}
	for _, r := range rows {
		all := true
		for _, c := range built {
			all = all && c.langs[r.lang]
		}
		common[r.lang] = all
	}
	fmt.Println("| candidate | accuracy, own languages (rows) | accuracy, languages all support (rows) | abstained | µs/sentence (1 core) |")
	fmt.Println("|---|---|---|---|---|")
	perLang := map[string]map[string][2]int{}
	for _, c := range built {
		var own, ownOK, com, comOK, und int
		pl := map[string][2]int{}
		t0 := time.Now()
		for _, r := range rows {
			got := c.detect(r.text)
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
			if common[r.lang] {
				com++
				if ok {
					comOK++
				}
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
		fmt.Printf("| %s | %.1f%% (%d) | %.1f%% (%d) | %.1f%% | %.1f |\n", c.name, pct(ownOK, own), own, pct(comOK, com), com,
			pct(und, own), float64(el.Microseconds())/float64(len(rows)))
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

func earshot() candidate {
	e := enrich.New(enrich.Config{})
	c := candidate{name: "earshot", langs: map[string]bool{}}
	for _, l := range e.Languages() {
		c.langs[l] = true
	}
	c.detect = func(s string) string { l, _ := e.DetectLanguage(s, ""); return l }
	return c
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
	c.detect = func(s string) string {
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
	c.detect = func(s string) string {
		l, ok := d.DetectLanguageOf(s)
		if !ok {
			return "und"
		}
		return label(l)
	}
	return c
}
