package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/strictyaml"
	"github.com/earshot-dev/earshot/watchlist"
)

func TestWatchlistStoreCLI(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	src := t.TempDir()
	file := filepath.Join(src, "acme.yaml")
	os.WriteFile(file, []byte("id: acme\nname: Acme\nteam: care\nbrand: acme\nrule: acme\n"), 0o644)
	wl := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(append([]string{"watchlist"}, args...), &out, &errb)
		return out.String(), errb.String(), err
	}
	ok := func(want string, args ...string) string {
		t.Helper()
		out, errs, err := wl(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs)
		}
		if !strings.Contains(out, want) {
			t.Fatalf("%v said %q, want %q", args, out, want)
		}
		return out
	}
	ok("acme: version 1, draft; nothing live; next: earshot watchlist submit acme", "apply", file, "--store", store, "--actor", "ann")
	ok("acme: version 1, pending", "submit", "acme", "--store", store, "--actor", "ann")
	if _, _, err := wl("approve", "acme", "--store", store, "--actor", "ann"); !errors.Is(err, watchlist.ErrSelfApproval) {
		t.Fatalf("self-approval: %v", err)
	}
	ok("acme: version 1, live", "approve", "--store", store, "acme", "--actor", "bob", "--note", "fine")
	lists, err := match.LoadDir(watchlist.DefaultLiveDir(store))
	if err != nil || len(lists) != 1 || lists[0].Version != 1 || !lists[0].Live() {
		t.Fatalf("live directory: %v %+v", err, lists)
	}

	// An edit carrying a status and version from git: both ignored, noted.
	os.WriteFile(file, []byte("id: acme\nname: Acme\nteam: care\nbrand: acme\nstatus: live\nversion: 9\nrule: acme OR acmephone\n"), 0o644)
	if _, _, err := wl("apply", file, "--store", store, "--actor", "ann", "--if-version", "7"); !errors.Is(err, watchlist.ErrConflict) {
		t.Fatalf("stale --if-version: %v", err)
	}
	out, errs, err := wl("apply", file, "--store", store, "--actor", "ann", "--if-version", "1")
	if err != nil || !strings.Contains(out, "version 2, draft; live: version 1") || !strings.Contains(errs, "ignored") {
		t.Fatalf("edit: %v %q %q", err, out, errs)
	}
	if _, _, err := wl("reject", "acme", "--store", store, "--actor", "bob"); err == nil {
		t.Fatal("a rejection without --note")
	}
	ok("acme: version 2, pending", "submit", "acme", "--store", store, "--actor", "ann")
	ok("acme: version 2, rejected; live: version 1", "reject", "acme", "--store", store, "--actor", "bob", "--note", "too wide")
	ok("paused", "pause", "acme", "--store", store, "--actor", "bob")
	ok("acme  care  acme   rejected  v2       v1 (paused)  ann", "list", "--store", store)
	ok("ID", "list", "--store", store, "--status", "live") // header only
	if out := ok("ID", "list", "--store", store, "--status", "live"); strings.Contains(out, "acme") {
		t.Errorf("--status live listed %q", out)
	}
	out = ok("reject", "show", "acme", "--history", "--store", store)
	for _, w := range []string{"apply", "submit", "approve", "bob", "too wide", "pause"} {
		if !strings.Contains(out, w) {
			t.Errorf("history lacks %q:\n%s", w, out)
		}
	}
	ok(`"live_version": 1`, "show", "acme", "--store", store)
	ok("live", "resume", "acme", "--store", store, "--actor", "bob")

	// Import from a directory kept in git.
	git := t.TempDir()
	os.WriteFile(filepath.Join(git, "legal.yaml"), []byte("id: legal\nteam: legal\nversion: 3\nkeywords: [lawsuit]\n"), 0o644)
	ok("legal: version 3, live", "import", git, "--store", store, "--actor", "ops")
	// The rule converter keeps its place.
	ok("from:acme", "import", "powertrack", "from:acme")

	// Errors: invalid rule (exit code 2 with the column), unknown id, traversal, no store.
	os.WriteFile(file, []byte("id: acme\nteam: care\nrule: acme AND\n"), 0o644)
	if _, _, err := wl("apply", file, "--store", store, "--actor", "ann"); !errors.Is(err, strictyaml.ErrInvalid) || !strings.Contains(err.Error(), "column 6") {
		t.Errorf("a bad rule: %v", err)
	}
	if _, _, err := wl("submit", "nope", "--store", store, "--actor", "ann"); !errors.Is(err, watchlist.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, _, err := wl("show", "../etc", "--store", store); !errors.Is(err, strictyaml.ErrInvalid) {
		t.Errorf("a traversal id: %v", err)
	}
	var ee exitError
	if _, _, err := wl("list"); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("no store: %v", err)
	}
	if _, _, err := wl("approve", "--store", store); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("no id: %v", err)
	}
	if _, _, err := wl("list", "--store", store, "--status", "bogus"); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("bad status: %v", err)
	}
}

// TestWatchlistStoreFromConfig: match.store of a configuration file, taken
// relative to the file, is the store the CLI uses.
func TestWatchlistStoreFromConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "earshot.yaml")
	os.WriteFile(cfg, []byte("match:\n  store: store\n  team_quota: 1\nroute:\n  policy: "+filepath.Join(examples(t), "routing.yaml")+"\n"), 0o644)
	file := filepath.Join(dir, "w.yaml")
	os.WriteFile(file, []byte("id: w\nteam: care\nkeywords: [a, b]\n"), 0o644)
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"apply", file, "--actor", "ann"}, {"submit", "w", "--actor", "ann"}} {
		if err := run(append([]string{"watchlist"}, append(args, "--config", cfg)...), &out, &errb); err != nil {
			t.Fatalf("%v: %v %s", args, err, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "store", "history.jsonl")); err != nil {
		t.Fatalf("the store is not beside the configuration: %v", err)
	}
	// Two keywords are over the configured quota of 1: refused.
	err := run([]string{"watchlist", "approve", "w", "--config", cfg, "--actor", "bob"}, &out, &errb)
	if !errors.Is(err, strictyaml.ErrInvalid) || !strings.Contains(err.Error(), "quota of 1") {
		t.Errorf("approval over quota: %v", err)
	}
}
