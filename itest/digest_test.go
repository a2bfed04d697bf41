//go:build integration

package itest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/digest"
	"github.com/earshot-dev/earshot/digest/digestcli"
	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/internal/testsvc"
	"github.com/earshot-dev/earshot/notify"
	"github.com/earshot-dev/earshot/pipeline"
)

// TestDigests fills a database through the pipeline, renders three
// digests from it (earshot digest render's code), checks every figure of
// their CSV and HTML against the cookbook query it comes from, run here
// with parameters worked out here, opens the HTML in headless Chromium and
// the PDF's pages as PNG, then delivers them through the scheduler to a
// real SMTP server (Mailpit) and one to Slack (a test server) and reads
// them back, twice: a restart sends nothing again. With EARSHOT_UPDATE_SCREENSHOT=1 it refreshes
// docs/digests.png.
func TestDigests(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make integration installs it: deploy/local/chromium.sh)")
	}
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm is not installed (deploy/local/chromium.sh installs poppler-utils)")
	}
	_, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)

	// Three weeks of posts through the whole pipeline into ClickHouse,
	// every 5 hours, and a burst of 15 in one hour of yesterday (London).
	london, _ := time.LoadLocation("Europe/London")
	today := time.Date(now.In(london).Year(), now.In(london).Month(), now.In(london).Day(), 0, 0, 0, 0, london)
	texts := []string{
		"my Acme phone is broken again, worst experience ever",
		"it would be great if the Acme app had a dark mode, please add it",
		"Acme charged me twice, awful support, I want a refund",
		"love the new Acme headphones, great sound",
		"feature request for Acme: let me export my data as CSV",
		"our lawyers are looking at the Acme contract, lawsuit coming",
		`Acme <script>document.title="pwned"</script><img src=x onerror="document.title='pwned'"> & "quotes"`,
	}
	var body strings.Builder
	line := func(id string, i int, loc, text string, at time.Time) {
		fmt.Fprintf(&body, `{"platform":"file","id":%q,"author":{"handle":"user%d","location":%q,"followers":%d},"text":%q,"created_at":%q,"engagement":{"likes":%d}}`+"\n",
			id, i%13, loc, 100*(i%29), text, at.Format(time.RFC3339), i%7)
	}
	for i := range 106 {
		at := now.Add(-time.Duration(i)*5*time.Hour - 17*time.Minute)
		line(fmt.Sprintf("d%d", i), i, []string{"Athens", "New York", "Tokyo", "São Paulo", "London"}[i%5], texts[i%len(texts)], at)
	}
	burst := today.Add(-6 * time.Hour)
	for i := range 15 {
		line(fmt.Sprintf("b%d", i), 100+i, "Athens", "Acme outage again, Acme phone is broken, refund now", burst.Add(time.Duration(i)*3*time.Minute))
	}
	posts := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(posts, []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runFileIntoClickHouse(t, ctx, posts, db, true)
	conn := openCH(t)
	if n := count(t, conn, "SELECT count() FROM "+db+".matches_dedup"); n == 0 {
		t.Fatal("the pipeline stored no matches")
	}

	// The configuration: the sink, an email channel on Mailpit, a Slack
	// channel on a test server, three digests.
	mail := testsvc.Mailpit(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "smtp-password")
	os.WriteFile(pw, []byte(mail.Password), 0o600)
	var slackMu sync.Mutex
	var slack []string
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Text string }
		json.NewDecoder(r.Body).Decode(&b)
		slackMu.Lock()
		slack = append(slack, b.Text)
		slackMu.Unlock()
	}))
	defer slackSrv.Close()
	slackURL := filepath.Join(dir, "slack-url")
	os.WriteFile(slackURL, []byte(slackSrv.URL), 0o600)
	cfgFile := filepath.Join(dir, "earshot.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`transport: {kind: memory}
match: {watchlists: %[1]s/deploy/examples/watchlists}
route: {policy: %[1]s/deploy/examples/routing.yaml, org: %[1]s/deploy/examples/org.yaml}
sink: {enabled: true, addr: [%[2]s], database: %[3]s}
api: {state_dir: %[4]s/state}
notify:
  desk_url: https://earshot.example.com
  channels:
    mail:
      kind: email
      from: earshot@example.com
      to: [care-leads@example.com]
      queues: [care]
      smtp: {host: localhost, port: %[5]d, username: %[6]s, password_file: %[7]s, ca_file: %[8]s}
    legal-slack: {kind: slack, url_file: %[9]s, queues: [legal]}
digests:
  - name: legal weekly
    audience: {emails: [legal@example.com, sofia@example.com], channels: [legal-slack], timezone: Europe/Athens}
    scope: {teams: [legal, care-emea], intents: [complaint, crisis]}
    schedule: "0 8 * * MON"
    sections: [volume, spikes, posts, alerts]
  - name: EMEA daily
    audience: {emails: [emea-leads@example.com], timezone: Europe/London}
    scope: {regions: [EMEA]}
    schedule: "@daily"
  - name: R&D product feedback weekly
    audience: {emails: [rnd@example.com], timezone: America/New_York}
    scope: {watchlists: [acme], intents: [feedback]}
    schedule: "@weekly"
    sections: [volume, terms, themes, posts]
`, root, clickhouseAddr, db, dir, mail.SMTPPort, mail.User, pw, mail.CAFile, slackURL)), 0o600)
	cfg, err := pipeline.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := insights.Load()
	if err != nil {
		t.Fatal(err)
	}
	scopes := map[string]map[string]string{
		"legal weekly":                {"watchlists": "", "teams": "legal,care-emea", "regions": "", "intents": "complaint,crisis"},
		"EMEA daily":                  {"watchlists": "", "teams": "", "regions": "EMEA", "intents": ""},
		"R&D product feedback weekly": {"watchlists": "acme", "teams": "", "regions": "", "intents": "feedback"},
	}
	// query runs a cookbook query here, for comparing.
	query := func(name string, params map[string]string) *insights.Table {
		t.Helper()
		tb, err := cat.Run(ctx, conn, db, name, params)
		if err != nil {
			t.Fatalf("%s %v: %v", name, params, err)
		}
		return tb
	}
	with := func(scope map[string]string, kv ...string) map[string]string {
		p := map[string]string{}
		for k, v := range scope {
			p[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}

	for _, dg := range cfg.Digests {
		t.Run(digest.Slug(dg.Name), func(t *testing.T) {
			out := filepath.Join(dir, "out", digest.Slug(dg.Name))
			m, err := digestcli.Render(ctx, cfg, dg.Name, now, out, true)
			if err != nil {
				t.Fatal(err)
			}
			since, until, err := dg.Window(now)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Since.Equal(since) || !m.Until.Equal(until) || until.After(now) || now.Sub(until) > 7*24*time.Hour {
				t.Fatalf("period [%v, %v) at %v", m.Since, m.Until, now)
			}
			scope, s, u := scopes[dg.Name], since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339)
			prev := since.Add(-until.Sub(since)).UTC().Format(time.RFC3339)
			page := read(t, out, digest.FileHTML)
			csvs := func(name string) [][]string { return readCSV(t, filepath.Join(out, name)) }

			// Headline: summary.csv and the HTML cells against digest_summary.
			this := query("digest_summary", with(scope, "since", s, "until", u))
			before := query("digest_summary", with(scope, "since", prev, "until", s))
			sum := csvs("summary.csv")
			last := len(sum[0]) - 1 // the scope, in words
			if sum[0][last] != "scope" || sum[1][last] == "" || sum[2][last] != sum[1][last] {
				t.Errorf("summary.csv does not state the scope: %q", sum)
			}
			if got, want := sum[1][3:last], cellsOf(this.Rows[0]); !slices.Equal(got, want) {
				t.Errorf("summary.csv this period %q, digest_summary says %q", got, want)
			}
			if got, want := sum[2][3:last], cellsOf(before.Rows[0]); !slices.Equal(got, want) {
				t.Errorf("summary.csv previous period %q, digest_summary says %q", got, want)
			}
			cells := map[string]string{}
			for _, c := range regexp.MustCompile(`data-q="digest_summary\.(\w+)">([^<]*)<`).FindAllStringSubmatch(page, -1) {
				cells[c[1]] = html.UnescapeString(c[2])
			}
			for i, col := range this.Columns {
				want := cellOf(this.Rows[0][i])
				if col == "net_sentiment" {
					if f, _ := strconv.ParseFloat(strings.TrimPrefix(cells[col], "+"), 64); math.Abs(f-this.Rows[0][i].(float64)) > 1e-9 {
						t.Errorf("HTML %s %q, digest_summary says %s", col, cells[col], want)
					}
					continue
				}
				n, _ := strconv.ParseInt(want, 10, 64)
				if cells[col] != digest.Count(n) {
					t.Errorf("HTML %s %q, digest_summary says %s", col, cells[col], want)
				}
			}
			mentions, _ := strconv.ParseInt(cellOf(this.Rows[0][0]), 10, 64)
			if mentions == 0 {
				t.Errorf("no mentions in the period: the seed misses this digest's scope")
			}

			// Volume: both periods' buckets against digest_volume.
			bucket := "86400s"
			if until.Sub(since) <= 48*time.Hour {
				bucket = "3600s"
			}
			var want [][]string
			for _, set := range [][3]string{{"this", s, u}, {"previous", prev, s}} {
				for _, r := range query("digest_volume", with(scope, "since", set[1], "until", set[2], "bucket", bucket)).Rows {
					want = append(want, append([]string{set[0]}, cellsOf(r)...))
				}
			}
			compareRows(t, "volume.csv", csvs("volume.csv")[1:], want)

			if slices.Contains(dg.SectionList(), digest.SectionTerms) {
				compareTable(t, "terms.csv", csvs("terms.csv"), query("digest_terms", with(scope, "since", s, "until", u, "top", "10")))
				compareTable(t, "emerging_terms.csv", csvs("emerging_terms.csv"), query("digest_terms", with(scope, "since", s, "until", u, "top", "10", "emerging", "1")))
				for _, r := range csvs("terms.csv")[1:] {
					if !strings.Contains(page, ">"+html.EscapeString(r[0])+"<") {
						t.Errorf("the page does not show term %q", r[0])
					}
				}
			}
			if slices.Contains(dg.SectionList(), digest.SectionPosts) {
				posts := query("digest_posts", with(scope, "since", s, "until", u, "top", "10"))
				compareTable(t, "posts.csv", csvs("posts.csv"), posts)
				for _, r := range posts.Rows {
					if ex := html.EscapeString(r[7].(string)); !strings.Contains(page, ex) {
						t.Errorf("the page does not show post %v", r[0])
					}
				}
			}
			if slices.Contains(dg.SectionList(), digest.SectionAlerts) {
				p := with(scope, "since", s, "until", u, "as_of", u)
				delete(p, "intents")
				compareTable(t, "alerts.csv", csvs("alerts.csv"), query("digest_alerts", p))
			}
			if slices.Contains(dg.SectionList(), digest.SectionSpikes) {
				spikes := query("digest_spikes", with(scope, "since", s, "until", u, "top", "10"))
				got := csvs("spikes.csv")
				var rows [][]string
				for _, r := range got[1:] {
					rows = append(rows, r[:5]) // without the why
				}
				compareRows(t, "spikes.csv", rows, rowsOf(spikes))
				// The burst of yesterday evening is EMEA daily's spike, and its why names the terms.
				if dg.Name == "EMEA daily" && (len(got) < 2 || !strings.Contains(got[1][5], `terms: "acme"`) || !strings.Contains(page, got[1][0])) {
					t.Errorf("EMEA daily: no spike with its why: %q", got)
				}
			}
			// Honest: period, scope, freshness and caveats are on the page.
			fresh := query("digest_freshness", map[string]string{"until": u})
			latest := fresh.Rows[0][0].(time.Time)
			loc, _ := dg.Location()
			for _, want := range []string{since.In(loc).Format("Mon 2 Jan 2006 15:04"), loc.String(), "newest stored post " + latest.In(loc).Format("2 Jan 2006 15:04"), "How far to trust this", "sentiment-4"} {
				if !strings.Contains(page, want) {
					t.Errorf("the page does not say %q", want)
				}
			}
			var meta digest.Meta
			json.Unmarshal([]byte(read(t, out, digest.FileMeta)), &meta)
			if len(meta.Sources) < 4 {
				t.Errorf("meta.json lists %d sources", len(meta.Sources))
			}

			// The page in Chromium: drawn, its script-like post text inert.
			dom := runChromium(t, ctx, chromium, "--dump-dom", "file://"+filepath.Join(out, digest.FileHTML))
			if strings.Contains(dom, "<title>pwned") || !strings.Contains(dom, `id="digest-name">`+html.EscapeString(dg.Name)) {
				t.Errorf("the page in Chromium:\n%s", tail(dom, 2000))
			}
			// The PDF's pages as PNG: at least one, not blank.
			pages, err := digest.PDFPages(ctx, filepath.Join(out, digest.FilePDF), t.TempDir())
			if err != nil || len(pages) == 0 {
				t.Fatalf("PDF pages: %d, %v", len(pages), err)
			}
			img, err := png.Decode(bytes.NewReader(pages[0]))
			if err != nil {
				t.Fatal(err)
			}
			b, dark := img.Bounds(), 0
			for y := b.Min.Y; y < b.Max.Y; y += 2 {
				for x := b.Min.X; x < b.Max.X; x += 2 {
					if r, g, bb, _ := img.At(x, y).RGBA(); r+g+bb < 3*0xa000 {
						dark++
					}
				}
			}
			if dark < 1000 {
				t.Errorf("PDF page 1 looks blank")
			}
			t.Logf("%s: %d mentions, %d PDF pages", dg.Name, mentions, len(pages))
			if dg.Name == "EMEA daily" && os.Getenv("EARSHOT_UPDATE_SCREENSHOT") == "1" {
				shot := filepath.Join(t.TempDir(), "digest.png")
				runChromium(t, ctx, chromium, "--screenshot="+shot, "--window-size=760,1900", "--hide-scrollbars", "file://"+filepath.Join(out, digest.FileHTML))
				b, _ := os.ReadFile(shot)
				os.WriteFile(filepath.Join(root, "docs", "digests.png"), b, 0o644)
			}
		})
	}

	// Delivery: the scheduler sends each digest's period once to Mailpit.
	n, err := notify.New(cfg.Notify, os.Getenv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := pipeline.OpenDigests(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	deliver := func(dg digest.Digest, at time.Time) {
		s := &digest.Scheduler{Digests: []digest.Digest{dg}, Archive: pipeline.DigestArchive(cfg), Produce: d.Produce, Send: n,
			Channels: map[string]string{"mail": "email", "legal-slack": "slack"}, BaseURL: cfg.Notify.DeskURL, Now: func() time.Time { return at }, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
		if err := s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	for _, dg := range cfg.Digests {
		_, until, _ := dg.Window(now)
		deliver(dg, until.Add(-time.Minute))   // first sight: starts with the next period
		deliver(dg, until.Add(3*time.Minute))  // that period is due
		deliver(dg, until.Add(10*time.Minute)) // a restart: nothing again
		ids[digest.MessageID(digest.Slug(dg.Name), until)] = dg.Name
	}
	var list struct {
		Messages []struct {
			ID, MessageID, Subject string
			To                     []struct{ Address string }
		} `json:"messages"`
	}
	mailGet(t, mail.API+"/api/v1/messages", &list)
	if len(list.Messages) != 3 {
		t.Fatalf("%d messages delivered, want 3", len(list.Messages))
	}
	for _, m := range list.Messages {
		name, ok := ids[m.MessageID]
		if !ok {
			t.Errorf("unexpected Message-ID %q", m.MessageID)
			continue
		}
		var full struct {
			Text, HTML  string
			Inline      []struct{ ContentID string }
			Attachments []struct{ FileName, ContentType string }
		}
		mailGet(t, mail.API+"/api/v1/message/"+m.ID, &full)
		var files []string
		for _, a := range full.Attachments {
			files = append(files, a.FileName)
		}
		if !strings.HasPrefix(m.Subject, name+":") || !strings.Contains(full.HTML, `src="cid:volume.png"`) || len(full.Inline) != 1 ||
			!slices.Contains(files, "summary.csv") || !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, ".pdf") }) ||
			!strings.Contains(full.Text, "How far to trust this") || strings.Contains(full.HTML, "<script>") {
			t.Errorf("%s: subject %q, inline %v, attachments %v, text %.200q", name, m.Subject, full.Inline, files, full.Text)
		}
	}
	// Slack got legal weekly's summary and link, once.
	_, legalUntil, _ := cfg.Digests[0].Window(now)
	link := "<https://earshot.example.com/v1/digests/legal-weekly/" + digest.PeriodID(legalUntil) + "/digest.html|Open the digest>"
	slackMu.Lock()
	if len(slack) != 1 || !strings.HasPrefix(slack[0], "legal weekly, ") || !strings.Contains(slack[0], link) {
		t.Errorf("slack got %q", slack)
	}
	slackMu.Unlock()
	archived, err := pipeline.DigestArchive(cfg).List(nil)
	if err != nil || len(archived) != 3 {
		t.Errorf("archive: %d, %v", len(archived), err)
	}
}

func runChromium(t *testing.T, ctx context.Context, chromium string, args ...string) string {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--proxy-server=127.0.0.1:9"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return stdout.String()
}

func mailGet(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// cellOf writes a query's value as the digests' CSV does.
func cellOf(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func cellsOf(row []any) []string {
	out := make([]string, len(row))
	for i, v := range row {
		out[i] = cellOf(v)
	}
	return out
}

func rowsOf(tb *insights.Table) [][]string {
	var out [][]string
	for _, r := range tb.Rows {
		out = append(out, cellsOf(r))
	}
	return out
}

// compareTable checks a CSV (header and rows) against a query's result.
func compareTable(t *testing.T, name string, got [][]string, want *insights.Table) {
	t.Helper()
	if !slices.Equal(got[0], want.Columns) {
		t.Errorf("%s columns %q, the query's %q", name, got[0], want.Columns)
	}
	compareRows(t, name, got[1:], rowsOf(want))
}

func compareRows(t *testing.T, name string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, the query %d:\n got %q\nwant %q", name, len(got), len(want), got, want)
		return
	}
	for i := range got {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("%s row %d: %q, the query says %q", name, i+1, got[i], want[i])
		}
	}
}

// TestDigestsInTheProcess runs earshot run's process with a digest
// configured: its "digests" part makes the digest's due period and sends
// it to Mailpit while the pipeline runs, and a second process started on
// the same state sends nothing again.
func TestDigestsInTheProcess(t *testing.T) {
	_, db := names(t)
	mail := testsvc.Mailpit(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "smtp-password")
	os.WriteFile(pw, []byte(mail.Password), 0o600)
	cfgFile := filepath.Join(dir, "earshot.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`transport: {kind: memory}
ingest: {source: synthetic, synthetic: {rate: 20, seed: 3, brand_rate: 0.3}}
match: {watchlists: %[1]s/deploy/examples/watchlists}
route: {policy: %[1]s/deploy/examples/routing.yaml, org: %[1]s/deploy/examples/org.yaml}
sink: {enabled: true, addr: [%[2]s], database: %[3]s, username: earshot_writer, password_env: EARSHOT_IT_CH_PW, flush_interval: 200ms}
api: {state_dir: %[4]s/state}
notify:
  channels:
    mail:
      kind: email
      from: earshot@example.com
      to: [care-leads@example.com]
      queues: [care]
      min_priority: P1
      rate_limit: {messages: 1, per: 24h}
      smtp: {host: localhost, port: %[5]d, username: %[6]s, password_file: %[7]s, ca_file: %[8]s}
digests:
  - name: hourly acme
    audience: {emails: [acme-watchers@example.com]}
    scope: {watchlists: [acme]}
    schedule: "@hourly"
    sections: [volume, terms, posts]
`, root, clickhouseAddr, db, dir, mail.SMTPPort, mail.User, pw, mail.CAFile)), 0o600)
	t.Setenv("EARSHOT_IT_CH_PW", "earshot")
	cfg, err := pipeline.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	// The ledger as a process stopped two hours ago left it: the period
	// that ended an hour ago is due, and the one that ended on the hour
	// once two minutes have passed (kept away from that edge).
	if m := time.Now().UTC().Minute(); m >= 1 && m < 4 {
		time.Sleep(time.Duration(4-m) * time.Minute)
	}
	hour := time.Now().UTC().Truncate(time.Hour)
	os.MkdirAll(filepath.Join(dir, "state", "digests"), 0o755)
	os.WriteFile(filepath.Join(dir, "state", "digests", "deliveries.json"),
		[]byte(fmt.Sprintf(`{"cursors": {"hourly-acme": %q}, "steps": {}}`, hour.Add(-2*time.Hour).Format(time.RFC3339))), 0o644)
	want := []string{digest.MessageID("hourly-acme", hour.Add(-time.Hour))}
	if time.Now().UTC().Minute() >= 2 {
		want = append(want, digest.MessageID("hourly-acme", hour))
	}

	digestMails := func() (ids []string) {
		var list struct {
			Messages []struct {
				MessageID string
				To        []struct{ Address string }
			} `json:"messages"`
		}
		mailGet(t, mail.API+"/api/v1/messages", &list)
		for _, m := range list.Messages {
			if strings.HasPrefix(m.MessageID, "digest.") {
				ids = append(ids, m.MessageID)
			}
		}
		return ids
	}
	run := func(until func() bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		p, err := pipeline.NewProcess(ctx, cfg, pipeline.ProcessOptions{Name: pipeline.Run, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(p.Parts(), "digests") {
			t.Fatalf("parts %v have no digests", p.Parts())
		}
		done := make(chan error, 1)
		go func() { _, err := p.Run(ctx); done <- err }()
		eventually(t, 80*time.Second, "the digest in Mailpit", until)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("process: %v", err)
		}
	}
	run(func() bool {
		got := digestMails()
		return !slices.ContainsFunc(want, func(id string) bool { return !slices.Contains(got, id) })
	})
	first := digestMails()
	if len(first) != len(want) {
		t.Errorf("digest emails %v, want %v", first, want)
	}
	// A restart on the same state: the periods done are not sent again.
	time.Sleep(time.Second)
	settled := time.Now().Add(5 * time.Second)
	run(func() bool { return time.Now().After(settled) })
	if again := digestMails(); len(again) != len(first) {
		t.Errorf("after a restart %d digest emails, before %d: %v", len(again), len(first), again)
	}
}
