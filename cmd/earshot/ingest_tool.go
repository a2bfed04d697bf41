package main

import (
	"fmt"
	"io"
)

// ingestTool runs `earshot ingest <source> …` tools.
func ingestTool(args []string, stdout, stderr io.Writer) error {
	return exitError{2, fmt.Errorf("ingest: unknown tool %q", args[0])}
}
