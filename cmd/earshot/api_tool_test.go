package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/pipeline"
)

func TestTokenTool(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	flags := []string{"--tokens", tokens, "--state-dir", dir, "--by", "ops"}
	var out, errb bytes.Buffer
	if err := run(append([]string{"token", "create", "--name", "rita", "--role", "responder", "--regions", "EMEA, NA", "--expires", "30d"}, flags...), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	secret := strings.TrimSpace(out.String())
	if !strings.HasPrefix(secret, api.TokenPrefix) || len(secret) != 46 {
		t.Fatalf("secret %q", secret)
	}
	store, _ := api.OpenTokens(tokens, nil)
	id, err := store.Authenticate(secret)
	if err != nil || id.Role != api.Responder || strings.Join(id.Scope.Regions, ",") != "EMEA,NA" || time.Until(id.ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("%+v %v", id, err)
	}
	out.Reset()
	if err := run(append([]string{"token", "list"}, flags...), &out, &errb); err != nil || !strings.Contains(out.String(), "regions=EMEA,NA") || strings.Contains(out.String(), secret) {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	for _, bad := range [][]string{
		{"token", "create", "--name", "x", "--role", "root"},
		{"token", "create", "--role", "viewer"},
		{"token", "create", "--name", "x", "--role", "viewer", "--expires", "soon"},
		{"token", "revoke", "tok_nope"},
		{"token", "frobnicate"},
	} {
		err := run(append(bad, flags...), io.Discard, io.Discard)
		var ee exitError
		if !asExit(err, &ee) || ee.code != 2 {
			t.Errorf("%v: %v, want exit code 2", bad, err)
		}
	}
	// A scope flag given empty (--teams "$TEAM" with TEAM unset) is not a
	// token of the whole organisation.
	for i, bad := range [][]string{{"--teams", ""}, {"--regions="}, {"--markets", ""}, {"--brands", ""}} {
		args := append([]string{"token", "create", "--name", fmt.Sprintf("empty%d", i), "--role", "responder"}, bad...)
		var ee exitError
		if err := run(append(args, flags...), io.Discard, io.Discard); !asExit(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "names nothing") {
			t.Errorf("%v: %v, want exit code 2: the flag names nothing", bad, err)
		}
	}
	// Nobody to record (no --by, $USER unset): refused, so that the audit log never has a change by no one.
	noActor := []string{"token", "create", "--name", "x", "--role", "viewer", "--tokens", tokens, "--state-dir", dir, "--by", ""}
	var ee exitError
	if err := run(noActor, io.Discard, io.Discard); !asExit(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "--by") {
		t.Errorf("token create without an actor: %v, want exit code 2 naming --by", err)
	}
	out.Reset()
	if err := run(append([]string{"token", "revoke", id.ID}, flags...), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Authenticate(secret); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	recs, _, _ := api.ReadAuditFile(filepath.Join(dir, api.AuditFile), func(r api.AuditRecord) bool { return r.ObjectID == id.ID }, 0, 10)
	if len(recs) != 2 || recs[0].Action != "token.create" || recs[1].Action != "token.revoke" || recs[1].Actor != "ops" ||
		!strings.Contains(string(recs[1].After), "revoked_at") || strings.Contains(string(recs[0].After), "sha256") {
		t.Fatalf("audit: %+v", recs)
	}
}

func asExit(err error, ee *exitError) bool {
	e, ok := err.(exitError)
	if ok {
		*ee = e
	}
	return ok
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRunServesTheAPI runs the embedded pipeline with api.addr set: a
// responder's token reads the alerts the pipeline raised, on the queues of
// its region only.
func TestRunServesTheAPI(t *testing.T) {
	dir := t.TempDir()
	ex := examples(t)
	addr := freePort(t)
	cfg := filepath.Join(dir, "run.yaml")
	body := fmt.Sprintf(`transport: {kind: memory}
ingest:
  source: synthetic
  synthetic: {rate: 2000, seed: 7, brand_rate: 0.3}
match: {watchlists: %s/watchlists}
route: {policy: %s/routing.yaml, org: %s/org.yaml}
api: {addr: "%s", state_dir: %s/state}
`, ex, ex, ex, addr, dir)
	os.WriteFile(cfg, []byte(body), 0o644)
	var out bytes.Buffer
	if err := run([]string{"token", "create", "--config", cfg, "--by", "ops", "--name", "ada", "--role", "admin"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(out.String())
	var wg sync.WaitGroup
	var runErr error
	var stderr bytes.Buffer
	wg.Go(func() {
		// Long enough for a loaded machine (and -race) to load the models
		// and raise alerts; the loop below stops at the first it sees.
		runErr = run([]string{"run", "--config", cfg, "--duration", "30s", "--quiet", "--progress", "0"}, io.Discard, &lockedWriter{w: &stderr})
	})
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	total := 0
	for deadline := time.Now().Add(27 * time.Second); time.Now().Before(deadline) && total == 0; time.Sleep(200 * time.Millisecond) {
		code, b := get("/v1/queues")
		if code != 200 {
			continue
		}
		var qs api.Page[api.QueueView]
		json.Unmarshal(b, &qs)
		for _, q := range qs.Items {
			_, b := get("/v1/queues/" + q.Name + "/alerts?limit=500")
			var p api.Page[api.Alert]
			json.Unmarshal(b, &p)
			total += len(p.Items)
		}
	}
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr, stderr.String())
	}
	if total == 0 {
		t.Fatalf("the API saw no alerts of the running pipeline\n%s", stderr.String())
	}
}

// TestRunTakesPushThroughTheAPI: with ingest.source push and no
// ingest.push.addr, the API takes POST /v1/posts from identities with the
// ingest role, and the posts run through the pipeline.
func TestRunTakesPushThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	ex := examples(t)
	addr := freePort(t)
	cfg := filepath.Join(dir, "run.yaml")
	body := fmt.Sprintf(`transport: {kind: memory}
ingest:
  source: push
  push: {addr: ""}
match: {watchlists: %s/watchlists}
route: {policy: %s/routing.yaml}
api: {addr: "%s", state_dir: %s/state}
`, ex, ex, addr, dir)
	os.WriteFile(cfg, []byte(body), 0o644)
	token := func(role string) string {
		var out bytes.Buffer
		if err := run([]string{"token", "create", "--config", cfg, "--by", "ops", "--name", "feed-" + role, "--role", role}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	ingestTok, analystTok := token("ingest"), token("analyst")
	var wg sync.WaitGroup
	var runErr error
	var stdout, stderr bytes.Buffer
	wg.Go(func() {
		runErr = run([]string{"run", "--config", cfg, "--duration", "30s", "--progress", "0"}, &lockedWriter{w: &stdout}, &lockedWriter{w: &stderr})
	})
	push := func(tok, body string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/posts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	posts := `{"platform":"file","id":"p1","author":{"handle":"a"},"text":"my Acme phone is broken again, worst experience ever","created_at":"2026-11-20T10:00:00Z"}
{"platform":"file","id":"p2","author":{"handle":"b"},"text":"lovely weather","created_at":"2026-11-20T10:00:01Z"}
{"platform":"file","id":
`
	code := 0
	for deadline := time.Now().Add(27 * time.Second); time.Now().Before(deadline) && code != 202; time.Sleep(100 * time.Millisecond) {
		code = push(ingestTok, posts)
	}
	if code != 202 {
		t.Fatalf("push as ingest: %d\n%s", code, stderr.String())
	}
	if c := push(analystTok, posts); c != 403 {
		t.Errorf("push as analyst: %d, want 403", c)
	}
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Posts != 2 || sum.Alerts < 1 || sum.DeadLetters != 1 {
		t.Fatalf("summary %+v (%v); want the 2 pushed posts, an alert and the bad line dead-lettered\n%s", sum, err, stderr.String())
	}
}
