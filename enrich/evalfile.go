package enrich

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// EvaluateFile measures a judgement (sentiment, emotion, irony or intent)
// on the labelled file at path and writes the report to w, as text or
// JSON (earshot eval KIND FILE). intent takes the options of opt that
// apply to it, and sweep.
func (e *Enricher) EvaluateFile(kind, path string, w io.Writer, opt ModelEvalOptions, asJSON, sweep bool) error {
	if kind == "intent" {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		_, err = e.EvaluateIntent(data, w, IntentEvalOptions{Part: opt.Part, Declared: opt.Declared, JSON: asJSON, Sweep: sweep})
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	rep, err := e.EvaluateModel(kind, f, opt)
	switch {
	case err != nil:
		return fmt.Errorf("eval: %w", err)
	case asJSON:
		return rep.WriteJSON(w)
	}
	return rep.WriteText(w)
}

// EvaluateLanguageFiles measures the language detector on the files at
// paths (EvaluateLanguage), each named by its base name.
func (e *Enricher) EvaluateLanguageFiles(paths []string, w io.Writer, opt LangEvalOptions, asJSON bool) error {
	files := map[string]io.Reader{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		defer f.Close()
		files[filepath.Base(p)] = f
	}
	return e.EvaluateLanguage(files, w, opt, asJSON)
}
