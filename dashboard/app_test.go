package dashboard

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testPage loads the dashboard's app.js and runs its pure functions on the
// cases below, writing the results as JSON into #out.
const testPage = `<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="out">not run</pre>
<script src="/ui/inert.js"></script>
<script src="/ui/app.js"></script>
<script>
const u = window.earshotUI, r = {};
try {
  const t0 = Date.UTC(2026, 11, 7, 3, 0, 0) / 1000;
  r.oneBucket = u.axisLabels(t0, t0).map(l => l.text);
  r.oneMinute = u.axisLabels(t0, t0 + 60).map(l => l.text);
  r.sixHours = u.axisLabels(t0, t0 + 6 * 3600).map(l => l.text);
  r.month = u.axisLabels(t0, t0 + 30 * 86400).map(l => l.text);
  // A window with one bucket (a few hours of data in "last 7 days"): the
  // series is one point, which a polyline alone does not draw.
  const marks = c => [...c.querySelectorAll("circle")].length;
  r.chartOnePoint = marks(u.lineChart({ acme: [{ t: t0, v: 5 }], "acme-legal": [{ t: t0, v: 2 }] }));
  r.chartLines = marks(u.lineChart({ acme: [{ t: t0, v: 5 }, { t: t0 + 3600, v: 7 }] }));
  r.slaNone = u.compliance(0, 0);
  r.slaNoneStrings = u.compliance("0", "0");
  r.slaHalf = u.compliance(1, 1);
  r.slaAll = u.compliance("3", "0");
  const b = u.bars([{ label: "EMEA", parts: [{ name: "negative", v: 2, colour: "#c0392b" }, { name: "positive", v: 1, colour: "#2a9d6e" }] },
                    { label: "APAC", parts: [{ name: "negative", v: 1, colour: "#c0392b" }, { name: "neutral", v: 4, colour: "#95a5a6" }] }]);
  r.legend = [...b.querySelectorAll(".legend span")].map(s => s.textContent + " " + s.querySelector("i").style.background);
  r.terms = u.mergeTerms([[{ term: "refund", total: "5" }, { term: "phone", total: "2" }], [{ term: "phone", total: 4 }, { term: "zzz", total: 1 }]], 2);
  r.scopeMany = u.termsScope(Array.from({ length: 300 }, (_, i) => "w" + i), 8);
  r.scopeTwo = u.termsScope(["acme", "acme-legal"], 8);
  // dead letters are a series per class: the row shows their sum
  r.stages = u.stageRows('earshot_stream_records_in_total{stage="match"} 7\nearshot_stream_dead_letters_total{class="decode",stage="match"} 1\nearshot_stream_dead_letters_total{class="too_big",stage="match"} 2\nearshot_stream_dead_letters_total{class="other",stage="match"} 0\n');
  r.noStages = u.noStages;
  r.growth = [{ growth: null, previous: 0 }, { growth: 1.86, previous: 3 }, { growth: -0.094, previous: 10 }, { growth: 0, previous: 5 }].map(u.growthText);
  const answer = { posts: 900, read: 300, themed: 0.5, themes: [{ label: "broken · <b>worst</b>", posts: 120, previous: 40, growth: 2, sampled: true,
    sentiment: { negative: 100, neutral: 15, positive: 4, unknown: 1 }, representative: [{ text: "my <img src=x onerror=alert(1)> phone" }] },
    { label: "new", posts: 3, previous: 0, growth: null, sentiment: {}, representative: [] }] };
  r.themeRows = u.themeRows(answer).map(x => [x.label, x.posts, x.trend, x.parts.map(p => p.v).join("/"), x.example].join(" | "));
  const view = u.themesView(answer);
  r.themesImages = view.querySelectorAll("img, b").length;
  r.themesText = view.querySelector("tbody tr").textContent;
  r.themesNote = view.querySelector(".note").textContent;
  // A theme's label and typical post, and a term, come from posts: a bidi
  // control in them is shown as a mark and reorders nothing.
  const bidi = u.themeRows({ themes: [{ label: "refund \u202eevil", posts: 1, sentiment: {}, representative: [{ text: "\u2067x\u2069 \u05e9\u05dc\u05d5\u05dd" }] }] })[0];
  r.bidi = [bidi.label, bidi.example, u.bars([{ label: "a\u202eb", parts: [{ name: "mentions", v: 1, colour: "#000" }] }]).querySelector(".label").textContent];
  r.themesEmpty = u.themesView({ themes: [], posts: 0, read: 0, themed: 0 }).textContent;
} catch (e) { r.error = String(e); }
document.getElementById("out").textContent = JSON.stringify(r);
</script></body></html>`

