package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/ingest/canon"
)

// TestPushTokenFromFile: a tenant's token may come from a file instead of
// the environment, not both; an unreadable file is refused naming the key.
func TestPushTokenFromFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	if err := os.WriteFile(f, []byte("file-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultPushConfig()
	cfg.Tenants = []PushTenant{{Name: "acme", TokenFile: f}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := NewPush(cfg, canon.NewNormalizer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.tokens["file-token-0123456789"] != "acme" {
		t.Fatalf("tokens %v", len(p.tokens))
	}
	for _, c := range []struct {
		tenant PushTenant
		want   string
	}{
		{PushTenant{Name: "acme", TokenFile: filepath.Join(dir, "none")}, "ingest.push.tenants[0].token_file: open "},
		{PushTenant{Name: "acme", TokenFile: f, TokenEnv: "X"}, "ingest.push.tenants[0].token_env, ingest.push.tenants[0].token_file: set together"},
		{PushTenant{Name: "acme"}, "name and token_env (or token_file) are required"},
	} {
		cfg.Tenants = []PushTenant{c.tenant}
		if err := errors.Join(cfg.Validate(), cfg.ReadSecrets()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.tenant, err, c.want)
		}
	}
}
