package main

import (
	"fmt"
	"io"
)

// stageTool runs a stage's stand-alone tool: `earshot <stage> <tool> …`.
func stageTool(stage string, args []string, stdout, stderr io.Writer) error {
	switch stage {
	case "ingest":
		return ingestTool(args, stdout, stderr)
	case "route":
		return routeTool(args, stdout, stderr)
	}
	return exitError{2, fmt.Errorf("%s: unknown tool %q (run 'earshot %s --config FILE' to run the stage)", stage, args[0], stage)}
}