// TestAppFunctionsInChromium runs the dashboard's pure functions (time axis,
// SLA share, legend, term merge, health) in headless Chromium.
func TestAppFunctionsInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (deploy/local/chromium.sh)")
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", Handler()))
	mux.HandleFunc("/t.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--virtual-time-budget=5000", "--user-data-dir="+t.TempDir(), "--dump-dom", srv.URL+"/t.html").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`(?s)<pre id="out">(.*?)</pre>`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no output:\n%s", out)
	}
	var r struct {
		OneBucket, OneMinute, SixHours, Month    []string
		ChartOnePoint, ChartLines                int
		SlaNone, SlaNoneStrings, SlaHalf, SlaAll string
		Legend                                   []string
		Terms                                    []struct {
			Term  string
			Total float64
		}
		ScopeMany, ScopeTwo struct {
			Shown []string
			Note  string
		}
		Stages          []map[string]any
		NoStages, Error string
		Growth          []string
		ThemeRows       []string
		ThemesImages    int
		ThemesText      string
		ThemesNote      string
		ThemesEmpty     string
		Bidi            []string
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		t.Fatalf("%v: %s", err, m[1])
	}
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if want := []string{"refund [U+202E]evil", "[U+2067]x[U+2069] \u05e9\u05dc\u05d5\u05dd", "a[U+202E]b"}; jsonOf(r.Bidi) != jsonOf(want) {
		t.Errorf("bidi controls from posts: %q, want %q", r.Bidi, want)
	}
	distinct := func(name string, labels []string, n int) {
		t.Helper()
		seen := map[string]bool{}
		for _, l := range labels {
			if seen[l] {
				t.Errorf("%s: label %q repeated in %q", name, l, labels)
			}
			seen[l] = true
		}
		if len(labels) != n {
			t.Errorf("%s: %d labels %q, want %d", name, len(labels), labels, n)
		}
	}
	if r.ChartOnePoint != 2 || r.ChartLines != 0 {
		t.Errorf("line chart: %d marks for two one-point series (want 2: else an empty chart), %d for a line of two points (want 0)", r.ChartOnePoint, r.ChartLines)
	}
	distinct("one bucket", r.OneBucket, 1)
	distinct("one minute", r.OneMinute, 3)
	distinct("six hours", r.SixHours, 3)
	distinct("a month", r.Month, 3)
	if want := []string{"03:00:00", "03:00:30", "03:01:00"}; strings.Join(r.OneMinute, ",") != strings.Join(want, ",") {
		t.Errorf("one minute: %q, want %q", r.OneMinute, want)
	}
	if want := "12-07 03:00"; len(r.SixHours) > 0 && r.SixHours[0] != want {
		t.Errorf("six hours starts %q, want %q", r.SixHours[0], want)
	}
	for name, c := range map[string][2]string{"0/0": {r.SlaNone, "–"}, `"0"/"0"`: {r.SlaNoneStrings, "–"}, "1/1": {r.SlaHalf, "50.0%"}, "3/0": {r.SlaAll, "100.0%"}} {
		if c[0] != c[1] {
			t.Errorf("compliance %s = %q, want %q", name, c[0], c[1])
		}
	}
	if got := strings.Join(r.Legend, "|"); got != "negative rgb(192, 57, 43)|positive rgb(42, 157, 110)|neutral rgb(149, 165, 166)" {
		t.Errorf("bar legend %q", got)
	}
	if len(r.Terms) != 2 || r.Terms[0].Term != "phone" || r.Terms[0].Total != 6 || r.Terms[1].Term != "refund" || r.Terms[1].Total != 5 {
		t.Errorf("merged terms %+v, want phone 6, refund 5", r.Terms)
	}
	if len(r.ScopeMany.Shown) != 8 || r.ScopeMany.Shown[0] != "w0" || !strings.HasPrefix(r.ScopeMany.Note, "the 8 busiest of 300 watchlists") {
		t.Errorf("300 watchlists: %d shown, note %q", len(r.ScopeMany.Shown), r.ScopeMany.Note)
	}
	if len(r.ScopeTwo.Shown) != 2 || r.ScopeTwo.Note != "all 2 watchlists: acme, acme-legal" {
		t.Errorf("2 watchlists: %+v", r.ScopeTwo)
	}
	if len(r.Stages) != 1 || r.Stages[0]["stage"] != "match" || r.Stages[0]["in"] != 7.0 || r.Stages[0]["dead_letters"] != 3.0 {
		t.Errorf("stage rows %v", r.Stages)
	}
	if got := strings.Join(r.Growth, ","); got != "new,+186%,−9%,±0%" {
		t.Errorf("growth texts %q", got)
	}
	if len(r.ThemeRows) != 2 || r.ThemeRows[0] != "broken · <b>worst</b> | 120 (est.) | +200% vs 40 | 100/15/4/1 | my <img src=x onerror=alert(1)> phone" ||
		r.ThemeRows[1] != "new | 3 | new | 0/0/0/0 | " {
		t.Errorf("theme rows %q", r.ThemeRows)
	}
	if r.ThemesImages != 0 || !strings.Contains(r.ThemesText, "<img src=x") {
		t.Errorf("a post's markup became elements (%d) or vanished: %q", r.ThemesImages, r.ThemesText)
	}
	if r.ThemesNote != "900 posts, 300 read (a sample), 50% in a theme; trend against the period before" || r.ThemesEmpty != "no themes in this window" {
		t.Errorf("themes note %q, empty %q", r.ThemesNote, r.ThemesEmpty)
	}
	if !strings.Contains(r.NoStages, "runs no pipeline stages") || !strings.Contains(r.NoStages, "/metrics") {
		t.Errorf("health note %q", r.NoStages)
	}
}
