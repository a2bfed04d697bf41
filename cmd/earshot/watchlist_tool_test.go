package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
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
	// Misuse of a command is bad usage (exit code 2) and says so, not
	// "invalid configuration": no configuration is wrong.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"approve", "acme", "--store", store, "--actor", "bob"}, "--if-version"},
		{[]string{"reject", "acme", "--store", store, "--actor", "bob"}, "--note"},
		{[]string{"submit", "acme", "--store", store, "--actor", " "}, "--actor"},
	} {
		_, _, err := wl(c.args...)
		var msg bytes.Buffer
		report(err, &msg)
		if err == nil || exitCode(err) != 2 || !strings.Contains(msg.String(), c.want) || strings.Contains(msg.String(), "invalid configuration") {
			t.Fatalf("%v: exit code %d, said %q; want exit code 2 naming %s as usage", c.args, exitCode(err), msg.String(), c.want)
		}
	}
	if _, _, err := wl("approve", "acme", "--store", store, "--actor", "ann", "--if-version", "1"); !errors.Is(err, watchlist.ErrSelfApproval) {
		t.Fatalf("self-approval: %v", err)
	}
	ok("acme: version 1, live", "approve", "--store", store, "acme", "--actor", "bob", "--note", "fine", "--if-version", "1")
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
	if _, _, err := wl("approve", "acme", "--store", store, "--actor", "bob", "--if-version", "1"); !errors.Is(err, watchlist.ErrConflict) {
		t.Fatalf("approving a version not reviewed: %v", err)
	}
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
	// Three arguments are still the store's import; the actor defaults to $USER (read when the flags are).
	t.Setenv("USER", "ops")
	ok("legal: version 3, live", "import", git, "--store="+store)
	ok("2 watchlists live", "sync", "--store", store, "--actor", "ops")
	ok("legal: deleted", "delete", "legal", "--store", store, "--actor", "ops", "--note", "moved")
	ok("1 watchlists live", "sync", "--store", store, "--actor", "ops")
	if lists, err := match.LoadDir(watchlist.DefaultLiveDir(store)); err != nil || len(lists) != 1 || lists[0].ID != "acme" {
		t.Fatalf("live directory after delete: %v %+v", err, lists)
	}
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
	err := run([]string{"watchlist", "approve", "w", "--config", cfg, "--actor", "bob", "--if-version", "1"}, &out, &errb)
	if !errors.Is(err, strictyaml.ErrInvalid) || !strings.Contains(err.Error(), "quota of 1") {
		t.Errorf("approval over quota: %v", err)
	}
}

