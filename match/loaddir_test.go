package match

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/strictyaml"
)

// TestLoadDirUnreadable: a watchlist file that cannot be read (here a
// dangling link) is a configuration problem, as a missing directory is:
// the error wraps strictyaml.ErrInvalid (exit 2) and names the file.
func TestLoadDirUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("id: good\nkeywords: [acme]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "gone.yaml")
	if err := os.Symlink(filepath.Join(dir, "nowhere.yaml"), bad); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(dir)
	if err == nil || !errors.Is(err, strictyaml.ErrInvalid) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("LoadDir: %v, want a configuration error naming %s", err, bad)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); !errors.Is(err, strictyaml.ErrInvalid) {
		t.Fatalf("LoadDir of a missing directory: %v, want a configuration error", err)
	}
}
