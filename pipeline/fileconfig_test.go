package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fileConfig is an embedded pipeline on the example watchlists and routing
// policy, without a sink, whose source is a file of lines (NDJSON posts,
// deletes, edits), read once.
func fileConfig(t *testing.T, lines []string) Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy = "../deploy/examples/routing.yaml"
	cfg.Sink.Enabled = false
	cfg.Ingest.Source = "file"
	cfg.Ingest.File.Path = path
	return cfg
}
