package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `earshot token create` checks --teams and --regions against the
// configuration's org file and enrich.regions, as it does --markets: a
// typo is exit 2 naming the known names, closest first; another case is
// stored in the organisation's spelling.
func TestTokenCreateChecksTeamsAndRegions(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../deploy/examples")); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "embedded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "earshot.yaml")
	if err := os.WriteFile(cfg, append(body, "api:\n  state_dir: state\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	create := []string{"token", "create", "--config", cfg, "--by", "ops", "--name", "n", "--role", "responder"}
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--teams", "care-emae"}, `unknown team "care-emae": the org file `},
		{[]string{"--teams", "care-emae"}, `org.yaml and the watchlists name care-emea, care-na,`},
		{[]string{"--regions", "EMAE"}, `unknown region "EMAE": enrich.regions defines EMEA,`},
	} {
		var ee exitError
		err := run(append(create, c.flags...), io.Discard, io.Discard)
		if !asExit(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want exit code 2 with %q", c.flags, err, c.want)
		}
	}
	if err := run(append(create, "--teams", "CARE-EMEA", "--regions", "emea"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"token", "list", "--config", cfg}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "teams=care-emea regions=EMEA") {
		t.Errorf("list: %v\n%s\nwant the organisation's spelling", err, out.String())
	}
}
