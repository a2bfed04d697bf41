package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/earshot-dev/earshot/enrich"
)

// evalLanguageTool runs `earshot eval language [flags] FILE...`: per-language
// precision and recall, close-pair confusion, abstention and a reliability
// table of the language detector.
func evalLanguageTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval language", flag.ContinueOnError)
	fs.SetOutput(stderr)
	split := fs.String("part", "", "only the rows of this datasplit part: train, dev or test (Tatoeba files: the LangIDTestRow fifth for test); default all")
	fs.StringVar(split, "split", "", "same as --part (the name the other eval kinds use is --part)")
	heldOut := fs.Bool("held-out", false, "same as --part test (kept for the Tatoeba commands in BENCHMARKS.md)")
	declared := fs.Bool("declared", false, "pass the gold language to the detector as the declared language")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: earshot eval language [--part test] [--declared] [--json] FILE...")
		fmt.Fprintln(stderr, "  FILE rows: lang TAB text, or lang TAB label TAB text (the first column is the language)")
		fs.PrintDefaults()
	}
	if helpWanted(args) {
		fs.Usage()
		return nil
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{2, fmt.Errorf("eval language: want at least one FILE")}
	}
	if *heldOut {
		*split = "test"
	}
	files := map[string]io.Reader{}
	for _, p := range fs.Args() {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		defer f.Close()
		files[filepath.Base(p)] = f
	}
	err := enrich.New(enrich.Config{}).EvaluateLanguage(files, stdout, enrich.LangEvalOptions{Split: *split, Declared: *declared}, *asJSON)
	if err != nil {
		return exitError{1, err}
	}
	return nil
}
