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
	declared := fs.Bool("declared", false, "language, intent: pass the first column as the platform's declared language")
	part := fs.String("part", "", "intent: only the rows of one part of the datasplit (train, dev, test, train+dev)")
	asJSON := fs.Bool("json", false, "intent: the report as JSON")
	sweep := fs.Bool("sweep", false, "intent: precision and recall at thresholds 0.10-0.90 (choose on a part you do not report)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: earshot eval sentiment|language|intent [--lang L] [--held-out] [--declared] [--part P] [--json] [--sweep] FILE")
		fs.PrintDefaults()
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
	if fs.NArg() != 1 || (kind != "sentiment" && kind != "language" && kind != "intent") {
		fs.Usage()
		return exitError{2, fmt.Errorf("eval: want sentiment|language|intent and one FILE")}
	}
	if kind == "intent" {
		return evalIntent(fs.Arg(0), stdout, enrich.IntentEvalOptions{Part: *part, Declared: *declared, JSON: *asJSON, Sweep: *sweep})
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return enrich.New(enrich.Config{}).Evaluate(kind, f, stdout, enrich.EvalOptions{Lang: *lang, HeldOut: *heldOut, Declared: *declared})
}
