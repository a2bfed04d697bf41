package dashboard

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDeskPageServed: /ui/desk (the link notifications send, with
// ?alert=ID) is the desk page, under the same content security policy as
// the dashboard.
func TestDeskPageServed(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/ui/desk", "/ui/desk?alert=a-1", "/ui/desk/", "/ui/desk.js", "/ui/desk.css", "/ui/inert.js"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
			continue
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.HasPrefix(path, "/ui/desk?") || path == "/ui/desk" {
			if !strings.Contains(string(b), "<title>earshot desk</title>") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s is not the desk page: %s %.200s", path, res.Header.Get("Content-Type"), b)
			}
		}
	}
	// The page never puts data in as HTML.
	js, _ := static.ReadFile("static/desk.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("desk.js uses %s", bad)
		}
	}
}

const deskTestPage = `<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="out">not run</pre>
<script src="/ui/inert.js"></script>
<script src="/ui/desk.js"></script>
<script>
const u = window.earshotDesk, r = {};
const seg = (text, spans, kws) => u.segments(text, spans, kws).map(s => (s.mark ? "[" + s.text + "]" : s.text)).join("");
try {
  // Byte spans of UTF-8 text: "Ωμέγα acme 🎉 acme!" — Ωμέγα is 10 bytes, 🎉 4.
  const t = "Ωμέγα acme 🎉 acme!";
  r.spans = seg(t, [{start: 11, end: 15, term: "acme"}, {start: 21, end: 25, term: "acme"}]);
  r.overlap = seg("broken phone", [{start: 0, end: 6}, {start: 3, end: 12}]);
  r.pastEnd = seg("short", [{start: 2, end: 999}]);
  r.midChar = seg("Ωx", [{start: 1, end: 3}]);
  r.keywords = seg("My ACME phone, acme!", null, ["acme"]);
  r.keywordsRegexChars = seg("a+b (c) a+b", [], ["a+b", "(c)"]);
  r.none = seg("<img src=x onerror=alert(1)>", [], []);
  r.empty = seg("", [], ["x"]);
  r.urls = ["https://x.com/a", "http://e.example/", "javascript:alert(1)", "data:text/html,x", " https://ok.example/ ", "//evil.example", "vbscript:x"].map(u.safeURL);
  // A responder's link with a Unicode look-alike host (a Cyrillic "а"),
  // with and without a title, and one that is no http(s) link.
  r.links = [{ url: "https://\u0430pple.com/case?id=1" }, { url: "https://\u0430pple.com/x", title: "ticket" }, { url: "javascript:alert(1)" }]
    .map(u.linkView).map(v => [v.href, v.label, v.shown].join(" "));
  const a = { id: "a1", queue: "care", priority: "P2", region: "EMEA", desk: { state: "claimed", assignee: "rita" }, item: { post: { text: "Hello acme", author: { handle: "bob" } }, enrichment: { lang: "en" } } };
  const f = { queue: "", priority: "", state: "open", region: "", lang: "", assignee: "", text: "" };
  r.filters = [
    u.passes(a, f, "rita"),
    u.passes(a, { ...f, assignee: "me" }, "rita"),
    u.passes(a, { ...f, assignee: "me" }, "sam"),
    u.passes(a, { ...f, assignee: "none" }, "rita"),
    u.passes(a, { ...f, state: "new" }, "rita"),
    u.passes(a, { ...f, priority: "P1" }, "rita"),
    u.passes(a, { ...f, region: "APAC" }, "rita"),
    u.passes(a, { ...f, lang: "en" }, "rita"),
    u.passes(a, { ...f, lang: "de" }, "rita"),
    u.passes(a, { ...f, text: "ACME" }, "rita"),
    u.passes(a, { ...f, text: "@bob" }, "rita"),
    u.passes(a, { ...f, text: "bob" }, "rita"),
    u.passes({ ...a, desk: { state: "resolved" } }, f, "rita"),
    u.passes({ ...a, desk: { state: "resolved" } }, { ...f, state: "" }, "rita"),
  ];
  const sse = u.parseSSE(": feed of queue care\nretry: 2000\n\nid: a1\nevent: desk\ndata: {\"id\":\"a1\"}\n\nid: a2\nevent: alert\ndata: {\"id\"");
  r.sse = sse.events.map(e => e.event + " " + e.id + " " + e.data);
  r.sseRest = sse.rest;
  const sorted = [{ id: "x", priority: "P3", created_at: "2026-01-01T00:00:00Z" }, { id: "y", priority: "P1", created_at: "2026-01-01T00:00:00Z", due_at: "2026-01-02T00:00:00Z" },
    { id: "z", priority: "P1", created_at: "2026-01-01T00:00:00Z", due_at: "2026-01-01T12:00:00Z" }].sort(u.order);
  r.order = sorted.map(a => a.id).join("");
  const now = Date.UTC(2026, 11, 7, 12, 0, 0), iso = ms => new Date(ms).toISOString();
  // The platform's retraction: the state reads "closed by the platform";
  // a live alert event keeps the desk the page knows (a feed's alert
  // carries none in distributed mode), closes it on a retraction and opens
  // it again when the alert is raised again.
  const known = { ...a, desk: { state: "claimed", assignee: "rita", notes: [{ text: "n" }], snoozed_until: "2099-01-01T00:00:00Z" } };
  const closed = { state: "resolved", outcome: "retracted", resolved_by: "platform", resolved_at: "2026-12-07T05:01:00Z" };
  r.retract = [
    u.stateOf({ desk: closed }, 0),
    u.stateOf({ desk: { state: "resolved", outcome: "replied", resolved_by: "rita" } }, 0),
    JSON.stringify(u.mergeLive(known, { ...a, desk: { state: "new" } }).desk),
    JSON.stringify(u.mergeLive(known, { ...a, retracted: true, desk: closed }).desk),
    JSON.stringify(u.mergeLive(u.mergeLive(known, { ...a, retracted: true, desk: closed }), { ...a, desk: { state: "new" } }).desk),
    JSON.stringify(u.mergeLive(undefined, { ...a, desk: { state: "new" } }).desk),
    String(u.passes({ ...a, retracted: true, desk: closed }, f, "rita")),
    // A post deleted at its source: the live event carries no item, and
    // the alert the page knows keeps none of the post it showed.
    String("item" in u.mergeLive({ ...known, item: { post: { text: "deleted words" } } }, { id: a.id, queue: a.queue, deleted: true, retracted: true, desk: closed })),
  ];
  r.sla = [
    u.slaText({ sla: { first_response_due: iso(now + 3600e3) } }, now),
    u.slaText({ sla: { first_response_due: iso(now - 60e3) } }, now), // past due, the answer said not breached yet
    u.slaText({ sla: { first_response_due: iso(now - 60e3), first_response_seconds: 240 } }, now),
    u.slaText({ sla: { near_breach: true, first_response_due: iso(now + 60e3) } }, now),
    u.slaText({}, now),
  ].join("|");
  // Snooze presets and bounds; the names assign takes.
  r.snooze = [u.snoozeFor("1", now), u.snoozeFor("4", now), u.snoozeFor("9", now),
    u.checkSnooze(iso(now + 3600e3), now), u.checkSnooze(iso(now - 1), now), u.checkSnooze("9999-12-31T23:59", now),
    u.checkSnooze(iso(now + 91 * 864e5), now), u.checkSnooze("", now), u.checkSnooze("soon", now)];
  const people = ["sam", "rita"];
  r.assignee = ["  sam ", "s\u0061\u0301m", "", "x".repeat(513), "sa\u200bm", "sam\u202e", "s\u0000m", "\u3164",
    "s\u0430m", "\u0441\u0430\u043c", "oidc:https://id.example/\u0438\u0432\u0430\u043d", "Zoë"].map(n => {
    const c = u.checkAssignee(n, people);
    return c.error ? "error" : c.warn ? "warn" : c.name;
  });
  // A note or link title stored before bidi controls were refused.
  r.inert = ["refund \u202edeined\u202c ok", "a\u2067b\u2069", "\u05e9\u05dc\u05d5\u05dd\u200f 42", "", undefined].map(u.inert);
  // A post from a platform with bidi controls in its text (a matched term
  // beside one, byte spans of the text as stored) and its author's names.
  const pv = u.postView({ text: "acme \u202erefund\u202c \u2066ok\u2069", author: { handle: "b\u202eob", name: "\u202eevil" } }, [{ start: 0, end: 4, term: "acme" }], []);
  const pv2 = u.postView({ text: "\u05e9\u05dc\u05d5\u05dd acme" }, [], ["acme"]);
  r.post = [pv.runs.map(s => (s.mark ? "[" + s.text + "]" : s.text)).join(""), pv.handle, pv.name, pv.excerpt,
    pv2.runs.map(s => (s.mark ? "[" + s.text + "]" : s.text)).join(""), pv2.handle, pv2.name];
} catch (e) { r.error = String(e.stack || e); }
document.getElementById("out").textContent = JSON.stringify(r);
</script></body></html>`

