package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/internal/secret"
)

// TestRedditSourceSecrets: the live Reddit source's secrets follow the
// house rules: _file relative to the configuration, inline ones never
// printed.
func TestRedditSourceSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reddit.secret"), []byte("client-S3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "earshot.yaml")
	body := `ingest:
  source: reddit
  reddit:
    subreddits: [gadgets, acme]
    client_id: cid
    client_secret_file: reddit.secret
    username: bot
    password: inline-Pa55
    user_agent: "linux:earshot:1.0 (by /u/bot)"
    cursor_file: reddit.cursor
match: {watchlists: ` + examples(t, "watchlists") + `}
route: {policy: ` + examples(t, "routing.yaml") + `}
`
	if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Ingest.Reddit
	if got, err := secret.Resolve("s", r.ClientSecret, r.ClientSecretFile, r.ClientSecretEnv, nil); err != nil || got != "client-S3cret" {
		t.Fatalf("client secret from %s: %q %v", r.ClientSecretFile, got, err)
	}
	if r.CursorFile != filepath.Join(dir, "reddit.cursor") {
		t.Errorf("cursor file %s, want it beside the configuration", r.CursorFile)
	}
	if s := fmt.Sprintf("%+v", cfg); strings.Contains(s, "inline-Pa55") || strings.Contains(s, "client-S3cret") {
		t.Error("a Reddit secret shows in the printed configuration")
	}
}
