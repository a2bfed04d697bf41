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

// TestMarketsEndToEnd runs posts from around Europe through the whole
// pipeline with the example org file's markets (DACH, Nordics, GR-CY,
// UK-IE): enrichment tags each with its market, ClickHouse stores it, and
// the built-in dashboard drills down global → EMEA → DACH in headless
// Chromium, for an analyst and for a DACH-scoped token, which opens at its
// market. With EARSHOT_UPDATE_SCREENSHOT=1 it refreshes docs/markets.png.
func TestMarketsEndToEnd(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make integration installs it: deploy/local/chromium.sh)")
	}
	prefix, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	places := []struct{ loc, market string }{
		{"Berlin", "DACH"}, {"Wien", "DACH"}, {"Zürich", "DACH"}, {"Stockholm", "Nordics"},
		{"Athens", "GR-CY"}, {"London", "UK-IE"}, {"New York", ""},
	}
	texts := []string{"my Acme phone is broken again, worst experience ever", "love the new Acme headphones, great sound", "still waiting for a refund from Acme"}
	var body strings.Builder
	now := time.Now().UTC()
	for i := range 42 {
		p := places[i%len(places)]
		fmt.Fprintf(&body, `{"platform":"file","id":"m%d","author":{"handle":"user%d","location":%q},"text":%q,"created_at":%q}`+"\n",
			i, i, p.loc, texts[i%len(texts)], now.Add(-time.Duration(i)*5*time.Minute).Format(time.RFC3339))
	}
	posts := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(posts, []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runFileIntoClickHouse(t, ctx, posts, db, true)
	conn := openCH(t)
	for _, p := range places[:len(places)-1] {
		want := uint64(0)
		for _, q := range places {
			if q.market == p.market {
				want += 6
			}
		}
		if n := count(t, conn, fmt.Sprintf("SELECT count() FROM %s.posts_dedup WHERE market = '%s'", db, p.market)); n != want {
			t.Errorf("%d posts stored in market %s, want %d", n, p.market, want)
		}
	}
	if n := count(t, conn, "SELECT count() FROM "+db+".posts_dedup WHERE market = '' AND country = 'US'"); n != 6 {
		t.Errorf("%d posts from New York stored with no market, want 6", n)
	}
	if n := count(t, conn, "SELECT count() FROM "+db+".matches_dedup WHERE market = 'DACH' AND region = 'EMEA'"); n == 0 {
		t.Error("no DACH matches stored")
	}

	// The API alone, as a distributed deployment runs it.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	file := writeConfig(t, setup{prefix: prefix, db: db, rate: 1, limit: 1})
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "api:\n  addr: %s\n  state_dir: %s\n", addr, t.TempDir())
	f.Close()
	token := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"token", "create", "--config", file, "--by", "itest", "--name", name, "--role", "analyst"}, args...)...).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	analyst, dach := token("markets-it"), token("markets-dach", "--markets", "DACH")
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
	browse := func(path, tok string, args ...string) string {
		t.Helper()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
			"--window-size=1400,1250", "--virtual-time-budget=20000", "--user-data-dir=" + t.TempDir()}
		cmd := exec.CommandContext(ctx, chromium, append(append(base, args...), "http://"+addr+path+"#token="+tok)...)
		var stdout strings.Builder
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return stdout.String()
	}
	panel := regexp.MustCompile(`(?s)<article class="panel" data-panel="markets" data-state="(\w+)">.*?</article>`)
	level := func(path, tok string, want ...string) string {
		t.Helper()
		dom := browse(path, tok, "--dump-dom")
		m := panel.FindStringSubmatch(dom)
		if m == nil || m[1] != "ok" {
			t.Fatalf("%s: the markets panel did not draw:\n%s", path, tail(dom, 3000))
		}
		for _, w := range want {
			if !strings.Contains(m[0], w) {
				t.Errorf("%s: the markets panel shows no %q:\n%s", path, w, m[0])
			}
		}
		return m[0]
	}
	// global: the regions, EMEA and NA, each to open
	g := level("/ui/", analyst, `data-node="global"`, "42 mentions", `class="drill-to">EMEA</button>`, `class="drill-to">NA</button>`)
	if strings.Contains(g, ">DACH<") {
		t.Errorf("the global level shows markets:\n%s", g)
	}
	// EMEA: its markets, and its posts of no market (none here)
	level("/ui/?region=EMEA", analyst, `data-node="region"`, "36 mentions", `>DACH</button>`, `>Nordics</button>`, `>GR-CY</button>`, `>UK-IE</button>`, "Share of voice")
	// DACH
	d := level("/ui/?region=EMEA&market=DACH", analyst, `data-node="market"`, "18 mentions", "<strong>DACH</strong>")
	if strings.Contains(d, ">Nordics<") {
		t.Errorf("the DACH level shows another market:\n%s", d)
	}
	// a DACH team's token opens at DACH, and sees nothing of the others
	s := level("/ui/", dach, `data-node="market"`, "18 mentions", "<strong>DACH</strong>")
	if strings.Contains(s, "Nordics") || strings.Contains(s, `class="error"`) {
		t.Errorf("the DACH token's panel:\n%s", s)
	}
	shot := filepath.Join(t.TempDir(), "markets.png")
	browse("/ui/?region=EMEA", analyst, "--screenshot="+shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot: %v", err)
	}
	if os.Getenv("EARSHOT_UPDATE_SCREENSHOT") != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(root, "docs/markets.png"), b, 0o644)
	}
}
