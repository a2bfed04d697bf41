package main

import (
	"fmt"
	"io"

	"github.com/earshot-dev/earshot/enrich"
)

// modelEvalKinds are the judgements `earshot eval` measures through
// Enrich with the full set of figures (enrich.EvaluateModel).
var modelEvalKinds = map[string]bool{"sentiment": true, "emotion": true, "irony": true}

func evalModel(kind string, r io.Reader, w io.Writer, opt enrich.ModelEvalOptions, asJSON bool) error {
	rep, err := enrich.New(enrich.Config{}).EvaluateModel(kind, r, opt)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if asJSON {
		return rep.WriteJSON(w)
	}
	return rep.WriteText(w)
}
