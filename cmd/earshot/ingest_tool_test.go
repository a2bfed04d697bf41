package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/spf13/cobra"
)

func TestIngestFileDryRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.ndjson")
	lines := []string{
		`{"platform":"f","id":"1","text":"canonical","created_at":"2026-11-01T10:00:00Z"}`,
		`{"did":"did:plc:a","time_us":1763719200000000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k","record":{}}}`,
		`{"event":"delete","payload":"113000000000000003"}`,
		`{"data":{"id":"7","text":"tweet","created_at":"2026-11-01T10:00:00.000Z"}}`,
		`{"platform":"f","id":"2",`,
	}
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	now := func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	var stdout, stderr bytes.Buffer
	err := ingestFileTool([]string{path, "--format", "auto", "--dry-run"}, &stdout, &stderr, now)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("err = %v, want exit code 1 for a refused line", err)
	}
	out := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(out) != 4 {
		t.Fatalf("stdout:\n%s", stdout.String())
	}
	for i, want := range []string{`"text":"canonical"`, `"kind":"delete"`, `"text":"tweet"`, `"summary"`} {
		if !strings.Contains(out[i], want) {
			t.Errorf("stdout line %d = %s, want %s", i+1, out[i], want)
		}
	}
	var sum struct {
		Summary struct {
			Dead    int `json:"dead_letters"`
			Skipped map[string]int
		}
	}
	if err := gojson.Unmarshal([]byte(out[3]), &sum); err != nil || sum.Summary.Dead != 1 || sum.Summary.Skipped["like"] != 1 {
		t.Errorf("summary %s: %+v, %v", out[3], sum, err)
	}
	if !strings.Contains(stderr.String(), "export.ndjson:5: malformed JSON") {
		t.Errorf("stderr = %q", stderr.String())
	}
	for _, args := range [][]string{{path}, {"--dry-run"}, {path, "--dry-run", "--format", "csv"}} {
		if err := ingestFileTool(args, &stdout, &stderr, now); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// ingestFileTool runs earshot ingest file with its own clock.
func ingestFileTool(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	c := ingestFileCommand(stdout, stderr, now)
	c.SetArgs(args)
	c.SilenceErrors, c.SilenceUsage = true, true
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitError{2, err} })
	return c.Execute()
}
