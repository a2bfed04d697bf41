package enrich

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/internal/datasplit"
	"github.com/earshot-dev/earshot/post"
)

// ModelEvalOptions tune EvaluateModel.
type ModelEvalOptions struct {
	// Lang, when set, is the language of every row; the first column is
	// then only an id (the VADER ground-truth files). It is used to group
	// rows, never given to the detector.
	Lang string
	// Declared passes the first column to the detector as the platform's
	// declared language; otherwise the detector sees the text alone.
	Declared bool
	// Part keeps only the rows of one datasplit part ("train", "dev",
	// "test"); empty keeps all (a whole validation file).
	Part string
	// Polarity: on a pos/neg file, decide by the calibrated probabilities
	// of positive and negative (what a chart of positive against negative
	// share shows), abstaining only when the model did ("unknown"), rather
	// than counting a neutral label as an abstention.
	Polarity bool
}

// ClassFigures are one class's precision and recall.
type ClassFigures struct {
	Label     string  `json:"label"`
	Gold      int     `json:"gold"`
	Predicted int     `json:"predicted"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// EvalFigures are the figures of one group of rows (a language, or all).
type EvalFigures struct {
	Group    string  `json:"group"`
	Rows     int     `json:"rows"`
	Correct  int     `json:"correct"`
	Abstain  int     `json:"abstained"`
	Accuracy float64 `json:"accuracy"` // over all rows; an abstention is wrong
	// AccuracyDecided is over the rows not abstained; MajorityDecided the
	// majority-class share among those rows (the baseline it is to beat).
	AccuracyDecided float64                   `json:"accuracy_decided"`
	MajorityDecided float64                   `json:"majority_decided"`
	AbstainRate     float64                   `json:"abstention_rate"`
	Majority        float64                   `json:"majority_baseline"` // share of the most common gold label
	MajorityLabel   string                    `json:"majority_label"`
	MacroF1         float64                   `json:"macro_f1"`     // over the gold classes
	MacroRecall     float64                   `json:"macro_recall"` // over the gold classes
	Classes         []ClassFigures            `json:"classes"`
	Confusion       map[string]map[string]int `json:"confusion"` // gold -> predicted -> rows
	PearsonR        *float64                  `json:"pearson_r,omitempty"`
	// ECE is the expected calibration error of the confidences on the
	// decided rows (10 equal-width bins: |accuracy − mean confidence|,
	// weighted by the bin's rows); 0 is perfectly calibrated. Not for
	// pos/neg files, where the confidence is of a three-class label.
	ECE *float64 `json:"ece,omitempty"` // continuous gold labels only
}

// EvalReport is what EvaluateModel measured.
type EvalReport struct {
	Kind        string        `json:"kind"`
	Task        string        `json:"task"` // 3-class, pos/neg, emotion, irony
	PostsPerSec float64       `json:"posts_per_sec"`
	Groups      []EvalFigures `json:"groups"` // per language, then "all"
}

// EvaluateModel measures one judgement of the enricher — kind sentiment,
// emotion or irony — on a labelled file, through exactly the path the
// enrich stage takes (Enrich, language detection on). Rows are "lang TAB
// label TAB text". Sentiment labels are neg|neu|pos (a file with no neu is
// pos/neg: a neutral or unknown answer is then an abstention), or numbers
// (continuous: Pearson r with the score, and three classes with
// |label| < 0.5 neutral). Texts go through CleanDatasetText first.
func (e *Enricher) EvaluateModel(kind string, r io.Reader, opt ModelEvalOptions) (*EvalReport, error) {
	switch kind {
	case "sentiment", "emotion", "irony":
	default:
		return nil, fmt.Errorf("eval: unknown kind %q (want sentiment, emotion or irony)", kind)
	}
	type row struct {
		lang, gold, text string
		cont             float64
		isCont           bool
	}
	var rows []row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return nil, fmt.Errorf("eval: line %d: want lang TAB label TAB text", line)
		}
		if opt.Part != "" && datasplit.Of(f[2]).String() != opt.Part {
			continue
		}
		rw := row{lang: f[0], gold: f[1], text: f[2]}
		if kind == "sentiment" {
			g, cont, err := sentimentGold(f[1])
			if err != nil {
				return nil, fmt.Errorf("eval: line %d: %w", line, err)
			}
			rw.gold, rw.isCont = g, cont
			if cont {
				rw.cont, _ = strconv.ParseFloat(f[1], 64)
			}
		}
		rows = append(rows, rw)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: reading: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("eval: no rows")
	}
	rep := &EvalReport{Kind: kind, Task: kind}
	twoClass := false
	if kind == "sentiment" {
		rep.Task = "3-class"
		twoClass = !slices.ContainsFunc(rows, func(r row) bool { return r.gold == "neu" })
		if twoClass {
			rep.Task = "pos/neg (a neutral label abstains)"
			if opt.Polarity {
				rep.Task = "pos/neg (by polarity: positive against negative probability)"
			}
		}
	}
	type acc struct {
		golds, preds []string
		x, y         []float64
		conf         []float64
	}
	groups := map[string]*acc{}
	all := &acc{}
	start := time.Now()
	for _, rw := range rows {
		text := CleanDatasetText(rw.text)
		p := &post.Post{Text: text}
		if opt.Declared {
			p.Lang = rw.lang
		}
		en := e.Enrich(p)
		var pred string
		var conf float64
		switch kind {
		case "sentiment":
			pred, conf = shortLabel(en.SentimentLabel), en.SentimentConfidence
			switch {
			case en.SentimentLabel == "unknown":
				pred = ""
			case twoClass && opt.Polarity && en.SentimentProbs[2] >= en.SentimentProbs[0]:
				pred = "pos"
			case twoClass && opt.Polarity:
				pred = "neg"
			case twoClass && pred == "neu":
				pred = ""
			}
		case "emotion":
			pred, conf = en.Emotion, en.EmotionConfidence
		case "irony":
			pred, conf = "non_irony", en.IronyConfidence
			if en.Irony {
				pred = "irony"
			}
		}
		lang := rw.lang
		if opt.Lang != "" {
			lang = opt.Lang
		}
		g := groups[lang]
		if g == nil {
			g = &acc{}
			groups[lang] = g
		}
		for _, a := range []*acc{g, all} {
			a.golds, a.preds, a.conf = append(a.golds, rw.gold), append(a.preds, pred), append(a.conf, conf)
			if rw.isCont {
				a.x, a.y = append(a.x, rw.cont), append(a.y, en.Sentiment)
			}
		}
	}
	rep.PostsPerSec = float64(len(rows)) / time.Since(start).Seconds()
	names := make([]string, 0, len(groups))
	for l := range groups {
		names = append(names, l)
	}
	slices.Sort(names)
	fig := func(name string, a *acc) EvalFigures {
		f := figures(name, a.golds, a.preds, a.x, a.y)
		if !twoClass {
			e := calibrationError(a.golds, a.preds, a.conf)
			f.ECE = &e
		}
		return f
	}
	for _, l := range names {
		rep.Groups = append(rep.Groups, fig(l, groups[l]))
	}
	if len(names) > 1 {
		rep.Groups = append(rep.Groups, fig("all", all))
	}
	return rep, nil
}

// figures computes a group's figures; an empty prediction is an abstention.
func figures(name string, golds, preds []string, x, y []float64) EvalFigures {
	f := EvalFigures{Group: name, Rows: len(golds), Confusion: map[string]map[string]int{}}
	goldN, predN, hit := map[string]int{}, map[string]int{}, map[string]int{}
	decidedGold := map[string]int{}
	for i, g := range golds {
		p := preds[i]
		goldN[g]++
		if f.Confusion[g] == nil {
			f.Confusion[g] = map[string]int{}
		}
		if p == "" {
			f.Abstain++
			f.Confusion[g]["abstain"]++
			continue
		}
		f.Confusion[g][p]++
		predN[p]++
		decidedGold[g]++
		if p == g {
			f.Correct++
			hit[g]++
		}
	}
	n := float64(f.Rows)
	f.Accuracy = float64(f.Correct) / n
	f.AbstainRate = float64(f.Abstain) / n
	if d := f.Rows - f.Abstain; d > 0 {
		f.AccuracyDecided = float64(f.Correct) / float64(d)
		f.MajorityDecided = float64(maxCount(decidedGold)) / float64(d)
	}
	labels := make([]string, 0, len(goldN))
	for l := range goldN {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, l := range labels {
		if goldN[l] > goldN[f.MajorityLabel] || f.MajorityLabel == "" {
			f.MajorityLabel = l
		}
		c := ClassFigures{Label: l, Gold: goldN[l], Predicted: predN[l]}
		if predN[l] > 0 {
			c.Precision = float64(hit[l]) / float64(predN[l])
		}
		c.Recall = float64(hit[l]) / float64(goldN[l])
		if c.Precision+c.Recall > 0 {
			c.F1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
		}
		f.MacroF1 += c.F1 / float64(len(labels))
		f.MacroRecall += c.Recall / float64(len(labels))
		f.Classes = append(f.Classes, c)
	}
	f.Majority = float64(goldN[f.MajorityLabel]) / n
	if len(x) > 1 {
		r := pearson(x, y)
		f.PearsonR = &r
	}
	return f
}

// calibrationError is the expected calibration error over the decided rows.
func calibrationError(golds, preds []string, conf []float64) float64 {
	var n, ok [10]int
	var sum [10]float64
	total := 0
	for i, p := range preds {
		if p == "" {
			continue
		}
		b := min(9, max(0, int(conf[i]*10)))
		n[b]++
		sum[b] += conf[i]
		if p == golds[i] {
			ok[b]++
		}
		total++
	}
	if total == 0 {
		return 0
	}
	var e float64
	for b := range n {
		if n[b] > 0 {
			e += math.Abs(float64(ok[b])/float64(n[b])-sum[b]/float64(n[b])) * float64(n[b]) / float64(total)
		}
	}
	return e
}

func maxCount(m map[string]int) int {
	mx := 0
	for _, c := range m {
		mx = max(mx, c)
	}
	return mx
}

func pearson(x, y []float64) float64 {
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx, sy = sx+x[i], sy+y[i]
		sxx, syy, sxy = sxx+x[i]*x[i], syy+y[i]*y[i], sxy+x[i]*y[i]
	}
	n := float64(len(x))
	vx, vy := sxx-sx*sx/n, syy-sy*sy/n
	if vx <= 0 || vy <= 0 {
		return math.NaN()
	}
	return (sxy - sx*sy/n) / math.Sqrt(vx*vy)
}

// WriteJSON writes the report as indented JSON.
func (r *EvalReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as tables: a summary per group, then each
// group's per-class precision and recall and its confusion matrix.
func (r *EvalReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s (%s), %.0f posts/s through Enrich\n", r.Kind, r.Task, r.PostsPerSec)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "group\trows\taccuracy\tmacro_f1\tmacro_recall\tmajority\tabstained\tacc_decided\tmajority_decided\tece\tpearson_r")
	for _, g := range r.Groups {
		pr := "-"
		if g.PearsonR != nil {
			pr = fmt.Sprintf("%.3f", *g.PearsonR)
		}
		ece := "-"
		if g.ECE != nil {
			ece = fmt.Sprintf("%.3f", *g.ECE)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f (%s)\t%.1f%%\t%.3f\t%.3f\t%s\t%s\n", g.Group, g.Rows, g.Accuracy, g.MacroF1, g.MacroRecall,
			g.Majority, g.MajorityLabel, 100*g.AbstainRate, g.AccuracyDecided, g.MajorityDecided, ece, pr)
	}
	tw.Flush()
	for _, g := range r.Groups {
		fmt.Fprintf(w, "\n%s\n", g.Group)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "  class\tgold\tpredicted\tprecision\trecall\tf1\t\n")
		for _, c := range g.Classes {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.Label, c.Gold, c.Predicted, c.Precision, c.Recall, c.F1)
		}
		tw.Flush()
		preds := map[string]bool{}
		for _, row := range g.Confusion {
			for p := range row {
				preds[p] = true
			}
		}
		cols := make([]string, 0, len(preds))
		for p := range preds {
			cols = append(cols, p)
		}
		slices.Sort(cols)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "  gold\\pred\t")
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", c)
		}
		fmt.Fprintln(tw)
		for _, c := range g.Classes {
			fmt.Fprintf(tw, "  %s\t", c.Label)
			for _, p := range cols {
				fmt.Fprintf(tw, "%d\t", g.Confusion[c.Label][p])
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	return nil
}
