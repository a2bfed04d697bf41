package enrich

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/internal/datasplit"
	"github.com/earshot-dev/earshot/post"
)

// IntentEvalOptions tune EvaluateIntent.
type IntentEvalOptions struct {
	// Part keeps only the rows of one part of the datasplit: train, dev,
	// test, or train+dev; empty for every row.
	Part string
	// Declared passes the first column to the enricher as the platform's
	// declared language; otherwise language detection alone decides.
	Declared bool
	// JSON writes the report as one JSON object.
	JSON bool
	// Sweep adds precision, recall and F1 at thresholds 0.10 to 0.90 per
	// intent (for choosing thresholds on a part you then do not report).
	Sweep bool
}

// IntentClassReport is one intent's figures.
type IntentClassReport struct {
	Intent    string  `json:"intent"`
	Support   int     `json:"support"`
	Predicted int     `json:"predicted"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// AllYesF1 is the F1 of tagging every post with the intent; the
	// majority baseline (tagging none, for a minority intent) has F1 0.
	AllYesF1 float64 `json:"all_yes_f1"`
	// MeanConfidence is the mean probability of the posts tagged with the
	// intent, beside Precision: calibrated, they are close.
	MeanConfidence float64            `json:"mean_confidence"`
	Brier          float64            `json:"brier"`
	Sweep          []IntentSweepPoint `json:"sweep,omitempty"`
}

// IntentSweepPoint is an intent's figures at one threshold.
type IntentSweepPoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// IntentLangReport is one language's figures.
type IntentLangReport struct {
	Lang       string  `json:"lang"`
	Rows       int     `json:"rows"`
	ExactMatch float64 `json:"exact_match"`
	MicroF1    float64 `json:"micro_f1"`
}

// IntentReport is the result of EvaluateIntent.
type IntentReport struct {
	Rows    int      `json:"rows"`
	Part    string   `json:"part"`
	Intents []string `json:"intents"` // the intents the file labels
	// ExactMatch is the share of posts whose tagged intents (among the
	// labelled ones) are exactly the gold ones; MajorityExactMatch is that
	// of always answering the most common gold set.
	ExactMatch         float64             `json:"exact_match"`
	MajorityExactMatch float64             `json:"majority_exact_match"`
	MajoritySet        string              `json:"majority_set"`
	MacroF1            float64             `json:"macro_f1"`
	MicroF1            float64             `json:"micro_f1"`
	Abstained          float64             `json:"abstained"`  // share tagged "other"
	GoldOther          float64             `json:"gold_other"` // share labelled "other"
	ECE                float64             `json:"ece"`        // expected calibration error of the labelled intents' probabilities, 10 bins
	PostsPerSec        float64             `json:"posts_per_sec"`
	Classes            []IntentClassReport `json:"classes"`
	Langs              []IntentLangReport  `json:"langs"`
	// Confusion counts single-label posts: gold → the top tagged intent.
	Confusion map[string]map[string]int `json:"confusion"`
}

// EvaluateIntent measures intent tagging on a labelled file (lang TAB
// intents TAB text; intents comma-separated, "other", or the complaints
// set's complaint|not) through the enricher's whole path, Enrich, and
// writes a report to w.
func (e *Enricher) EvaluateIntent(data []byte, w io.Writer, opt IntentEvalOptions) (*IntentReport, error) {
	rows, err := ParseIntentRows(data)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	// The intents the file labels at all (over every part).
	var labelled [numIntents]bool
	for _, r := range rows {
		for k, g := range r.Gold {
			labelled[k] = labelled[k] || g
		}
	}
	keep := func(string) bool { return true }
	switch opt.Part {
	case "":
	case "train", "dev", "test":
		keep = func(t string) bool { return datasplit.Of(t).String() == opt.Part }
	case "train+dev":
		keep = func(t string) bool { return datasplit.Of(t) != datasplit.Test }
	default:
		return nil, fmt.Errorf("eval: part %q, want train, dev, test or train+dev", opt.Part)
	}
	type result struct {
		lang  string
		gold  [numIntents]bool
		probs [numIntents]float64
		got   [numIntents]bool
		top   int
	}
	var res []result
	start := time.Now()
	for i, r := range rows {
		if !keep(r.Text) {
			continue
		}
		p := &post.Post{Platform: "eval", ID: strconv.Itoa(i), Text: r.Text}
		if opt.Declared {
			p.Lang = r.Lang
		}
		en := e.Enrich(p)
		x := result{lang: r.Lang, gold: r.Gold, top: -1}
		s := en.IntentScores
		x.probs = [numIntents]float64{float64(s.Complaint), float64(s.Question), float64(s.Praise), float64(s.Feedback),
			float64(s.Purchase), float64(s.Crisis), float64(s.Job), float64(s.Spam)}
		for _, name := range en.Intents {
			if k := intentIndex(name); k >= 0 && labelled[k] {
				x.got[k] = true
				if x.top < 0 || x.probs[k] > x.probs[x.top] {
					x.top = k
				}
			}
		}
		res = append(res, x)
	}
	elapsed := time.Since(start)
	if len(res) == 0 {
		return nil, fmt.Errorf("eval: no rows (part %q)", opt.Part)
	}
	rep := &IntentReport{Rows: len(res), Part: opt.Part, Confusion: map[string]map[string]int{}}
	if rep.Part == "" {
		rep.Part = "all"
	}
	rep.PostsPerSec = float64(len(res)) / elapsed.Seconds()
	setName := func(v [numIntents]bool) string {
		var s []string
		for k, b := range v {
			if b && labelled[k] {
				s = append(s, intentNames[k])
			}
		}
		if len(s) == 0 {
			return intentOther
		}
		return strings.Join(s, ",")
	}
	sets := map[string]int{}
	exact, abst, goldOther := 0, 0, 0
	var tpAll, fpAll, fnAll int
	var bins [10]struct {
		n, pos int
		sum    float64
	}
	langs := map[string]*[4]int{} // rows, exact, tp, fp+fn
	for _, x := range res {
		g, p := setName(x.gold), setName(x.got)
		sets[g]++
		lr := langs[x.lang]
		if lr == nil {
			lr = &[4]int{}
			langs[x.lang] = lr
		}
		lr[0]++
		if g == p {
			exact++
			lr[1]++
		}
		if p == intentOther {
			abst++
		}
		if g == intentOther {
			goldOther++
		}
		if !strings.Contains(g, ",") {
			top := intentOther
			if x.top >= 0 {
				top = intentNames[x.top]
			}
			if rep.Confusion[g] == nil {
				rep.Confusion[g] = map[string]int{}
			}
			rep.Confusion[g][top]++
		}
		for k := range numIntents {
			if !labelled[k] {
				continue
			}
			switch {
			case x.got[k] && x.gold[k]:
				tpAll++
				lr[2]++
			case x.got[k]:
				fpAll++
				lr[3]++
			case x.gold[k]:
				fnAll++
				lr[3]++
			}
			b := min(int(x.probs[k]*10), 9)
			bins[b].n++
			bins[b].sum += x.probs[k]
			if x.gold[k] {
				bins[b].pos++
			}
		}
	}
	n := float64(len(res))
	rep.ExactMatch = float64(exact) / n
	for s, c := range sets {
		if c > sets[rep.MajoritySet] || c == sets[rep.MajoritySet] && s < rep.MajoritySet {
			rep.MajoritySet = s
		}
	}
	rep.MajorityExactMatch = float64(sets[rep.MajoritySet]) / n
	rep.Abstained, rep.GoldOther = float64(abst)/n, float64(goldOther)/n
	rep.MicroF1 = f1(tpAll, fpAll, fnAll)
	total := 0
	for _, b := range bins {
		total += b.n
	}
	for _, b := range bins {
		if b.n > 0 {
			rep.ECE += float64(b.n) / float64(total) * math.Abs(b.sum/float64(b.n)-float64(b.pos)/float64(b.n))
		}
	}
	for k, name := range intentNames {
		if !labelled[k] {
			continue
		}
		rep.Intents = append(rep.Intents, name)
		c := IntentClassReport{Intent: name}
		var tp, fp, fn int
		var confSum, brier float64
		for _, x := range res {
			y := 0.0
			if x.gold[k] {
				c.Support++
				y = 1
			}
			brier += (x.probs[k] - y) * (x.probs[k] - y)
			if x.got[k] {
				c.Predicted++
				confSum += x.probs[k]
			}
			switch {
			case x.got[k] && x.gold[k]:
				tp++
			case x.got[k]:
				fp++
			case x.gold[k]:
				fn++
			}
		}
		c.Precision, c.Recall, c.F1 = ratio(tp, tp+fp), ratio(tp, tp+fn), f1(tp, fp, fn)
		c.AllYesF1 = f1(c.Support, len(res)-c.Support, 0)
		c.MeanConfidence = confSum / float64(c.Predicted)
		c.Brier = brier / n
		if opt.Sweep {
			for t := 0.10; t < 0.91; t += 0.05 {
				var tp, fp, fn int
				for _, x := range res {
					got := x.probs[k] >= t
					switch {
					case got && x.gold[k]:
						tp++
					case got:
						fp++
					case x.gold[k]:
						fn++
					}
				}
				c.Sweep = append(c.Sweep, IntentSweepPoint{math.Round(t*100) / 100, ratio(tp, tp+fp), ratio(tp, tp+fn), f1(tp, fp, fn)})
			}
		}
		rep.MacroF1 += c.F1
		rep.Classes = append(rep.Classes, c)
	}
	rep.MacroF1 /= float64(len(rep.Classes))
	for l, v := range langs {
		rep.Langs = append(rep.Langs, IntentLangReport{Lang: l, Rows: v[0], ExactMatch: float64(v[1]) / float64(v[0]), MicroF1: f1(v[2], v[3], 0)})
	}
	sort.Slice(rep.Langs, func(i, j int) bool { return rep.Langs[i].Lang < rep.Langs[j].Lang })
	if opt.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return rep, enc.Encode(nanToNeg(rep))
	}
	rep.write(w)
	return rep, nil
}

// f1 is 2tp / (2tp + fp + fn); 0 when nothing is tagged or labelled.
func f1(tp, fp, fn int) float64 {
	if d := 2*tp + fp + fn; d > 0 {
		return float64(2*tp) / float64(d)
	}
	return 0
}

// nanToNeg copies rep with NaN figures (precision with nothing tagged) as
// -1, which JSON can carry.
func nanToNeg(rep *IntentReport) *IntentReport {
	c := *rep
	fix := func(f *float64) {
		if math.IsNaN(*f) {
			*f = -1
		}
	}
	c.Classes = slices.Clone(rep.Classes)
	for i := range c.Classes {
		cl := &c.Classes[i]
		fix(&cl.Precision)
		fix(&cl.Recall)
		fix(&cl.MeanConfidence)
		cl.Sweep = slices.Clone(cl.Sweep)
		for j := range cl.Sweep {
			fix(&cl.Sweep[j].Precision)
			fix(&cl.Sweep[j].Recall)
		}
	}
	c.Langs = slices.Clone(rep.Langs)
	for i := range c.Langs {
		fix(&c.Langs[i].MicroF1)
	}
	return &c
}

func (rep *IntentReport) write(w io.Writer) {
	fmt.Fprintf(w, "intent: %d posts (part %s), labelled intents: %s\n", rep.Rows, rep.Part, strings.Join(rep.Intents, " "))
	fmt.Fprintf(w, "exact match %.1f%% (majority baseline %.1f%%, always %q); micro-F1 %.3f, macro-F1 %.3f\n",
		100*rep.ExactMatch, 100*rep.MajorityExactMatch, rep.MajoritySet, rep.MicroF1, rep.MacroF1)
	fmt.Fprintf(w, "abstained (tagged other) %.1f%% (labelled other %.1f%%); calibration error (ECE) %.3f; %.0f posts/s through Enrich\n\n",
		100*rep.Abstained, 100*rep.GoldOther, rep.ECE, rep.PostsPerSec)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "intent\tsupport\ttagged\tprecision\trecall\tF1\tall-yes F1\tmean conf\tbrier")
	for _, c := range rep.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%.3f\t%.3f\t%s\t%.3f\n", c.Intent, c.Support, c.Predicted, pct(c.Precision), pct(c.Recall), c.F1, c.AllYesF1, pct(c.MeanConfidence), c.Brier)
	}
	tw.Flush()
	fmt.Fprintln(w, "(majority baseline per intent: tag nothing, F1 0; all-yes: tag every post)")
	if len(rep.Langs) > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "lang\trows\texact match\tmicro-F1")
		for _, l := range rep.Langs {
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.3f\n", l.Lang, l.Rows, 100*l.ExactMatch, l.MicroF1)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nconfusion (single-label posts; gold rows, top tagged intent columns)")
	labels := append(slices.Clone(rep.Intents), intentOther)
	tw = tabwriter.NewWriter(w, 0, 4, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "gold\\tagged\t")
	for _, l := range labels {
		fmt.Fprintf(tw, "%.5s\t", l)
	}
	fmt.Fprintln(tw)
	for _, g := range labels {
		if rep.Confusion[g] == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t", g)
		for _, l := range labels {
			fmt.Fprintf(tw, "%d\t", rep.Confusion[g][l])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, c := range rep.Classes {
		if len(c.Sweep) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s by threshold\n", c.Intent)
		for _, s := range c.Sweep {
			fmt.Fprintf(w, "  %.2f  P %s  R %s  F1 %.3f\n", s.Threshold, pct(s.Precision), pct(s.Recall), s.F1)
		}
	}
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}
