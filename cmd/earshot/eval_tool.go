package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/earshot-dev/earshot/enrich"
)

// evalTool runs `earshot eval sentiment|language [flags] FILE`: accuracy per
// language with a confusion matrix, on a lang TAB label TAB text file.
func evalTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "", "the language of every row; the first column is then an id (VADER ground-truth files)")
	heldOut := fs.Bool("held-out", false, "only the Tatoeba rows held out from the language profiles")
	declared := fs.Bool("declared", false, "pass the first column to the detector as the platform's declared language")
	part := fs.String("part", "", "sentiment, emotion, irony, intent: only the rows of this datasplit part (train, dev, test; intent also train+dev)")
	asJSON := fs.Bool("json", false, "sentiment, emotion, irony, intent: the report as JSON")
	polarity := fs.Bool("polarity", false, "sentiment on a pos/neg file: decide by positive against negative probability; only an unknown abstains")
	sweep := fs.Bool("sweep", false, "intent: precision and recall at thresholds 0.10-0.90 (choose on a part you do not report)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: earshot eval sentiment|emotion|irony|intent|language [--lang L] [--held-out] [--declared] [--part P] [--json] [--polarity] [--sweep] FILE")
		fs.PrintDefaults()
	}
	if len(args) > 0 && args[0] == "language" {
		return evalLanguageTool(args[1:], stdout, stderr)
	}
	if helpWanted(args) {
		fs.Usage()
		return nil
	}
	if len(args) == 0 {
		fs.Usage()
		return exitError{2, fmt.Errorf("eval: want sentiment, language or intent")}
	}
	kind := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2, err}
	}
	if fs.NArg() != 1 || (kind != "sentiment" && kind != "language" && kind != "intent" && !modelEvalKinds[kind]) {
		fs.Usage()
		return exitError{2, fmt.Errorf("eval: want sentiment|emotion|irony|intent|language and one FILE")}
	}
	if kind == "intent" {
		return evalIntent(fs.Arg(0), stdout, enrich.IntentEvalOptions{Part: *part, Declared: *declared, JSON: *asJSON, Sweep: *sweep})
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	if modelEvalKinds[kind] {
		return evalModel(kind, f, stdout, enrich.ModelEvalOptions{Lang: *lang, Declared: *declared, Part: *part, Polarity: *polarity}, *asJSON)
	}
	return enrich.New(enrich.Config{}).Evaluate(kind, f, stdout, enrich.EvalOptions{Lang: *lang, HeldOut: *heldOut, Declared: *declared})
}
