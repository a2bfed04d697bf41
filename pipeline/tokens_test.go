package pipeline

import (
	"bytes"
	"errors"
	"io"
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

// A team the org file does not list but a watchlist names (a match carries
// its watchlist's team) is a team a token may be scoped to; a typo of it
// is refused naming it first, and another case takes its spelling.
func TestTokenCreateTeamsOfTheWatchlists(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../deploy/examples")); err != nil {
		t.Fatal(err)
	}
	wl := "id: acme-gr\nname: Acme Greece\nteam: greece\nbrand: acme\nrule: acme\n"
	if err := os.WriteFile(filepath.Join(dir, "watchlists", "acme-gr.yaml"), []byte(wl), 0o600); err != nil {
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
	create := func(name, teams string) error {
		f := TokenFlags{Config: cfgFile, By: "ops", Req: api.TokenRequest{Name: name, Role: "gatherer", Teams: teams, Expires: "0"}}
		return TokenCommand("create", nil, f, io.Discard, io.Discard)
	}
	if err := create("gr", "Greece"); err != nil {
		t.Fatalf("a team of the watchlists: %v", err)
	}
	if err := create("typo", "greeec"); !errors.Is(err, api.ErrTokenRequest) || !strings.Contains(err.Error(), "name greece, ") {
		t.Errorf("greeec: %v, want refused naming greece first", err)
	}
	var out, errOut bytes.Buffer
	if err := TokenCommand("list", nil, TokenFlags{Config: cfgFile}, &out, &errOut); err != nil || !strings.Contains(out.String(), "teams=greece ") || errOut.Len() > 0 {
		t.Errorf("list: %v\n%s\nstderr %q", err, out.String(), errOut.String())
	}
}
