package main

import (
	"fmt"
	"io"
	"os"

	"github.com/earshot-dev/earshot/enrich"
)

// evalIntent runs `earshot eval intent [--part P] [--json] [--sweep] FILE`:
// per-intent precision and recall, baselines, confusion, abstention and
// speed, through the whole enrich path.
func evalIntent(path string, stdout io.Writer, opt enrich.IntentEvalOptions) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	_, err = enrich.New(enrich.Config{}).EvaluateIntent(data, stdout, opt)
	return err
}
