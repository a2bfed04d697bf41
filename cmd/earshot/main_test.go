package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

func examples(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../../deploy/examples")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConfigTypoIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	body := "transport:\n  kind: memory\ningest:\n  source: synthetic\n  synthetc:\n    rate: 5\nmatch:\n  watchlists: " + filepath.Join(examples(t), "watchlists") + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := run([]string{"run", "--config", cfg}, &out, &errb)
	if !errors.Is(err, pipeline.ErrConfig) || !errors.Is(err, strictyaml.ErrInvalid) || exitCode(err) != 2 {
		t.Fatalf("err = %v, want a configuration error of the file (exit code 2)", err)
	}
	if want := cfg + `:5: unknown key "synthetc"`; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
}

func TestBadValuesAreAllReported(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	body := "transport:\n  kind: carrier-pigeon\ningest:\n  source: synthetic\n  batch_size: 0\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run([]string{"run", "--config", cfg}, &bytes.Buffer{}, &bytes.Buffer{})
	for _, want := range []string{`transport.kind: "carrier-pigeon"`, "ingest.batch_size: 0", "match.watchlists", "route.policy"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	if !errors.Is(err, pipeline.ErrConfig) || exitCode(err) != 2 {
		t.Errorf("err = %v is not a configuration error (exit code 2)", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"run", "--no-such-flag"}, {"run", "extra"}} {
		err := run(args, &bytes.Buffer{}, &bytes.Buffer{})
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: err = %v, want exit code 2", args, err)
		}
	}
}

func TestRunPrintsAlertsThenSummary(t *testing.T) {
	var out, errb bytes.Buffer
	cfg := filepath.Join(examples(t), "embedded.yaml")
	err := run([]string{"run", "--config", cfg, "--duration", "60s", "--rate", "6000", "--limit", "3000", "--progress", "200ms", "--metrics-addr", "127.0.0.1:0"}, &out, &errb)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not the summary: %v\n%s", err, lines[len(lines)-1])
	}
	if sum.Posts != 3000 || sum.Matched == 0 || sum.Alerts == 0 || sum.PostsPerSec <= 0 {
		t.Errorf("summary = %+v", sum)
	}
	// With a limit the embedded pipeline drains: every alert routed is printed.
	if int64(len(lines)-1) != sum.Alerts {
		t.Errorf("%d alert lines printed, summary says %d", len(lines)-1, sum.Alerts)
	}
	alert, err := post.Decode([]byte(lines[0]))
	if err != nil || alert.Alert == nil || alert.Alert.ID == "" || alert.Alert.Queue == "" || alert.Post.Text == "" {
		t.Errorf("first alert line %q: %v", lines[0], err)
	}
	if !strings.Contains(errb.String(), "| match ") {
		t.Errorf("no progress on stderr:\n%s", errb.String())
	}
	for _, key := range []string{`"posts"`, `"matched"`, `"alerts"`, `"dead_letters"`, `"posts_per_sec"`} {
		if !strings.Contains(lines[len(lines)-1], key) {
			t.Errorf("summary lacks %s", key)
		}
	}
}

func TestRunDeliversWebhooks(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids[r.Header.Get("X-Earshot-Alert-Id")]++
		mu.Unlock()
	}))
	defer srv.Close()
	t.Setenv("EARSHOT_TEST_SECRET", "s3cret")
	dir := t.TempDir()
	base, _ := os.ReadFile(filepath.Join(examples(t), "embedded.yaml"))
	body := strings.NewReplacer("watchlists: watchlists", "watchlists: "+filepath.Join(examples(t), "watchlists"),
		"policy: routing.yaml", "policy: "+filepath.Join(examples(t), "routing.yaml"),
		"org: org.yaml", "org: "+filepath.Join(examples(t), "org.yaml")).Replace(string(base))
	body += "\nwebhook:\n  endpoints:\n    legal: {url: " + srv.URL + ", secret_env: EARSHOT_TEST_SECRET}\n"
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte(body), 0o644)
	var out, errb bytes.Buffer
	if err := run([]string{"run", "--config", cfg, "--rate", "0", "--limit", "20000", "--quiet", "--progress", "0", "--metrics-addr", "127.0.0.1:0"}, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	var sum pipeline.Summary
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	json.Unmarshal([]byte(lines[len(lines)-1]), &sum)
	delivered := sum.Stages["webhook.legal"]
	mu.Lock()
	defer mu.Unlock()
	// Incident updates repeat an alert id, so count requests, not ids.
	requests := 0
	for _, n := range ids {
		requests += n
	}
	if delivered.In == 0 || int64(requests) != delivered.In || delivered.Dead != 0 || ids[""] != 0 {
		t.Errorf("webhook stage took %d alerts, the server saw %d requests (%d distinct ids), %d dead letters", delivered.In, requests, len(ids), delivered.Dead)
	}
}

// The example configurations are what users start from: each must load and
// validate as shipped (paths in them are relative to the repository root).
func TestExampleConfigsLoad(t *testing.T) {
	dir := examples(t)
	t.Chdir(filepath.Join(dir, "../.."))
	for _, name := range []string{"embedded.yaml", "distributed.yaml"} {
		if _, err := pipeline.Load(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// -h prints a command's flags and exits 0, whichever command it is.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"run", "-h"}, {"match", "-h"}, {"migrate", "-h"}, {"api", "-h"}, {"search", "-h"},
		{"token", "create", "-h"}, {"insights", "run", "-h"}, {"route", "validate", "-h"}, {"route", "simulate", "-h"},
		{"bench", "match", "-h"}, {"watchlist", "-h"}, {"eval", "-h"}, {"bench", "-h"}, {"insights", "--help"}, {"token", "help"},
		{"watchlist", "publish", "-h"}, {"watchlist", "backtest", "-h"}, {"watchlist", "list", "-h"}} {
		err := run(args, &bytes.Buffer{}, &bytes.Buffer{})
		if code := exitCode(err); code != 0 {
			t.Errorf("earshot %s: exit code %d (%v), want 0", strings.Join(args, " "), code, err)
		}
	}
	if code := exitCode(run([]string{"run", "--no-such-flag"}, &bytes.Buffer{}, &bytes.Buffer{})); code != 2 {
		t.Errorf("earshot run --no-such-flag: exit code %d, want 2", code)
	}
}

// One stage alone over in-memory queues is a configuration mistake (exit
// code 2), not a failure of the run.
func TestOneStageInEmbeddedModeIsAConfigurationError(t *testing.T) {
	cfg := filepath.Join(examples(t), "embedded.yaml")
	err := run([]string{"enrich", "--config", cfg, "--metrics-addr", "127.0.0.1:0"}, &bytes.Buffer{}, &bytes.Buffer{})
	if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), "transport.kind: kafka") {
		t.Errorf("earshot enrich on embedded.yaml: exit code %d (%v), want 2 naming transport.kind: kafka", code, err)
	}
}
