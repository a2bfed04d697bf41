package enrich

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/earshot-dev/earshot/internal/datasplit"
)

// LangEvalOptions tune EvaluateLanguage.
type LangEvalOptions struct {
	// Split keeps only the rows of one datasplit part ("train", "dev",
	// "test"); empty keeps all. Tatoeba rows (two columns) use
	// LangIDTestRow for "test" instead, as the model does.
	Split string
	// Declared passes the gold language to the detector as the platform's
	// declared language (measures the prior; an upper bound, real declared
	// labels are noisier).
	Declared bool
}

// LangCloseGroups are the close languages whose confusions are reported
// together. The first, BCMS, is also a documented group: a prediction of
// any of bs, hr, sr or sh for a text labelled bs, hr or sr counts as right
// in the grouped accuracy.
var LangCloseGroups = [][]string{
	{"bs", "hr", "sr", "sh"},
	{"sr", "mk", "bg", "ru"},
	{"cs", "sk"},
	{"id", "ms"},
	{"da", "nb", "nn", "sv"},
	{"es", "gl", "ca", "pt"},
	{"hi", "en"},
}

// LangEvalReport is what EvaluateLanguage measures.
type LangEvalReport struct {
	Rows           int                     `json:"rows"`
	Accuracy       float64                 `json:"accuracy"`         // exact label
	AccuracyGroup  float64                 `json:"accuracy_grouped"` // BCMS counted as one
	MacroRecall    float64                 `json:"macro_recall"`     // mean over gold languages, exact
	MacroGroup     float64                 `json:"macro_recall_grouped"`
	Abstained      float64                 `json:"abstained"` // share "und"
	Majority       float64                 `json:"majority_baseline"`
	PerLang        []LangEvalLang          `json:"languages"`
	PerFile        map[string]LangEvalFile `json:"files"`
	Confusion      []LangEvalConfusion     `json:"close_pairs"`
	Reliability    []LangEvalBin           `json:"reliability"`
	TopConfusions  []LangEvalCell          `json:"top_confusions"`
	DeclaredPassed bool                    `json:"declared"`
}

