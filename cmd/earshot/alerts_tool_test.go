package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/api"
)

// TestAlertsTool: earshot alerts claim, note, resolve and list against a
// running API, as the token's identity; a refusal is exit 1 with the
// API's reason; no token is an error, and the token never shows in -h.
func TestAlertsTool(t *testing.T) {
	cfg := api.DefaultConfig()
	cfg.Addr, cfg.StateDir = "127.0.0.1:0", t.TempDir()
	tokens, err := api.OpenTokens(cfg.Tokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, rita, _ := tokens.Create(api.NewToken{Name: "rita", Role: api.Responder})
	_, sam, _ := tokens.Create(api.NewToken{Name: "sam", Role: api.Responder})
	alerts := api.NewMemAlerts(10)
	alerts.Add(api.Alert{ID: "a1", Queue: "care", Priority: "P1", CreatedAt: time.Now()})
	alerts.Add(api.Alert{ID: "a2", Queue: "care", Priority: "P3", CreatedAt: time.Now()})
	srv, err := api.New(cfg, api.Deps{Tokens: tokens, Alerts: alerts, Queues: map[string]api.QueueInfo{"care": {}}, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cli := func(tok string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(append(append([]string{"alerts"}, args...), "--api", ts.URL, "--token", tok), &out, &bytes.Buffer{})
		return out.String(), err
	}
	for _, args := range [][]string{{"claim", "care", "a1"}, {"note", "care", "a1", "called back"}, {"resolve", "care", "a1", "--outcome", "replied"}} {
		if out, err := cli(rita, args...); err != nil || !strings.Contains(out, "a1") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	// A resolve without its outcome is bad usage (exit 2, as docs/desk.md
	// says), refused before it reaches the API: a2 stays new.
	for _, outcome := range [][]string{{}, {"--outcome", ""}} {
		if _, err := cli(sam, append([]string{"resolve", "care", "a2"}, outcome...)...); exitCode(err) != 2 || !strings.Contains(err.Error(), "--outcome") {
			t.Fatalf("resolve without an outcome %v: exit %d %v, want 2 naming --outcome", outcome, exitCode(err), err)
		}
	}
	if out, err := cli(sam, "list", "care", "--state", "new"); err != nil || !strings.Contains(out, "a2") {
		t.Fatalf("a2 after refused resolves: %v\n%s", err, out)
	}
	out, err := cli(sam, "resolve", "care", "a1", "--outcome", "spam")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "409 conflict") || !strings.Contains(err.Error(), "resolved already") {
		t.Fatalf("sam's resolve: exit %d %v %s", exitCode(err), err, out)
	}
	if out, err = cli(sam, "list", "care", "--state", "resolved", "--json"); err != nil || strings.Count(out, "\n") != 1 ||
		!strings.Contains(out, `"outcome":"replied"`) || !strings.Contains(out, `"text":"called back"`) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	t.Setenv("EARSHOT_TOKEN", "")
	if _, err := cli("", "list", "care"); err == nil || !strings.Contains(err.Error(), "no API token") {
		t.Fatalf("no token: %v", err)
	}
	t.Setenv("EARSHOT_TOKEN", "secret-in-env")
	var help bytes.Buffer
	run([]string{"alerts", "list", "-h"}, &help, &bytes.Buffer{})
	if strings.Contains(help.String(), "secret-in-env") {
		t.Fatal("the token shows in the help")
	}
}

// When the notification channels could not be told of a resolve (503; the
// resolve is recorded), the CLI says which Idempotency-Key to retry with
// and takes it back (--idempotency-key): a plain second resolve is a 409
// and would leave the PagerDuty incident open.
func TestAlertsToolResolveRetriesWithTheKeyAfter503(t *testing.T) {
	cfg := api.DefaultConfig()
	cfg.Addr, cfg.StateDir = "127.0.0.1:0", t.TempDir()
	tokens, err := api.OpenTokens(cfg.Tokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, rita, _ := tokens.Create(api.NewToken{Name: "rita", Role: api.Responder})
	alerts := api.NewMemAlerts(10)
	alerts.Add(api.Alert{ID: "a1", Queue: "care", Priority: "P1", CreatedAt: time.Now()})
	var mu sync.Mutex
	down, told := true, 0
	srv, err := api.New(cfg, api.Deps{Tokens: tokens, Alerts: alerts, Queues: map[string]api.QueueInfo{"care": {}}, Registerer: prometheus.NewRegistry(),
		OnResolve: func(context.Context, api.Alert) error {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return errors.New("desk topic down")
			}
			told++
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(append(append([]string{"alerts"}, args...), "--api", ts.URL, "--token", rita), &out, &bytes.Buffer{})
		return out.String(), err
	}
	_, err = cli("resolve", "care", "a1", "--outcome", "replied")
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("resolve with the channels down: %v", err)
	}
	m := regexp.MustCompile(`--idempotency-key ([0-9a-f]+)`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("the error names no key to retry with: %v", err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if out, err := cli("resolve", "care", "a1", "--outcome", "replied", "--idempotency-key", m[1]); err != nil || !strings.Contains(out, "resolved") {
		t.Fatalf("retry with the key: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if told != 1 {
		t.Fatalf("the channels were told %d times, want 1", told)
	}
}