// TestRunFollowsStoreApprovals runs the embedded pipeline on a watchlist
// store (match.store) and approves a change while it runs: alerts before
// carry the imported version, and the approved version takes over without
// a restart.
func TestRunFollowsStoreApprovals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline for seconds")
	}
	ex := examples(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "embedded.yaml")
	os.WriteFile(cfg, []byte(`transport: {kind: memory}
ingest:
  source: synthetic
  synthetic: {rate: 2000, seed: 7, brand_rate: 0.3}
match:
  store: store
  reload_interval: 100ms
route:
  policy: `+filepath.Join(ex, "routing.yaml")+`
  org: `+filepath.Join(ex, "org.yaml")+`
`), 0o644)
	var out, errb bytes.Buffer
	if err := run([]string{"watchlist", "import", filepath.Join(ex, "watchlists"), "--config", cfg, "--actor", "ops"}, &out, &errb); err != nil {
		t.Fatalf("import: %v\n%s", err, errb.String())
	}
	acme := filepath.Join(dir, "acme.yaml")
	os.WriteFile(acme, []byte("id: acme\nname: Acme brand mentions\nteam: care\nbrand: acme\nkeywords: [acme, acme phone, acme support, acme_support, acmephone]\n"), 0o644)
	if err := run([]string{"watchlist", "apply", acme, "--config", cfg, "--actor", "ann"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"watchlist", "submit", "acme", "--config", cfg, "--actor", "ann"}, &out, &errb); err != nil {
		t.Fatal(err)
	}

	var runOut, runErr syncBuf
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"run", "--config", cfg, "--duration", "30s", "--progress", "0", "--metrics-addr", "127.0.0.1:0"}, &runOut, &runErr)
	}()
	// Approve once version 1 has raised alerts: on a loaded machine (and
	// under -race) loading the models takes seconds, so a fixed wait could
	// approve before the first alert.
	for deadline := time.Now().Add(27 * time.Second); time.Now().Before(deadline) && !strings.Contains(runOut.String(), `"alert":`); {
		time.Sleep(100 * time.Millisecond)
	}
	if err := run([]string{"watchlist", "approve", "acme", "--config", cfg, "--actor", "bob", "--if-version", "2"}, &out, &errb); err != nil {
		t.Fatalf("approve: %v\n%s", err, errb.String())
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, runErr.String())
	}
	var versions []int
	for _, line := range strings.Split(runOut.String(), "\n") {
		it, err := post.Decode([]byte(line))
		if err != nil || it.Alert == nil {
			continue
		}
		for _, m := range it.Matches {
			if m.Watchlist == "acme" {
				versions = append(versions, m.Version)
			}
		}
	}
	if len(versions) == 0 || versions[0] != 1 || versions[len(versions)-1] != 2 {
		t.Fatalf("acme alerts carried versions %v: want 1 first and 2 last\n%s", compact(versions), tail(runErr.String(), 2000))
	}
	t.Logf("acme alerts by version, in order: %s", compact(versions))
	if !strings.Contains(runErr.String(), "msg=reloaded") || !strings.Contains(runErr.String(), "what=watchlists") {
		t.Errorf("no reload logged:\n%s", runErr.String())
	}
}

// compact shows a run of versions as value×count.
func compact(vs []int) string {
	var b strings.Builder
	for i := 0; i < len(vs); {
		j := i
		for j < len(vs) && vs[j] == vs[i] {
			j++
		}
		fmt.Fprintf(&b, "%d×%d ", vs[i], j-i)
		i = j
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// With a configuration that has an API state directory, the CLI's changes
// go into the API's audit log, as the local operator.
func TestWatchlistCLIAudited(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "routing.yaml"), []byte("queues: [care]\nrules:\n  - {name: r, queue: care, priority: P2}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "earshot.yaml"), []byte("match:\n  store: store\nroute:\n  policy: routing.yaml\napi:\n  state_dir: state\n"), 0o644)
	file := filepath.Join(dir, "acme.yaml")
	os.WriteFile(file, []byte("id: acme\nname: Acme\nteam: care\nbrand: acme\nrule: acme\n"), 0o644)
	var out, errb bytes.Buffer
	if err := run([]string{"watchlist", "apply", file, "--config", filepath.Join(dir, "earshot.yaml"), "--actor", "ann"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "state", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"actor":"ann"`) || !strings.Contains(s, `"role":"cli"`) || !strings.Contains(s, `"action":"watchlist.apply"`) || !strings.Contains(s, `"object_id":"acme"`) {
		t.Errorf("audit log: %s", s)
	}
}

// sync changes no watchlist and records nobody, so it needs no --actor,
// as the usage shows (earshot watchlist sync --store DIR).
func TestWatchlistSyncNeedsNoActor(t *testing.T) {
	t.Setenv("USER", "")
	dir := t.TempDir()
	file := filepath.Join(dir, "acme.yaml")
	os.WriteFile(file, []byte("id: acme\nteam: care\nrule: acme\n"), 0o644)
	store := filepath.Join(dir, "store")
	if err := run([]string{"watchlist", "apply", file, "--store", store, "--actor", "ann"}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"watchlist", "sync", "--store", store}, &out, &bytes.Buffer{}); err != nil {
		t.Errorf("sync without --actor or $USER: %v", err)
	}
	if err := run([]string{"watchlist", "submit", "acme", "--store", store}, &bytes.Buffer{}, &bytes.Buffer{}); exitCode(err) != 2 {
		t.Errorf("submit without --actor or $USER: %v, want a usage error", err)
	}
}
