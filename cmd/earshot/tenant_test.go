package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/pipeline"
)

// TestRunRefusesAnotherTenantsDelete is issue 16's crossing tenants end to
// end (embedded mode, push through the API): tenant A pushes a post that
// raises an alert; tenant B pushes a delete of its id, which must not
// retract it (B's ids are B's own: the delete names a post B never sent,
// so it is no dead letter either); then A's own delete retracts it.
func TestRunRefusesAnotherTenantsDelete(t *testing.T) {
	dir := t.TempDir()
	ex := examples(t)
	addr := freePort(t)
	cfg := filepath.Join(dir, "run.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `transport: {kind: memory}
ingest:
  source: push
  push: {addr: ""}
match: {watchlists: %s/watchlists}
route: {policy: %s/routing.yaml}
api: {addr: "%s", state_dir: %s/state}
`, ex, ex, addr, dir), 0o644)
	token := func(name string) string {
		var out bytes.Buffer
		if err := run([]string{"token", "create", "--config", cfg, "--by", "ops", "--name", name, "--role", "ingest"}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	a, b := token("tenant-a"), token("tenant-b")
	var viewer bytes.Buffer
	if err := run([]string{"token", "create", "--config", cfg, "--by", "ops", "--name", "vic", "--role", "viewer"}, &viewer, io.Discard); err != nil {
		t.Fatal(err)
	}
	// alerts is what the API serves of the care queue's alerts (the
	// in-memory store of earshot run).
	alerts := func() string {
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/queues/care/alerts", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(viewer.String()))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	const text = "worst experience ever"
	var wg sync.WaitGroup
	var runErr error
	var stdout, stderr syncBuf
	wg.Go(func() {
		runErr = run([]string{"run", "--config", cfg, "--duration", "25s", "--progress", "0"}, &stdout, &stderr)
	})
	push := func(tok, body string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/posts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	at := time.Now().UTC().Add(-10 * time.Minute).Format(time.RFC3339)
	post := `{"platform":"bluesky","id":"dupx","author":{"handle":"a"},"text":"my Acme phone is broken again, worst experience ever","created_at":"` + at + `"}` + "\n"
	del := `{"platform":"bluesky","id":"dupx","kind":"delete"}` + "\n"
	code := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && code != 202; time.Sleep(100 * time.Millisecond) {
		code = push(a, post)
	}
	if code != 202 {
		t.Fatalf("push as tenant A: %d\n%s", code, stderr.String())
	}
	time.Sleep(700 * time.Millisecond)
	if c := push(b, del); c != 202 {
		t.Fatalf("tenant B's delete: %d", c)
	}
	time.Sleep(700 * time.Millisecond)
	retractedBeforeA := strings.Count(stdout.String(), `"retracted":true`)
	if body := alerts(); !strings.Contains(body, text) {
		t.Errorf("before tenant A's delete the API serves no alert with the post: %.300s", body)
	}
	if c := push(a, del); c != 202 {
		t.Fatalf("tenant A's delete: %d", c)
	}
	// Once deleted at its source, the post is served no more: the alert
	// stays, marked deleted, without its text or author.
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if body = alerts(); strings.Contains(body, `"deleted":true`) {
			break
		}
	}
	if strings.Contains(body, text) || strings.Contains(body, "dupx") || !strings.Contains(body, `"deleted":true`) {
		t.Errorf("after tenant A's delete the API serves: %.600s", body)
	}
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr, stderr.String())
	}
	out := stdout.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Alerts < 1 {
		t.Fatalf("summary %+v (%v): want the alert\n%s", sum, err, stderr.String())
	}
	if retractedBeforeA != 0 {
		t.Errorf("tenant B's delete retracted tenant A's alert:\n%s", out)
	}
	if sum.DeadLetters != 0 {
		t.Errorf("tenant B's delete of an id in its own name space: %d dead letters, want none\n%s", sum.DeadLetters, stderr.String())
	}
	if strings.Count(out, `"retracted":true`) < 1 {
		t.Errorf("tenant A's own delete did not retract the alert:\n%s", out)
	}
}

// TestTokenCreateRefusesBadNames: --by is who the audit log names, so it
// must be printable; a token's name must be unique among live tokens.
func TestTokenCreateRefusesBadNames(t *testing.T) {
	dir := t.TempDir()
	create := func(by, name string) error {
		return run([]string{"token", "create", "--tokens", filepath.Join(dir, "tokens.json"), "--state-dir", dir, "--by", by, "--name", name, "--role", "viewer"}, io.Discard, io.Discard)
	}
	if err := create("ops\x1b[2J\nroot", "vic"); err == nil {
		t.Error("--by with a newline and an escape sequence was accepted")
	}
	if err := create("ops", "vic"); err != nil {
		t.Fatal(err)
	}
	if err := create("ops", "VIC"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second live token named vic: %v", err)
	}
}
