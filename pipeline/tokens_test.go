package pipeline

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/api"
)

// `earshot token create --markets` checks the markets against the org file
// the configuration names (the example's: DACH and Nordics), and takes
// them as given, with a warning, when --tokens and --state-dir leave the
// configuration unread.
func TestTokenCreateMarketsFromTheOrgFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../deploy/examples")); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "embedded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "earshot.yaml")
	if err := os.WriteFile(cfgFile, append(cfg, "api:\n  state_dir: state\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	create := func(f TokenFlags, markets string) (string, error) {
		f.By, f.Req = "ops", api.TokenRequest{Name: "t", Role: "responder", Markets: markets, Expires: "0"}
		var out, errOut bytes.Buffer
		err := TokenCommand("create", nil, f, &out, &errOut)
		return errOut.String(), err
	}
	if _, err := create(TokenFlags{Config: cfgFile}, "Atlantis"); !errors.Is(err, api.ErrTokenRequest) || !strings.Contains(err.Error(), "DACH") {
		t.Errorf("Atlantis with the org file known: %v, want a refused request naming the org's markets", err)
	}
	if _, err := create(TokenFlags{Config: cfgFile}, "DACH"); err != nil {
		t.Errorf("DACH: %v", err)
	}
	state := filepath.Join(dir, "other")
	stderr, err := create(TokenFlags{Config: cfgFile, Tokens: filepath.Join(state, "tokens.json"), StateDir: state}, "Atlantis")
	if err != nil || !strings.Contains(stderr, "not checked") {
		t.Errorf("Atlantis with the org file unknown: %v, stderr %q: want a token and a warning", err, stderr)
	}
}
