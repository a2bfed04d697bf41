package digest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/insights"
)

// fakeRunner answers the digest queries from canned tables and records
// the calls.
type fakeRunner struct {
	tables map[string]*insights.Table
	calls  []string
}

func (f *fakeRunner) Run(_ context.Context, name string, params map[string]string) (*insights.Table, error) {
	f.calls = append(f.calls, name)
	if t, ok := f.tables[name]; ok {
		return t, nil
	}
	return &insights.Table{}, nil
}

var (
	t1     = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC) // 08:00 in Athens
	weekly = Digest{Name: "legal weekly", Schedule: "0 8 * * MON", Audience: Audience{Emails: []string{"l@example.com"}, Timezone: "Europe/Athens"},
		Scope: Scope{Teams: []string{"legal"}, Intents: []string{"complaint"}}}
	hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> \"quoted\" & =HYPERLINK(\"http://evil\")\u202e"
)

func seeded() *fakeRunner {
	return &fakeRunner{tables: map[string]*insights.Table{
		"digest_freshness": {Columns: []string{"latest_post", "latest_write"}, Rows: [][]any{{t1.Add(-10 * time.Minute), t1.Add(-9 * time.Minute)}}},
		"digest_summary":   {Columns: []string{"mentions", "posts", "positive", "neutral", "negative", "net_sentiment"}, Rows: [][]any{{uint64(12345), uint64(12000), uint64(100), uint64(200), uint64(9000), -0.721}}},
		"digest_volume":    {Columns: []string{"bucket_start", "mentions", "positive", "neutral", "negative"}, Rows: [][]any{{t1.Add(-7 * 24 * time.Hour), uint64(5), uint64(1), uint64(1), uint64(3)}, {t1.Add(-24 * time.Hour), uint64(50), uint64(1), uint64(9), uint64(40)}}},
		"digest_terms":     {Columns: []string{"term", "this_period", "previous_period", "change"}, Rows: [][]any{{"=cmd|' /C calc'!A0", uint64(9), uint64(2), int64(7)}, {hostile, uint64(3), uint64(0), int64(3)}}},
		"digest_spikes":    {Columns: []string{"watchlist", "hour", "mentions_in_hour", "baseline", "ratio"}, Rows: [][]any{{"acme", t1.Add(-30 * time.Hour), uint64(40), 0.3, 133.33}}},
		"digest_posts":     {Columns: []string{"post_key", "platform", "author_handle", "created_at", "influence", "engagement", "sentiment_label", "excerpt"}, Rows: [][]any{{"x:1", "x", "<b>mallory</b>", t1.Add(-2 * time.Hour), 88.5, int64(1000), "negative", hostile}}},
		"digest_alerts":    {Columns: []string{"queue", "alerts", "spikes", "with_sla", "met", "breached", "pending", "compliance"}, Rows: [][]any{{"legal", uint64(4), uint64(1), uint64(4), uint64(3), uint64(1), uint64(0), 0.75}}},
	}}
}

