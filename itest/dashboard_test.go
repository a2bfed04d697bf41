//go:build integration

package itest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDashboardInChromium fills a database through the pipeline, serves the
// API with `earshot api`, and opens the built-in dashboard in Debian's
// headless Chromium: every panel must draw from the API without an error.
// With EARSHOT_UPDATE_SCREENSHOT=1 it refreshes docs/dashboard.png.
func TestDashboardInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make integration installs it: deploy/local/chromium.sh)")
	}
	prefix, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Posts of the last hours through the whole pipeline into ClickHouse.
	var body strings.Builder
	texts := []string{
		"my Acme phone is broken again, worst experience ever",
		"still waiting for a refund from Acme, terrible service",
		"Acme charged me twice, awful support",
		"love the new Acme headphones, great sound",
		"the Acme store in Athens was really helpful today",
		"hiring: Acme support agents, apply now",
		"our lawyers are looking at the Acme contract, lawsuit coming",
	}
	now := time.Now().UTC()
	for i := range 60 {
		loc := []string{"Athens", "New York", "Tokyo", "São Paulo", "London"}[i%5]
		fmt.Fprintf(&body, `{"platform":"file","id":"d%d","author":{"handle":"user%d","location":%q,"followers":%d},"text":%q,"created_at":%q}`+"\n",
			i, i%17, loc, 100*i, texts[i%len(texts)], now.Add(-time.Duration(i)*7*time.Minute).Format(time.RFC3339))
	}
	posts := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(posts, []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runFileIntoClickHouse(t, ctx, posts, db, true)
	conn := openCH(t)
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	if n := count(t, conn, "SELECT count() FROM "+db+".matches_dedup"); n == 0 {
		t.Fatal("the pipeline stored no matches")
	}

	// The API alone, as a distributed deployment runs it.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	file := writeConfig(t, setup{prefix: prefix, db: db, rate: 1, limit: 1})
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	state := t.TempDir()
	fmt.Fprintf(f, "api:\n  addr: %s\n  state_dir: %s\n", addr, state)
	f.Close()
	// An archived digest, as the scheduler leaves one, for the digests panel.
	arch := filepath.Join(state, "digests", "legal-weekly", "20261207T0600Z")
	os.MkdirAll(arch, 0o755)
	os.WriteFile(filepath.Join(arch, "meta.json"), []byte(`{"name":"legal weekly","slug":"legal-weekly","period":"20261207T0600Z","since":"2026-11-30T06:00:00Z","until":"2026-12-07T06:00:00Z","subject":"legal weekly: 12 mentions","mentions":12,"files":["digest.html","digest.pdf"],"scope":{}}`), 0o644)
	out, err := exec.Command(bin, "token", "create", "--config", file, "--by", "itest", "--name", "dashboard-it", "--role", "analyst").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(out))
	api := exec.Command(bin, "api", "--config", file)
	var stderr syncBuffer
	api.Stderr = &stderr
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		api.Process.Kill()
		api.Wait()
		if t.Failed() {
			t.Logf("earshot api stderr:\n%s", tail(stderr.String(), 3000))
		}
	}()
	eventually(t, 30*time.Second, "the API to serve the dashboard", func() bool {
		res, err := http.Get("http://" + addr + "/ui/")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})

	browse := func(args ...string) string {
		t.Helper()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
			"--window-size=1400,1250", "--virtual-time-budget=20000", "--user-data-dir=" + t.TempDir()}
		cmd := exec.CommandContext(ctx, chromium, append(append(base, args...), "http://"+addr+"/ui/#token="+token)...)
		var stdout strings.Builder
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return stdout.String()
	}
	dom := browse("--dump-dom")
	if !strings.Contains(dom, `<body data-state="drawn">`) {
		t.Fatalf("the page did not finish drawing:\n%s", tail(dom, 3000))
	}
	states := regexp.MustCompile(`data-panel="(\w+)" data-state="(\w+)"`).FindAllStringSubmatch(dom, -1)
	if len(states) != 10 {
		t.Errorf("%d panels drawn, want 10:\n%s", len(states), tail(dom, 3000))
	}
	for _, s := range states {
		if s[2] != "ok" {
			t.Errorf("panel %s: %s", s[1], s[2])
		}
	}
	if strings.Contains(dom, `class="error"`) {
		t.Errorf("a panel shows an error:\n%s", tail(dom, 3000))
	}
	for _, want := range []string{"<polyline", "acme", "EMEA", "legal weekly: 12 mentions", `data-file="digest.pdf"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page shows no %q", want)
		}
	}
	// The themes panel finds the stories of the posts, with a typical post.
	if m := regexp.MustCompile(`(?s)data-panel="themes".*?</article>`).FindString(dom); !strings.Contains(m, "worst experience ever") || !strings.Contains(m, "refund") {
		t.Errorf("the themes panel does not show the stories:\n%s", m)
	}
	// Under `earshot api` the health panel says where the stages' counters are.
	if !strings.Contains(dom, "runs no pipeline stages") {
		t.Errorf("the health panel does not say the API process runs no stages:\n%s", tail(dom, 3000))
	}
	// The stacked bars carry a legend of their colours.
	if m := regexp.MustCompile(`(?s)data-panel="regions".*?</article>`).FindString(dom); !strings.Contains(m, `class="legend"`) || !strings.Contains(m, "negative") {
		t.Errorf("the regions panel has no colour legend:\n%s", m)
	}
	// An SLA row with nothing met or breached has no compliance share.
	if m := regexp.MustCompile(`<td>0</td><td>0</td><td>[\d,]+</td><td>[\d.]+%</td>`).FindString(dom); m != "" {
		t.Errorf("an SLA row with 0 met and 0 breached shows a share: %s", m)
	}
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	browse("--screenshot=" + shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot: %v", err)
	}
	if os.Getenv("EARSHOT_UPDATE_SCREENSHOT") != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(root, "docs/dashboard.png"), b, 0o644)
	}
}
