package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint that earshot did not write whole (zero bytes after a crash
// on a file system that lost the data, cut short, edited by hand) is
// refused with what to do about it; a negative position, which io.CopyN
// skipped as nothing and then counted every later offset short, is refused
// too.
func TestBadFileCheckpointRefusedWithTheFix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posts.ndjson")
	if err := os.WriteFile(path, []byte(`{"platform":"x","id":"1","text":"hello","created_at":"2026-11-20T10:00:00Z"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "ckpt.json")
	for _, bad := range []string{
		"",
		`{"path":`,
		`{"path":` + quote(path) + `,"line":-3,"offset":-100}`,
		`{"path":` + quote(path) + `,"line":3,"offset":1e30}`,
	} {
		if err := os.WriteFile(ckpt, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.Source, cfg.File.Path, cfg.File.Checkpoint = "file", path, ckpt
		_, closer, err := Open(cfg)
		if err == nil {
			closer.Close()
			t.Errorf("checkpoint %q: opened", bad)
			continue
		}
		if !strings.Contains(err.Error(), ckpt) || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("checkpoint %q: %v, want the file named and what to do", bad, err)
		}
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }
