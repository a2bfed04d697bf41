package x

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
)

// TestBearerTokenFromFile: bearer_token_file is read at start, in place of
// the environment variable; an unreadable one fails the start naming it.
func TestBearerTokenFromFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	os.WriteFile(f, []byte("from-file\n"), 0o600)
	t.Setenv("X_BEARER_TOKEN", "")
	cfg := DefaultConfig()
	cfg.BearerTokenFile = f
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := live.NewMetrics(prometheus.NewRegistry())
	src, err := Open(cfg, live.DefaultConfig(), canon.NewNormalizer(), m, nil)
	if err != nil {
		t.Fatalf("with the token in a file and none in the environment: %v", err)
	}
	src.Close()
	cfg.BearerTokenFile = filepath.Join(dir, "none")
	if _, err := Open(cfg, live.DefaultConfig(), canon.NewNormalizer(), live.NewMetrics(prometheus.NewRegistry()), nil); err == nil || !strings.Contains(err.Error(), "ingest.x.bearer_token_file: open ") {
		t.Fatalf("an unreadable token file: %v", err)
	}
}