// LangEvalLang is one gold or predicted language's figures.
type LangEvalLang struct {
	Lang      string  `json:"lang"`
	Gold      int     `json:"gold"`
	Predicted int     `json:"predicted"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	RecallGrp float64 `json:"recall_grouped"`
	F1        float64 `json:"f1"`
	Abstained int     `json:"abstained"`
}

// LangEvalFile is one input file's accuracy.
type LangEvalFile struct {
	Rows          int     `json:"rows"`
	Accuracy      float64 `json:"accuracy"`
	AccuracyGroup float64 `json:"accuracy_grouped"`
}

// LangEvalConfusion is a close group's gold × predicted counts ("other"
// for any language outside the group).
type LangEvalConfusion struct {
	Langs []string         `json:"langs"`
	Cells map[string]int   `json:"cells"` // "gold>pred"
	Gold  map[string]int   `json:"gold"`
	Rate  map[string]float `json:"-"`
}

type float = float64

// LangEvalCell is one gold → predicted count.
type LangEvalCell struct {
	Gold string `json:"gold"`
	Pred string `json:"pred"`
	N    int    `json:"n"`
}

// LangEvalBin is one decile of confidence: how often the answer was right
// (grouped) when the detector said this confident.
type LangEvalBin struct {
	Lo, Hi   float64 `json:"-"`
	Range    string  `json:"range"`
	N        int     `json:"n"`
	MeanConf float64 `json:"mean_confidence"`
	Accuracy float64 `json:"accuracy"`
}

// langGold maps a data set's language label to the detector's code.
func langGold(l string) string {
	switch l {
	case "hi-Latn":
		return "hi"
	case "arz", "arq":
		return "ar"
	}
	return l
}

func bcms(l string) bool { return l == "bs" || l == "hr" || l == "sr" || l == LangBCMS }

// langRightGrouped: right, counting the BCMS group as one language.
func langRightGrouped(gold, got string) bool {
	return gold == got || bcms(gold) && bcms(got)
}

// EvaluateLanguage measures the detector on labelled files ("lang TAB text"
// or "lang TAB label TAB text"; the first column is the language) and
// writes a report, as a table or JSON.
func (e *Enricher) EvaluateLanguage(files map[string]io.Reader, w io.Writer, opt LangEvalOptions, asJSON bool) error {
	var want datasplit.Part
	switch opt.Split {
	case "", "all":
	case "train":
		want = datasplit.Train
	case "dev":
		want = datasplit.Dev
	case "test":
		want = datasplit.Test
	default:
		return fmt.Errorf("eval: unknown split %q (want train, dev, test or all)", opt.Split)
	}
	type res struct {
		gold, got, file string
		conf            float64
	}
	var rs []res
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		sc := bufio.NewScanner(files[name])
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for line := 1; sc.Scan(); line++ {
			f := strings.Split(sc.Text(), "\t")
			if len(f) < 2 || len(f) > 3 {
				if strings.TrimSpace(sc.Text()) == "" {
					continue
				}
				return fmt.Errorf("eval: %s line %d: want lang TAB [label TAB] text", name, line)
			}
			gold, text := langGold(f[0]), f[len(f)-1]
			if opt.Split != "" && opt.Split != "all" {
				var part datasplit.Part
				if len(f) == 2 { // Tatoeba: its own recorded held-out fifth
					part = datasplit.Train
					if LangIDTestRow(text) {
						part = datasplit.Test
					} else if datasplit.Of(text) == datasplit.Dev {
						part = datasplit.Dev
					}
				} else {
					part = datasplit.Of(text)
				}
				if part != want {
					continue
				}
			}
			declared := ""
			if opt.Declared {
				declared = gold
			}
			got, conf := e.DetectLanguage(text, declared)
			rs = append(rs, res{gold, got, name, conf})
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("eval: reading %s: %w", name, err)
		}
	}
	if len(rs) == 0 {
		return errors.New("eval: no rows")
	}
	rep := LangEvalReport{Rows: len(rs), PerFile: map[string]LangEvalFile{}, DeclaredPassed: opt.Declared}
	gold, pred, ok, okG, und := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	cells := map[[2]string]int{}
	type fc struct{ n, ok, okG int }
	perFile := map[string]*fc{}
	var nOK, nOKG, nUnd int
	bins := make([]LangEvalBin, 10)
	for i := range bins {
		bins[i].Lo, bins[i].Hi = float64(i)/10, float64(i+1)/10
		bins[i].Range = fmt.Sprintf("%.1f–%.1f", bins[i].Lo, bins[i].Hi)
	}
	for _, r := range rs {
		gold[r.gold]++
		pred[r.got]++
		cells[[2]string{r.gold, r.got}]++
		pf := perFile[r.file]
		if pf == nil {
			pf = &fc{}
			perFile[r.file] = pf
		}
		pf.n++
		if r.got == "und" {
			und[r.gold]++
			nUnd++
		}
		if r.gold == r.got {
			ok[r.gold]++
			nOK++
			pf.ok++
		}
		g := langRightGrouped(r.gold, r.got)
		if g {
			okG[r.gold]++
			nOKG++
			pf.okG++
		}
		if r.got != "und" {
			b := &bins[min(9, int(r.conf*10))]
			b.N++
			b.MeanConf += r.conf
			if g {
				b.Accuracy++
			}
		}
	}
	n := float64(len(rs))
	rep.Accuracy, rep.AccuracyGroup, rep.Abstained = float64(nOK)/n, float64(nOKG)/n, float64(nUnd)/n
	maj := 0
	for _, c := range gold {
		maj = max(maj, c)
	}
	rep.Majority = float64(maj) / n
	for i := range bins {
		if bins[i].N > 0 {
			bins[i].MeanConf /= float64(bins[i].N)
			bins[i].Accuracy /= float64(bins[i].N)
		}
	}
	rep.Reliability = bins
	for _, name := range names {
		if pf := perFile[name]; pf != nil {
			rep.PerFile[name] = LangEvalFile{pf.n, float64(pf.ok) / float64(pf.n), float64(pf.okG) / float64(pf.n)}
		}
	}
	langs := map[string]bool{}
	for l := range gold {
		langs[l] = true
	}
	for l := range pred {
		if l != "und" {
			langs[l] = true
		}
	}
	for l := range langs {
		ll := LangEvalLang{Lang: l, Gold: gold[l], Predicted: pred[l], Abstained: und[l]}
		if pred[l] > 0 {
			ll.Precision = float64(ok[l]) / float64(pred[l])
		}
		if gold[l] > 0 {
			ll.Recall = float64(ok[l]) / float64(gold[l])
			ll.RecallGrp = float64(okG[l]) / float64(gold[l])
			rep.MacroRecall += ll.Recall
			rep.MacroGroup += ll.RecallGrp
		}
		if ll.Precision+ll.Recall > 0 {
			ll.F1 = 2 * ll.Precision * ll.Recall / (ll.Precision + ll.Recall)
		}
		rep.PerLang = append(rep.PerLang, ll)
	}
	rep.MacroRecall /= float64(len(gold))
	rep.MacroGroup /= float64(len(gold))
	sort.Slice(rep.PerLang, func(i, j int) bool { return rep.PerLang[i].Lang < rep.PerLang[j].Lang })
	for _, grp := range LangCloseGroups {
		in := map[string]bool{}
		for _, l := range grp {
			in[l] = true
		}
		c := LangEvalConfusion{Langs: grp, Cells: map[string]int{}, Gold: map[string]int{}}
		any := false
		for k, v := range cells {
			if !in[k[0]] {
				continue
			}
			any = true
			p := k[1]
			if !in[p] {
				p = "other"
			}
			c.Cells[k[0]+">"+p] += v
			c.Gold[k[0]] += v
		}
		if any {
			rep.Confusion = append(rep.Confusion, c)
		}
	}
	for k, v := range cells {
		if k[0] != k[1] {
			rep.TopConfusions = append(rep.TopConfusions, LangEvalCell{k[0], k[1], v})
		}
	}
	sort.Slice(rep.TopConfusions, func(i, j int) bool {
		a, b := rep.TopConfusions[i], rep.TopConfusions[j]
		return a.N > b.N || a.N == b.N && a.Gold+a.Pred < b.Gold+b.Pred
	})
	if len(rep.TopConfusions) > 20 {
		rep.TopConfusions = rep.TopConfusions[:20]
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.write(w)
	return nil
}

func (rep *LangEvalReport) write(w io.Writer) {
	fmt.Fprintf(w, "rows %d  accuracy %.1f%% (BCMS grouped %.1f%%)  macro recall %.1f%% (grouped %.1f%%)  abstained %.1f%%  majority baseline %.1f%%  declared passed: %v\n",
		rep.Rows, 100*rep.Accuracy, 100*rep.AccuracyGroup, 100*rep.MacroRecall, 100*rep.MacroGroup, 100*rep.Abstained, 100*rep.Majority, rep.DeclaredPassed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nfile\trows\taccuracy\tgrouped")
	var fs []string
	for f := range rep.PerFile {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	for _, f := range fs {
		v := rep.PerFile[f]
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\n", f, v.Rows, 100*v.Accuracy, 100*v.AccuracyGroup)
	}
	fmt.Fprintln(tw, "\nlang\tgold\tpredicted\tprecision\trecall\trecall_grouped\tf1\tabstained")
	for _, l := range rep.PerLang {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%.1f%%\t%.1f%%\t%.3f\t%d\n", l.Lang, l.Gold, l.Predicted, 100*l.Precision, 100*l.Recall, 100*l.RecallGrp, l.F1, l.Abstained)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nclose pairs (gold -> predicted: rows)")
	for _, c := range rep.Confusion {
		fmt.Fprintf(w, "  %s:", strings.Join(c.Langs, "/"))
		var ks []string
		for k := range c.Cells {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(w, " %s %d", strings.Replace(k, ">", "->", 1), c.Cells[k])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nreliability (confidence decile: rows, mean confidence, accuracy grouped)")
	for _, b := range rep.Reliability {
		if b.N > 0 {
			fmt.Fprintf(w, "  %s  %6d  %.2f  %.1f%%\n", b.Range, b.N, b.MeanConf, 100*b.Accuracy)
		}
	}
	fmt.Fprintln(w, "\nmost frequent confusions")
	for _, c := range rep.TopConfusions {
		fmt.Fprintf(w, "  %s -> %s: %d\n", c.Gold, c.Pred, c.N)
	}
}
