package mastodon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
)

// TestTokenFromFile: a server's token_file is read at start; an unreadable
// one fails the start naming it.
func TestTokenFromFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	os.WriteFile(f, []byte("from-file\n"), 0o600)
	cfg := Config{Servers: []Server{{URL: "https://mastodon.example", Stream: "public", TokenFile: f}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	src, err := Open(cfg, live.DefaultConfig(), canon.NewNormalizer(), live.NewMetrics(prometheus.NewRegistry()), nil)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	cfg.Servers[0].TokenFile = filepath.Join(dir, "none")
	if _, err := Open(cfg, live.DefaultConfig(), canon.NewNormalizer(), live.NewMetrics(prometheus.NewRegistry()), nil); err == nil || !strings.Contains(err.Error(), "token_file: open ") {
		t.Fatalf("an unreadable token file: %v", err)
	}
}
