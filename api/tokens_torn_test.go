package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A token file that is not one (zero bytes after a crash on a file system
// that lost data, cut short, edited by hand) stops the API with what to do,
// not only the JSON decoder's complaint.
func TestDamagedTokenFileSaysWhatToDo(t *testing.T) {
	for _, bad := range []string{"", `{"tokens":[{"id":"tok_1",`} {
		path := filepath.Join(t.TempDir(), "tokens.json")
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenTokens(path, time.Now)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore") {
			t.Errorf("token file %q: %v, want the file named and what to do", bad, err)
		}
	}
}
