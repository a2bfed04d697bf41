package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every configuration problem exits 2, naming the key: a missing or
// directory config, policy or watchlists path, and negative flag values.
func TestConfigProblemsExit2(t *testing.T) {
	dir := t.TempDir()
	body, err := os.ReadFile("../../deploy/examples/embedded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(name, from, to string) string {
		p := filepath.Join(dir, name)
		b := strings.Replace(string(body), from, to, 1)
		b = strings.Replace(b, "watchlists: watchlists", "watchlists: "+filepath.Join(wd(t), "../../deploy/examples/watchlists"), 1)
		b = strings.Replace(b, "org: org.yaml", "org: "+filepath.Join(wd(t), "../../deploy/examples/org.yaml"), 1)
		if !strings.Contains(from, "routing") {
			b = strings.Replace(b, "policy: routing.yaml", "policy: "+filepath.Join(wd(t), "../../deploy/examples/routing.yaml"), 1)
		}
		os.WriteFile(p, []byte(b), 0o644)
		return p
	}
	for _, c := range []struct {
		name string
		args []string
		says string
	}{
		{"missing config", []string{"run", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"config is a directory", []string{"run", "--config", dir}, "is a directory"},
		{"missing policy", []string{"run", "--config", cfg("p.yaml", "policy: routing.yaml", "policy: nope.yaml")}, "route.policy"},
		{"missing watchlists", []string{"run", "--config", cfg("w.yaml", "watchlists: watchlists", "watchlists: "+filepath.Join(dir, "nowl"))}, "match.watchlists"},
		{"negative rate", []string{"run", "--rate", "-7"}, "--rate"},
		{"negative duration", []string{"run", "--duration", "-5s"}, "--duration"},
		{"negative progress", []string{"run", "--progress", "-1s"}, "--progress"},
		{"a chain in embedded mode", []string{"ingest", "--with", "match", "--config", cfg("c.yaml", "", "")}, "distributed mode"},
		{"a chain not after ingest", []string{"ingest", "--with", "enrich", "--config", "../../deploy/examples/distributed.yaml"}, "--with enrich"},
	} {
		var out, errb bytes.Buffer
		err := run(append(c.args, "--metrics-addr", "127.0.0.1:0"), &out, &errb)
		if code := exitCode(err); code != 2 || err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: exit %d, %v; want 2 naming %s", c.name, code, err, c.says)
		}
	}
}

func wd(t *testing.T) string {
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// earshot version prints the version, the commit and the Go toolchain.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		if err := run(args, &out, &errb); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if s := out.String(); !strings.HasPrefix(s, "earshot ") || !strings.Contains(s, "go1.") {
			t.Errorf("%v printed %q", args, s)
		}
	}
}

// -h asks for help: watchlist validate prints its usage, match names its
// tool form too; both exit 0, on stdout.
func TestHelpFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"watchlist", "validate", "-h"}, "watchlist validate DIR"},
		{[]string{"match", "-h"}, "--watchlists DIR --posts FILE"},
	} {
		var out, errb bytes.Buffer
		err := run(c.args, &out, &errb)
		if exitCode(err) != 0 || !strings.Contains(out.String(), c.says) {
			t.Errorf("%v: exit %d (%v), stdout %q; want 0 and %q", c.args, exitCode(err), err, out.String(), c.says)
		}
	}
}

// A dry run that stops on a read error (a truncated gzip) still prints the
// summary of what it read, with the error.
func TestDryRunSummaryAfterReadError(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"platform":"f","id":"1","text":"a","created_at":"2026-11-01T10:00:00Z"}` + "\n"))
	zw.Close()
	path := filepath.Join(t.TempDir(), "cut.ndjson.gz")
	os.WriteFile(path, gz.Bytes()[:gz.Len()-6], 0o644) // the trailer cut off
	var out, errb bytes.Buffer
	err := ingestFileTool([]string{path, "--dry-run"}, &out, &errb, func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) })
	if err == nil || !strings.Contains(out.String(), `"summary"`) {
		t.Errorf("err %v, stdout %q; want the error and a summary", err, out.String())
	}
}
