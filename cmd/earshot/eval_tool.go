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
	declared := fs.Bool("declared", false, "language: pass the first column to the detector as the declared language")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: earshot eval sentiment|language [--lang L] [--held-out] [--declared] FILE")
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
		return exitError{2, fmt.Errorf("eval: want sentiment or language")}
	}
	kind := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2, err}
	}
	if fs.NArg() != 1 || (kind != "sentiment" && kind != "language") {
		fs.Usage()
		return exitError{2, fmt.Errorf("eval: want sentiment|language and one FILE")}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	return enrich.New(enrich.Config{}).Evaluate(kind, f, stdout, enrich.EvalOptions{Lang: *lang, HeldOut: *heldOut, Declared: *declared})
}
