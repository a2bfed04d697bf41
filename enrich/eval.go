package enrich

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// EvalOptions tune Evaluate.
type EvalOptions struct {
	// Lang, when set, is the language of every row; the first column is
	// then only an id (the VADER ground-truth files).
	Lang string
	// HeldOut keeps only the rows LangIDTestRow selects (language
	// evaluation on the Tatoeba set the profiles were built from).
	HeldOut bool
	// Declared passes the first column to the detector as the platform's
	// declared language (language evaluation only).
	Declared bool
}

// Evaluate measures the enricher on a labelled file and writes a report to
// w. kind is "sentiment" or "language". Rows are "lang TAB label TAB text";
// for language, "label TAB text" is accepted too. Sentiment labels are
// neg|neu|pos (or negative|neutral|positive), or numbers (continuous: Pearson
// r, then 3 classes with |label| < 0.5 neutral).
func (e *Enricher) Evaluate(kind string, r io.Reader, w io.Writer, opt EvalOptions) error {
	if kind != "sentiment" && kind != "language" {
		return fmt.Errorf("eval: unknown kind %q (want sentiment or language)", kind)
	}
	groups := map[string]*evalGroup{}
	all := newEvalGroup()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	rows := 0
	for line := 1; sc.Scan(); line++ {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) == 2 && kind == "language" {
			f = []string{f[0], f[0], f[1]}
		}
		if len(f) != 3 {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return fmt.Errorf("eval: line %d: want lang TAB label TAB text", line)
		}
		lang, label, text := f[0], f[1], f[2]
		if opt.Lang != "" {
			lang = opt.Lang
		}
		if opt.HeldOut && !LangIDTestRow(text) {
			continue
		}
		g := groups[lang]
		if g == nil {
			g = newEvalGroup()
			groups[lang] = g
		}
		rows++
		switch kind {
		case "language":
			declared := ""
			if opt.Declared {
				declared = f[0]
			}
			got, _ := e.DetectLanguage(text, declared)
			g.add(label, got, 0, 0, false)
			all.add(label, got, 0, 0, false)
		case "sentiment":
			s := e.senti.score(text, lang)
			gold, cont, err := sentimentGold(label)
			if err != nil {
				return fmt.Errorf("eval: line %d: %w", line, err)
			}
			got := shortLabel(s.label)
			lv, _ := strconv.ParseFloat(label, 64)
			g.add(gold, got, lv, s.score, cont)
			all.add(gold, got, lv, s.score, cont)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval: reading: %w", err)
	}
	if rows == 0 {
		return errors.New("eval: no rows")
	}
	langs := make([]string, 0, len(groups))
	for l := range groups {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "lang\trows\taccuracy\tabstained\tacc_decided\tpearson_r\n")
	for _, l := range langs {
		groups[l].summary(tw, l)
	}
	if len(langs) > 1 {
		all.summary(tw, "all")
	}
	tw.Flush()
	for _, l := range langs {
		fmt.Fprintf(w, "\n%s\n", l)
		groups[l].confusion(w)
	}
	return nil
}

func shortLabel(l string) string {
	switch l {
	case "positive":
		return "pos"
	case "negative":
		return "neg"
	}
	return "neu"
}

// sentimentGold parses a label: a class, or a number (continuous).
func sentimentGold(label string) (string, bool, error) {
	switch strings.ToLower(label) {
	case "pos", "positive":
		return "pos", false, nil
	case "neg", "negative":
		return "neg", false, nil
	case "neu", "neutral":
		return "neu", false, nil
	}
	v, err := strconv.ParseFloat(label, 64)
	if err != nil {
		return "", false, fmt.Errorf("label %q is neither a class nor a number", label)
	}
	switch {
	case v >= 0.5:
		return "pos", true, nil
	case v <= -0.5:
		return "neg", true, nil
	}
	return "neu", true, nil
}

type evalGroup struct {
	n, ok, und int
	predNeu    int // predicted neutral
	goldNeu    int // labelled neutral
	conf       map[[2]string]int
	labels     map[string]bool
	// for Pearson r
	cn                    int
	sx, sy, sxx, syy, sxy float64
}

func newEvalGroup() *evalGroup {
	return &evalGroup{conf: map[[2]string]int{}, labels: map[string]bool{}}
}

func (g *evalGroup) add(gold, got string, x, y float64, cont bool) {
	g.n++
	if gold == got {
		g.ok++
	}
	switch {
	case got == "und":
		g.und++
	case got == "neu":
		g.predNeu++
	}
	if gold == "neu" {
		g.goldNeu++
	}
	g.conf[[2]string{gold, got}]++
	g.labels[gold], g.labels[got] = true, true
	if cont {
		g.cn++
		g.sx += x
		g.sy += y
		g.sxx += x * x
		g.syy += y * y
		g.sxy += x * y
	}
}

func (g *evalGroup) pearson() float64 {
	n := float64(g.cn)
	cov := g.sxy - g.sx*g.sy/n
	vx := g.sxx - g.sx*g.sx/n
	vy := g.syy - g.sy*g.sy/n
	if vx <= 0 || vy <= 0 {
		return math.NaN()
	}
	return cov / math.Sqrt(vx*vy)
}

// summary prints accuracy over all rows, the share abstained ("und"; for
// sentiment on two-class data, a neutral prediction), and accuracy over
// the rows not abstained.
func (g *evalGroup) summary(w io.Writer, name string) {
	r := "-"
	if g.cn > 1 {
		r = fmt.Sprintf("%.3f", g.pearson())
	}
	und := g.und
	if !g.labels["neu"] || g.goldNeu == 0 {
		und += g.predNeu
	}
	decided := "-"
	if g.n > und {
		decided = fmt.Sprintf("%.1f%%", 100*float64(g.ok)/float64(g.n-und))
	}
	fmt.Fprintf(w, "%s\t%d\t%.1f%%\t%.1f%%\t%s\t%s\n", name, g.n, 100*float64(g.ok)/float64(g.n), 100*float64(und)/float64(g.n), decided, r)
}

// confusion prints gold (rows) × predicted (columns); with many labels
// only the most frequent confusions.
func (g *evalGroup) confusion(w io.Writer) {
	labels := make([]string, 0, len(g.labels))
	for l := range g.labels {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	if len(labels) > 8 {
		type c struct {
			k [2]string
			n int
		}
		var cs []c
		for k, n := range g.conf {
			if k[0] != k[1] {
				cs = append(cs, c{k, n})
			}
		}
		sort.Slice(cs, func(i, j int) bool {
			return cs[i].n > cs[j].n || cs[i].n == cs[j].n && cs[i].k[0]+cs[i].k[1] < cs[j].k[0]+cs[j].k[1]
		})
		fmt.Fprintln(w, "  most frequent confusions (gold -> predicted: rows)")
		for i, x := range cs {
			if i == 15 {
				break
			}
			fmt.Fprintf(w, "  %s -> %s: %d\n", x.k[0], x.k[1], x.n)
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "  gold\\pred\t")
	for _, l := range labels {
		fmt.Fprintf(tw, "%s\t", l)
	}
	fmt.Fprintln(tw)
	for _, a := range labels {
		fmt.Fprintf(tw, "  %s\t", a)
		for _, b := range labels {
			fmt.Fprintf(tw, "%d\t", g.conf[[2]string{a, b}])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
