package enrich

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// The figures of a small hand-counted confusion.
func TestEvalFigures(t *testing.T) {
	golds := []string{"neg", "neg", "neg", "neu", "neu", "pos", "pos", "pos", "pos", "pos"}
	preds := []string{"neg", "neu", "", "neu", "pos", "pos", "pos", "pos", "neg", ""}
	f := figures("x", golds, preds, nil, nil)
	if f.Rows != 10 || f.Correct != 5 || f.Abstain != 2 || !near(f.Accuracy, 0.5) || !near(f.AccuracyDecided, 5.0/8) {
		t.Fatalf("%+v", f)
	}
	if f.MajorityLabel != "pos" || !near(f.Majority, 0.5) || !near(f.MajorityDecided, 4.0/8) {
		t.Errorf("majority %s %v, decided %v", f.MajorityLabel, f.Majority, f.MajorityDecided)
	}
	// recall: neg 1/3, neu 1/2, pos 3/5; precision: neg 1/2, neu 1/2, pos 3/4
	if !near(f.MacroRecall, (1.0/3+0.5+0.6)/3) {
		t.Errorf("macro-recall %v", f.MacroRecall)
	}
	f1 := func(p, r float64) float64 { return 2 * p * r / (p + r) }
	if want := (f1(0.5, 1.0/3) + f1(0.5, 0.5) + f1(0.75, 0.6)) / 3; !near(f.MacroF1, want) {
		t.Errorf("macro-F1 %v, want %v", f.MacroF1, want)
	}
	if f.Confusion["pos"]["abstain"] != 1 || f.Confusion["neg"]["neu"] != 1 || f.Confusion["pos"]["neg"] != 1 {
		t.Errorf("confusion %v", f.Confusion)
	}
}

// EvaluateModel on a file of the hard cases: every row counted, the JSON
// report parses, a two-class file is treated as pos/neg, bad rows fail.
func TestEvaluateModel(t *testing.T) {
	e := testEnricher()
	var b strings.Builder
	for _, c := range sentimentHardCases {
		b.WriteString(c.lang + "\t" + shortLabel(c.want) + "\t" + c.text + "\n")
	}
	rep, err := e.EvaluateModel("sentiment", strings.NewReader(b.String()), ModelEvalOptions{Declared: true})
	if err != nil {
		t.Fatal(err)
	}
	all := rep.Groups[len(rep.Groups)-1]
	if all.Group != "all" || all.Rows != len(sentimentHardCases) || rep.Task != "pos/neg (a neutral label abstains)" {
		t.Fatalf("task %q, last group %+v", rep.Task, all)
	}
	if all.AccuracyDecided < 0.9 {
		t.Errorf("hard cases through Enrich: %.2f right when decided", all.AccuracyDecided)
	}
	var out bytes.Buffer
	if err := rep.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var back EvalReport
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || len(back.Groups) != len(rep.Groups) {
		t.Fatalf("JSON round trip: %v", err)
	}
	out.Reset()
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "macro_recall") {
		t.Errorf("text report: %v\n%s", err, out.String())
	}
	for _, bad := range []string{"", "en\tpos\n", "en\tmaybe\ttext\n"} {
		if _, err := e.EvaluateModel("sentiment", strings.NewReader(bad), ModelEvalOptions{}); err == nil {
			t.Errorf("EvaluateModel(%q) succeeded", bad)
		}
	}
	if _, err := e.EvaluateModel("sarcasm", strings.NewReader("en\tx\ty\n"), ModelEvalOptions{}); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

func TestCalibrationError(t *testing.T) {
	// bin 0.9: 2 rows at 0.9, one right (accuracy 0.5); bin 0.5: 2 rows at
	// 0.5, both right; an abstention is left out.
	golds := []string{"a", "a", "a", "a", "a"}
	preds := []string{"a", "b", "a", "a", ""}
	conf := []float64{0.9, 0.9, 0.5, 0.5, 0.1}
	if got, want := calibrationError(golds, preds, conf), (0.4*2+0.5*2)/4; !near(got, want) {
		t.Errorf("ECE %v, want %v", got, want)
	}
	if got := calibrationError(golds, []string{"", "", "", "", ""}, conf); got != 0 {
		t.Errorf("ECE with nothing decided: %v", got)
	}
}
