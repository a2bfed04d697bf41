// Command intent trains the enrich stage's intent model from the project's
// own labelled posts and writes the weights the binary embeds:
//
//	go run ./enrich/train/intent [-data enrich/testdata/intent_posts.tsv] [-out enrich/lexicon/intent_model.txt] [-no-ngrams]
//
// It fits on the Train part of the file (internal/datasplit), prints the
// figures on its Dev part, and is deterministic: the same file gives the
// same bytes. The complaints set in ../shared/data has no licence and is
// never read here; it is only measured on, with `earshot eval intent`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/earshot-dev/earshot/enrich"
)

func main() {
	data := flag.String("data", "enrich/testdata/intent_posts.tsv", "labelled posts: lang TAB intents TAB text")
	out := flag.String("out", "enrich/lexicon/intent_model.txt", "where to write the model")
	noNgrams := flag.Bool("no-ngrams", false, "the alternative without hashed words and word pairs (for comparison; not shipped)")
	flag.Parse()
	if err := run(*data, *out, enrich.IntentTrainOptions{NoNgrams: *noNgrams}); err != nil {
		fmt.Fprintln(os.Stderr, "train intent:", err)
		os.Exit(1)
	}
}

func run(data, out string, opt enrich.IntentTrainOptions) error {
	b, err := os.ReadFile(data)
	if err != nil {
		return err
	}
	model, report, err := enrich.TrainIntentModel(b, opt)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, model, 0o644); err != nil {
		return err
	}
	fmt.Print(report)
	fmt.Printf("wrote %s (%d bytes)\n", out, len(model))
	return nil
}