// TestDeskFunctionsInChromium runs the desk page's pure functions (the
// highlighting of matched terms by byte spans, the link check, the
// filters, the live feed's parser, the order) in headless Chromium.
func TestDeskFunctionsInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (deploy/local/chromium.sh)")
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", Handler()))
	mux.HandleFunc("/t.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(deskTestPage))
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
		Spans, Overlap, PastEnd, MidChar, Keywords, KeywordsRegexChars, None, Empty string
		URLs                                                                        []string
		Filters                                                                     []bool
		SSE                                                                         []string
		SSERest, Order, Error                                                       string
		Retract, Snooze, Assignee, Inert, Post, Links                               []string
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		t.Fatalf("%v: %s", err, m[1])
	}
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	for name, c := range map[string][2]string{
		"byte spans":         {r.Spans, "Ωμέγα [acme] 🎉 [acme]!"},
		"overlapping spans":  {r.Overlap, "[broken phone]"},
		"span past the end":  {r.PastEnd, "sh[ort]"},
		"span mid-character": {r.MidChar, "[Ωx]"},
		"keywords":           {r.Keywords, "My [ACME] phone, [acme]!"},
		"regex characters":   {r.KeywordsRegexChars, "[a+b] [(c)] [a+b]"},
		"nothing matched":    {r.None, "<img src=x onerror=alert(1)>"},
		"empty text":         {r.Empty, ""},
		"order":              {r.Order, "zyx"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", name, c[0], c[1])
		}
	}
	if want := []string{"https://x.com/a", "http://e.example/", "", "", "https://ok.example/", "", ""}; strings.Join(r.URLs, "|") != strings.Join(want, "|") {
		t.Errorf("safeURL: %q, want %q", r.URLs, want)
	}
	// A link's host is shown as the browser goes to it, in ASCII: a Unicode
	// look-alike is plain (href, label, the URL shown beside a title).
	if want := []string{"https://xn--pple-43d.com/case?id=1 https://xn--pple-43d.com/case?id=1 ", "https://xn--pple-43d.com/x ticket https://xn--pple-43d.com/x",
		" javascript:alert(1) "}; jsonOf(r.Links) != jsonOf(want) {
		t.Errorf("links:\n%q\nwant\n%q", r.Links, want)
	}
	if want := []bool{true, true, false, false, false, false, false, true, false, true, true, true, false, true}; jsonOf(r.Filters) != jsonOf(want) {
		t.Errorf("filters: %v, want %v", r.Filters, want)
	}
	if want := []string{
		"closed by the platform",
		"resolved",
		`{"state":"claimed","assignee":"rita","notes":[{"text":"n"}],"snoozed_until":"2099-01-01T00:00:00Z"}`,
		`{"state":"resolved","assignee":"rita","notes":[{"text":"n"}],"outcome":"retracted","resolved_by":"platform","resolved_at":"2026-12-07T05:01:00Z"}`,
		`{"state":"claimed","assignee":"rita","notes":[{"text":"n"}]}`,
		`{"state":"new"}`,
		"false",
		"false",
	}; jsonOf(r.Retract) != jsonOf(want) {
		t.Errorf("retractions:\n%q\nwant\n%q", r.Retract, want)
	}
	if want := []string{"2026-12-07T13:00:00.000Z", "2026-12-14T12:00:00.000Z", "", "", "a snooze must end in the future",
		"a snooze may last 90 days at most", "a snooze may last 90 days at most", "pick a time to snooze until", "pick a time to snooze until"}; jsonOf(r.Snooze) != jsonOf(want) {
		t.Errorf("snooze:\n%q\nwant\n%q", r.Snooze, want)
	}
	// Trimmed and NFC ("sa\u0301m" is "sám"); refused: empty, too long,
	// invisible, bidi, control, filler; a Latin word with a Cyrillic letter
	// warns; a Cyrillic name and an OIDC user with a Cyrillic name do not.
	if want := []string{"sam", "sám", "error", "error", "error", "error", "error", "error", "warn", "сам", "oidc:https://id.example/иван", "Zoë"}; jsonOf(r.Assignee) != jsonOf(want) {
		t.Errorf("assignee:\n%q\nwant\n%q", r.Assignee, want)
	}
	// A bidi control stored before they were refused is shown as a
	// visible mark, so it reorders nothing; RTL text and its marks stay.
	if want := []string{"refund [U+202E]deined[U+202C] ok", "a[U+2067]b[U+2069]", "\u05e9\u05dc\u05d5\u05dd\u200f 42", "", ""}; jsonOf(r.Inert) != jsonOf(want) {
		t.Errorf("inert:\n%q\nwant\n%q", r.Inert, want)
	}
	// A post's text and author as the page shows them: each bidi control a
	// visible mark, the matched term still marked where its bytes are.
	if want := []string{"[acme] [U+202E]refund[U+202C] [U+2066]ok[U+2069]", "@b[U+202E]ob", "[U+202E]evil", "acme [U+202E]refund[U+202C] [U+2066]ok[U+2069]",
		"\u05e9\u05dc\u05d5\u05dd [acme]", "", ""}; jsonOf(r.Post) != jsonOf(want) {
		t.Errorf("post:\n%q\nwant\n%q", r.Post, want)
	}
	if want := []string{`desk a1 {"id":"a1"}`}; strings.Join(r.SSE, "|") != strings.Join(want, "|") || r.SSERest != "id: a2\nevent: alert\ndata: {\"id\"" {
		t.Errorf("parseSSE: %q rest %q", r.SSE, r.SSERest)
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