func TestBuildAndRender(t *testing.T) {
	run := seeded()
	r, err := Build(context.Background(), run, nil, weekly, t1.Add(time.Hour), t1.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := weekly.Location()
	if !r.Until.Equal(t1) || !r.Since.Equal(t1.Add(-7*24*time.Hour)) {
		t.Errorf("period [%v, %v)", r.Since, r.Until)
	}
	out, err := Render(r, loc)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{out.Email, out.HTML} {
		if strings.Contains(s, "<script>") || strings.Contains(s, "<img src=x") || strings.Contains(s, "<b>mallory") {
			t.Errorf("post text not escaped in the HTML")
		}
		for _, want := range []string{"12,345", "-0.721", "Mon 30 Nov 2026 08:00 to Mon 7 Dec 2026 08:00 (Europe/Athens)", "teams legal; intents complaint",
			"newest stored post 7 Dec 2026 07:50", "&lt;script&gt;", "75.0%", "sentiment-4", "Intents are a model", "133.33"} {
			if !strings.Contains(s, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
	}
	if !strings.Contains(out.Email, `src="cid:volume.png"`) || strings.Contains(out.Email, "data:image") {
		t.Errorf("the email's chart is not a cid: part")
	}
	if !strings.Contains(out.HTML, `src="data:image/png;base64,`) {
		t.Errorf("the page's chart is not a data: URI")
	}
	if strings.Contains(out.HTML, `src="http`) || strings.Contains(out.HTML, `href="http`) || strings.Contains(out.HTML, "url(") {
		t.Errorf("the page refers to something outside itself")
	}
	if _, err := png.Decode(bytes.NewReader(out.Chart)); err != nil {
		t.Errorf("chart: %v", err)
	}
	if !strings.Contains(out.Text, "12,345") || !strings.Contains(out.Text, "acme") || strings.Contains(out.Text, "\u202e") {
		t.Errorf("text part:\n%s", out.Text)
	}
	if strings.ContainsAny(out.Subject, "\r\n") || !strings.Contains(out.Subject, "12,345 mentions") {
		t.Errorf("subject %q", out.Subject)
	}
	// CSV: a formula in a term is defused, numbers are not touched.
	rows, err := csv.NewReader(bytes.NewReader(out.CSV["terms.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != "'=cmd|' /C calc'!A0" || rows[1][3] != "7" {
		t.Errorf("terms.csv row %q", rows[1])
	}
	// Every query run is a source, with its parameters.
	if len(r.Sources) != len(run.calls) {
		t.Errorf("%d sources for %d runs", len(r.Sources), len(run.calls))
	}
	for _, s := range r.Sources {
		if s.Query == "digest_alerts" {
			if _, ok := s.Params["intents"]; ok {
				t.Errorf("alerts given intents")
			}
		} else if s.Query != "digest_freshness" && s.Params["teams"] != "legal" {
			t.Errorf("%s without the scope: %v", s.Query, s.Params)
		}
	}
}

func TestEmptyScope(t *testing.T) {
	run := &fakeRunner{tables: map[string]*insights.Table{
		"digest_summary":   {Columns: []string{"mentions", "posts", "positive", "neutral", "negative", "net_sentiment"}, Rows: [][]any{{uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), 0.0}}},
		"digest_freshness": {Columns: []string{"latest_post", "latest_write"}, Rows: [][]any{{time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC()}}},
	}}
	r, err := Build(context.Background(), run, nil, weekly, t1, t1)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := weekly.Location()
	out, err := Render(r, loc)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{out.HTML, out.Text, out.Subject, out.Summary} {
		if !strings.Contains(s, "no posts in this period") && !strings.Contains(s, "No posts in this period") {
			t.Errorf("does not say there were no posts: %.200q", s)
		}
	}
	if !strings.Contains(out.HTML, "no matches stored at all yet") {
		t.Errorf("freshness of an empty store not stated")
	}
}

func TestBuildFailsOnQueryError(t *testing.T) {
	r, err := Build(context.Background(), errRunner{}, nil, weekly, t1, t1)
	if err == nil || r != nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("got %v, %v", r, err)
	}
}

type errRunner struct{}

func (errRunner) Run(context.Context, string, map[string]string) (*insights.Table, error) {
	return nil, errors.New("boom")
}

// TestPDF prints a digest with headless Chromium (skipped without one
// outside CI) and looks at its first page as PNG with pdftoppm.
func TestPDF(t *testing.T) {
	chromium, err := FindChromium(os.Getenv)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	r, err := Build(context.Background(), seeded(), nil, weekly, t1, t1)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := weekly.Location()
	out, err := Render(r, loc)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := PDF(context.Background(), chromium, []byte(out.HTML))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.20q", pdf)
	}
	dir := t.TempDir()
	if keep := os.Getenv("EARSHOT_DIGEST_OUT"); keep != "" {
		dir = keep
	}
	if _, err := WriteDir(dir, r, loc, out, pdf); err != nil {
		t.Fatal(err)
	}
	pages, err := PDFPages(context.Background(), filepath.Join(dir, FilePDF), dir)
	if errors.Is(err, exec.ErrNotFound) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 1 {
		t.Fatal("no pages")
	}
	img, err := png.Decode(bytes.NewReader(pages[0]))
	if err != nil {
		t.Fatal(err)
	}
	// An A4 page at 50 dpi, not blank: text and the chart darken it.
	b := img.Bounds()
	if b.Dx() < 300 || b.Dy() < 400 {
		t.Errorf("page 1 is %v", b)
	}
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			if r, g, bb, _ := img.At(x, y).RGBA(); r+g+bb < 3*0xa000 {
				dark++
			}
		}
	}
	if dark < 1000 {
		t.Errorf("page 1 looks blank (%d dark pixels)", dark)
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{130 * time.Minute: "2h10m", 76 * time.Hour: "3d4h", 30 * time.Second: "1m", 0: "0m", 24 * time.Hour: "1d"} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
}

// A market-scoped digest passes its markets to every scoped query (not to
// freshness), and says so on the page, in the text part and in the CSV.
func TestMarketScope(t *testing.T) {
	run := seeded()
	dach := weekly
	dach.Name, dach.Scope = "DACH weekly", Scope{Watchlists: []string{"acme"}, Markets: []string{"DACH", "GR-CY"}}
	r, err := Build(context.Background(), run, nil, dach, t1, t1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sources {
		got, ok := s.Params["markets"]
		switch {
		case s.Query == "digest_freshness":
			if ok {
				t.Errorf("freshness given markets")
			}
		case got != "DACH,GR-CY":
			t.Errorf("%s: markets %q, want DACH,GR-CY", s.Query, got)
		}
	}
	loc, _ := dach.Location()
	out, err := Render(r, loc)
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"page": out.HTML, "email": out.Email, "text": out.Text} {
		if !strings.Contains(s, "watchlists acme; markets DACH, GR-CY") {
			t.Errorf("the %s does not state the markets", what)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(out.CSV["summary.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := rows[0]; h[len(h)-1] != "scope" || rows[1][len(h)-1] != "watchlists acme; markets DACH, GR-CY" {
		t.Errorf("summary.csv does not state the scope: %q", rows[:2])
	}
	if (Scope{Markets: []string{"DACH"}}).Empty() {
		t.Errorf("a market-only scope is empty")
	}
}

// A period shorter than a day says its times ("7 Dec to 7 Dec 2026" told
// an hourly digest's reader nothing); a day or longer keeps dates only,
// a day that DST shortened included.
func TestSubjectPeriod(t *testing.T) {
	athens, err := time.LoadLocation("Europe/Athens")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04", s, athens)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []struct{ since, until, want string }{
		{"2026-12-07 09:00", "2026-12-07 10:00", ", 7 Dec 2026 09:00 to 10:00 EET"},
		{"2026-12-06 23:00", "2026-12-07 00:00", ", 6 Dec 23:00 to 7 Dec 2026 00:00 EET"},
		{"2026-12-31 18:00", "2027-01-01 06:00", ", 31 Dec 2026 18:00 to 1 Jan 2027 06:00 EET"},
		{"2026-12-06 00:00", "2026-12-07 00:00", ", 6 Dec to 7 Dec 2026"},
		{"2026-11-30 08:00", "2026-12-07 08:00", ", 30 Nov to 7 Dec 2026"},
		{"2026-03-29 00:00", "2026-03-30 00:00", ", 29 Mar to 30 Mar 2026"}, // 23 hours: summer time begins
	} {
		r := &Report{Name: "care hourly", Since: at(c.since), Until: at(c.until)}
		if got := r.subject(athens); !strings.HasSuffix(got, c.want) {
			t.Errorf("%s to %s: subject %q, want it to end %q", c.since, c.until, got, c.want)
		}
	}
}
