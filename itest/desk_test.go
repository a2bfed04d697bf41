//go:build integration

package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// deskAlert is what the test reads of an alert from the API.
type deskAlert struct {
	ID, Queue string
	Desk      struct {
		State, Assignee, Outcome string
		SnoozedUntil             time.Time `json:"snoozed_until"`
		Notes                    []struct{ Author, Text string }
	}
	Item struct {
		Post struct {
			Text   string
			Author struct{ Handle string }
		}
	}
}

// browser is one headless Chromium of the test, with its own profile.
type browser struct {
	t       *testing.T
	name    string
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string // JavaScript dialogs the page opened: none may open
}

func newBrowser(t *testing.T, parent context.Context, chromium, name string) *browser {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, name: name, ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.mu.Lock()
			b.dialogs = append(b.dialogs, d.Message)
			b.mu.Unlock()
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatalf("%s: starting chromium: %v", name, err)
	}
	return b
}

// click clicks the element of a CSS selector. The list is redrawn when a
// live event arrives; a redraw between finding the node and clicking it
// is tried again.
func (b *browser) click(what, sel string) {
	b.t.Helper()
	var err error
	for range 5 {
		if err = chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))); err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
	}
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// do runs steps, failing the test with what was being done.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// wait polls a JavaScript predicate for up to 20 s.
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		var state string
		state, _ = chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.dataset.state + " live=" + document.body.dataset.live + " status=" + (document.getElementById("status")||{}).textContent + " count=" + (document.getElementById("count")||{}).textContent`))
		b.t.Fatalf("%s: waiting for %s: %v (page: %s)", b.name, what, err, state)
	}
}

func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, expr, err)
	}
	return v
}

// TestDeskInChromium works the desk page in headless Chromium as
// responders would, against `earshot api` on the real ClickHouse (the
// pipeline stores the alerts; the desk's events go to alert_events): one
// responder claims an alert, adds a note and resolves it with keys; a
// second responder's page, served by a second API replica, sees the claim
// live, without a reload; a
// responder of another team sees none of these alerts; a post, a handle
// and a note carrying HTML show as text and run nothing; a very long post
// does not widen the page. The state is checked through the API and in
// ClickHouse too. With EARSHOT_UPDATE_SCREENSHOT=1 it refreshes
// docs/desk.png.
func TestDeskInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make integration installs it: deploy/local/chromium.sh)")
	}
	prefix, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	const hostile = `<img src=x onerror="alert('xss');window.__pwned=1"> my acme phone is broken again, worst support ever`
	const hostileHandle = `<script>window.__pwned=2</script>`
	longPost := "acme support is awful, broken " + strings.Repeat("A", 20000)
	now := time.Now().UTC()
	posts := []struct{ id, handle, text string }{
		{"k1", "maria", "still waiting for a refund from Acme, terrible service"},
		{"k2", "jon", "my Acme phone is broken again, worst experience ever"},
		{"k3", "lee", "Acme support never answers, awful"},
		{"k4", hostileHandle, hostile},
		{"k5", "longwinded", longPost},
		{"k6", "counsel", "our lawyers are looking at Acme, lawsuit coming"}, // legal's
	}
	var body strings.Builder
	for i, p := range posts {
		line, _ := json.Marshal(map[string]any{"platform": "file", "id": p.id, "text": p.text, "created_at": now.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339),
			"author": map[string]any{"handle": p.handle, "location": "Athens", "followers": 100}})
		body.Write(append(line, '\n'))
	}
	file := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(file, []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runFileIntoClickHouse(t, ctx, file, db, true)
	conn := openCH(t)
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)

	// `earshot api` alone on that database, with the organisation (who
	// works which queue).
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := writeConfig(t, setup{prefix: prefix, db: db, rate: 1, limit: 1})
	raw, _ := os.ReadFile(cfgPath)
	cfg := strings.Replace(string(raw), "route:\n", "route:\n  org: "+filepath.Join(root, "deploy/examples/org.yaml")+"\n", 1)
	stateDir := t.TempDir()
	cfg += fmt.Sprintf("api:\n  addr: %s\n  state_dir: %s\n", addr, stateDir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// A second replica on the same database and tokens: sam's page is
	// served by it, so every change the others make reaches sam through
	// ClickHouse (api.DeskFeed), and sam's through it to them.
	ln, _ = net.Listen("tcp", "127.0.0.1:0")
	addr2 := ln.Addr().String()
	ln.Close()
	cfgPath2 := filepath.Join(t.TempDir(), "earshot2.yaml")
	cfg2 := strings.Replace(cfg, fmt.Sprintf("api:\n  addr: %s\n  state_dir: %s\n", addr, stateDir),
		fmt.Sprintf("api:\n  addr: %s\n  state_dir: %s\n  tokens_file: %s\n", addr2, t.TempDir(), filepath.Join(stateDir, "tokens.json")), 1)
	if err := os.WriteFile(cfgPath2, []byte(cfg2), 0o644); err != nil {
		t.Fatal(err)
	}
	token := func(name, teams string) string {
		out, err := exec.Command(bin, "token", "create", "--config", cfgPath, "--by", "itest", "--name", name, "--role", "responder", "--teams", teams).Output()
		if err != nil {
			t.Fatalf("token %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	// The care teams (care-emea owns the example acme watchlist, so that
	// its matches show).
	const careTeams = "care-emea,care-na,care-apac,care-oncall"
	nikos, sam, sofia := token("nikos", careTeams), token("sam", careTeams), token("sofia", "legal")
	out, err := exec.Command(bin, "token", "create", "--config", cfgPath, "--by", "itest", "--name", "eleni", "--role", "coach").Output()
	if err != nil {
		t.Fatal(err)
	}
	eleni := strings.TrimSpace(string(out)) // a coach of the whole organisation
	apiProc := exec.Command(bin, "api", "--config", cfgPath)
	var stderr syncBuffer
	apiProc.Stderr = &stderr
	if err := apiProc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		apiProc.Process.Kill()
		apiProc.Wait()
		if t.Failed() {
			t.Logf("earshot api stderr:\n%s", tail(stderr.String(), 3000))
		}
	}()
	apiProc2 := exec.Command(bin, "api", "--config", cfgPath2)
	var stderr2 syncBuffer
	apiProc2.Stderr = &stderr2
	if err := apiProc2.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		apiProc2.Process.Kill()
		apiProc2.Wait()
		if t.Failed() {
			t.Logf("the second earshot api's stderr:\n%s", tail(stderr2.String(), 3000))
		}
	}()
	call := func(tok, method, path, body string, out any) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if out != nil && res.StatusCode == 200 {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v: %.300s", method, path, err, b)
			}
		}
		return res.StatusCode
	}
	for _, ad := range []string{addr, addr2} {
		eventually(t, 30*time.Second, "the API to serve the desk", func() bool {
			res, err := http.Get("http://" + ad + "/ui/desk")
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == 200
		})
	}

	// What the API holds: the care alerts (nikos) and legal's (sofia).
	alertsOf := func(tok string) map[string]deskAlert {
		var qs struct{ Items []struct{ Name string } }
		if code := call(tok, "GET", "/v1/queues", "", &qs); code != 200 {
			t.Fatalf("queues: %d", code)
		}
		out := map[string]deskAlert{}
		for _, q := range qs.Items {
			var p struct{ Items []deskAlert }
			if code := call(tok, "GET", "/v1/queues/"+q.Name+"/alerts?limit=500", "", &p); code != 200 {
				t.Fatalf("alerts of %s: %d", q.Name, code)
			}
			for _, a := range p.Items {
				out[a.ID] = a
			}
		}
		return out
	}
	care, legal := alertsOf(nikos), alertsOf(sofia)
	find := func(text string) deskAlert {
		for _, a := range care {
			if a.Item.Post.Text == text {
				return a
			}
		}
		t.Fatalf("no care alert of %.60q among %d", text, len(care))
		return deskAlert{}
	}
	target, evil, long := find(posts[0].text), find(hostile), find(longPost)
	if evil.Item.Post.Author.Handle != hostileHandle {
		t.Fatalf("the hostile handle was not kept: %q", evil.Item.Post.Author.Handle)
	}
	if len(legal) == 0 {
		t.Fatal("legal has no alert: the other team's page would show nothing either way")
	}
	for id := range legal {
		if _, ok := care[id]; ok {
			t.Fatalf("alert %s is both care's and legal's", id)
		}
	}

	url, url2 := "http://"+addr+"/ui/desk", "http://"+addr2+"/ui/desk"
	a := newBrowser(t, ctx, chromium, "nikos")
	b := newBrowser(t, ctx, chromium, "sam")
	c := newBrowser(t, ctx, chromium, "sofia")
	const ready = `document.body.dataset.state === "ready" && document.body.dataset.live === "on"`
	a.do("open the desk", chromedp.Navigate(url+"#token="+nikos))
	b.do("open the desk", chromedp.Navigate(url2+"#token="+sam))
	c.do("open the desk", chromedp.Navigate(url+"#token="+sofia))
	a.wait("the desk to load and go live", ready)
	b.wait("the desk to load and go live", ready)
	c.wait("the desk to load and go live", ready)
	if loc := evalJS[string](a, "location.href"); strings.Contains(loc, "es_") {
		t.Errorf("the token stayed in the address bar: %s", loc)
	}

	// Every open care alert is on nikos's page; none on sofia's.
	shown := func(br *browser) []string {
		return evalJS[[]string](br, `[...document.querySelectorAll("#list li")].map(li => li.dataset.id)`)
	}
	var careIDs []string
	for id := range care {
		careIDs = append(careIDs, id)
	}
	slices.Sort(careIDs)
	if got := shown(a); !slices.Equal(slices.Sorted(slices.Values(got)), careIDs) {
		t.Errorf("nikos's page shows %v, want the care alerts %v", got, careIDs)
	}
	for _, id := range shown(c) {
		if _, ok := care[id]; ok {
			t.Errorf("sofia (legal) sees care's alert %s", id)
		}
		if _, ok := legal[id]; !ok {
			t.Errorf("sofia's page shows %s, not one of legal's", id)
		}
	}
	if len(shown(c)) == 0 {
		t.Error("sofia's page shows none of legal's alerts")
	}
	evalJS[bool](b, `window.__notReloaded = true`)

	// nikos claims the target with "c".
	sel := fmt.Sprintf(`li[data-id=%q]`, target.ID)
	a.click("select the alert", sel)
	a.wait("the alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, target.ID))
	a.do("press c", chromedp.KeyEvent("c"))
	a.wait("the claim", `document.getElementById("alert").dataset.state === "claimed" && document.getElementById("alert").dataset.assignee === "nikos"`)

	// sam's page sees it live.
	b.wait("nikos's claim to appear live", fmt.Sprintf(`(e => e && e.dataset.state === "claimed" && e.dataset.assignee === "nikos")(document.querySelector(%q))`, sel))
	if !evalJS[bool](b, `window.__notReloaded === true`) {
		t.Error("sam's page was reloaded")
	}
	// sam may not take it (409, shown on the page).
	b.click("select the alert", sel)
	b.do("press c", chromedp.KeyEvent("c"))
	b.wait("the refusal", `/claimed by nikos/.test(document.getElementById("status").textContent)`)

	// A note with HTML in it, by keys: e, type, Ctrl+Enter.
	const note = `<b onmouseover=alert(1)>called</b> the customer <script>window.__pwned=3</script>, asked for the order number`
	a.do("write a note", chromedp.KeyEvent("e"), chromedp.KeyEvent(note), chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	a.wait("the note in the thread", `document.querySelectorAll("#a-notes .body").length === 1`)
	if got := evalJS[string](a, `document.querySelector("#a-notes .body").textContent`); got != note {
		t.Errorf("the note shows as %q, want %q", got, note)
	}
	if n := evalJS[int](a, `document.querySelectorAll("#a-notes .body *").length`); n != 0 {
		t.Errorf("the note's HTML became %d elements", n)
	}
	// Resolve: r, then 1 (replied).
	a.do("blur the note box", chromedp.Blur(chromedp.CSS("#note")))
	a.do("press r then 1", chromedp.KeyEvent("r"), chromedp.KeyEvent("1"))
	a.wait("the resolve", `document.getElementById("alert").dataset.state === "resolved" && document.querySelector("#a-head .outcome").textContent === "replied"`)
	b.wait("the resolved alert to leave sam's open list", fmt.Sprintf(`(e => e && e.dataset.state === "resolved")(document.querySelector(%q)) || !document.querySelector(%q)`, sel, sel))

	// The hostile post, handle and note are text.
	a.click("select the hostile alert", fmt.Sprintf(`li[data-id=%q]`, evil.ID))
	a.wait("the hostile alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, evil.ID))
	if got := evalJS[string](a, `document.querySelector("#a-post .text").textContent`); got != hostile {
		t.Errorf("the post shows as %q, want its text %q", got, hostile)
	}
	if got := evalJS[string](a, `document.querySelector("#a-post .handle").textContent`); got != "@"+hostileHandle {
		t.Errorf("the handle shows as %q", got)
	}
	if n := evalJS[int](a, `document.querySelectorAll("img, script:not([src]), #a-post .text *:not(mark)").length`); n != 0 {
		t.Errorf("%d elements made of user data", n)
	}
	// A link: http(s) only, shown as a link.
	a.do("add a link", chromedp.SendKeys(chromedp.CSS("#link-url"), "https://x.example/acme/status/1"),
		chromedp.SendKeys(chromedp.CSS("#link-title"), "<i>our reply</i>"), chromedp.Click(chromedp.CSS("#linkform button")))
	a.wait("the link", `(l => l && l.getAttribute("href") === "https://x.example/acme/status/1" && l.textContent === "<i>our reply</i>")(document.querySelector("#a-links a"))`)

	// A very long post does not widen the page.
	a.click("select the long post", fmt.Sprintf(`li[data-id=%q]`, long.ID))
	a.wait("the long post to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, long.ID))
	if w := evalJS[[]int](a, `[document.documentElement.scrollWidth, window.innerWidth, document.getElementById("detail").scrollWidth, document.getElementById("detail").clientWidth]`); w[0] > w[1] || w[2] > w[3] {
		t.Errorf("a long post widens the page: page %d of %d, detail %d of %d", w[0], w[1], w[2], w[3])
	}

	for _, br := range []*browser{a, b, c} {
		if p := evalJS[any](br, `window.__pwned`); p != nil {
			t.Errorf("%s: injected script ran (__pwned = %v)", br.name, p)
		}
		br.mu.Lock()
		if len(br.dialogs) > 0 {
			t.Errorf("%s: the page opened dialogs %q", br.name, br.dialogs)
		}
		br.mu.Unlock()
	}

	// Through the API and in ClickHouse: the events are stored, not only
	// on the pages.
	var got deskAlert
	if code := call(sam, "GET", "/v1/queues/"+target.Queue+"/alerts/"+target.ID, "", &got); code != 200 {
		t.Fatalf("GET the alert: %d", code)
	}
	if got.Desk.State != "resolved" || got.Desk.Outcome != "replied" || got.Desk.Assignee != "nikos" || len(got.Desk.Notes) != 1 || got.Desk.Notes[0].Text != note || got.Desk.Notes[0].Author != "nikos" {
		t.Errorf("the API has %+v", got.Desk)
	}
	if code := call(sofia, "GET", "/v1/queues/"+target.Queue+"/alerts/"+target.ID, "", nil); code != 404 {
		t.Errorf("legal reads care's alert: %d", code)
	}
	var events []string
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT event, actor FROM %s.alert_events WHERE alert_id = '%s' AND event LIKE 'desk.%%' ORDER BY at, seq", db, target.ID))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ev, actor string
		rows.Scan(&ev, &actor)
		events = append(events, strings.SplitN(ev, ":", 2)[0]+" "+actor)
	}
	rows.Close()
	if want := []string{"desk.claim nikos", "desk.note nikos", "desk.resolve nikos"}; !slices.Equal(events, want) {
		t.Errorf("alert_events has %v, want %v", events, want)
	}

	// A notification's link, /ui/desk?alert=ID, opens that alert (here a
	// resolved one: the state filter opens up to show it); for another
	// team it is not there.
	b.do("open a notification's link", chromedp.Navigate(url2+"?alert="+target.ID))
	b.wait("the linked alert", fmt.Sprintf(`document.body.dataset.state === "ready" && document.getElementById("alert").dataset.id === %q && document.getElementById("alert").dataset.state === "resolved"`, target.ID))
	c.do("open a notification's link", chromedp.Navigate(url+"?alert="+target.ID))
	c.wait("the refusal of another team's alert", `document.body.dataset.state === "ready" && /not on a queue you may see/.test(document.getElementById("status").textContent) && (document.getElementById("alert").hidden ? /not on a queue/.test(document.getElementById("nothing").textContent) : true)`)
	if id := evalJS[string](c, `document.getElementById("alert").dataset.id || ""`); id == target.ID {
		t.Error("sofia's page opened care's alert from a link")
	}

	// Assign and snooze. nikos, a responder, assigns lee's alert (nobody
	// holds it) to sam by keys: a, the name, Enter; sam's page sees it live.
	third := find(posts[2].text)
	thirdSel := fmt.Sprintf(`li[data-id=%q]`, third.ID)
	b.wait("sam's desk, live again", ready)
	a.click("select lee's alert", thirdSel)
	a.wait("lee's alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, third.ID))
	a.do("press a", chromedp.KeyEvent("a"))
	a.wait("the name field", `document.activeElement && document.activeElement.id === "assignee"`)
	a.do("type sam, Enter", chromedp.KeyEvent("sam"), chromedp.KeyEvent("\r"))
	a.wait("the assignment", `document.getElementById("alert").dataset.state === "claimed" && document.getElementById("alert").dataset.assignee === "sam"`)
	b.wait("the assignment to sam, live", fmt.Sprintf(`(e => e && e.dataset.assignee === "sam")(document.querySelector(%q))`, thirdSel))
	// It is sam's now: nikos, without alerts.reassign, may not move or
	// snooze it. The buttons are disabled with the reason, their keys
	// refused with it; the API refuses the request (409).
	if !evalJS[bool](a, `document.querySelector('#a-actions [data-act="assign"]').disabled && document.querySelector('#a-actions [data-act="snooze"]').disabled`) {
		t.Error("nikos is offered to move or snooze sam's alert")
	}
	a.do("press a", chromedp.KeyEvent("a"))
	a.wait("the refusal", `/held by sam: moving it needs the alerts.reassign permission/.test(document.getElementById("status").textContent) && document.getElementById("assignform").hidden`)
	if code := call(nikos, "POST", "/v1/queues/"+third.Queue+"/alerts/"+third.ID+"/assign", `{"assignee":"nikos"}`, nil); code != 409 {
		t.Errorf("nikos moves sam's alert through the API: %d, want 409", code)
	}
	// sam snoozes it: s, then 2 (four hours).
	b.click("select lee's alert", thirdSel)
	b.wait("lee's alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, third.ID))
	b.do("press s then 2", chromedp.KeyEvent("s"), chromedp.KeyEvent("2"))
	b.wait("the snooze", `(u => u && Math.abs(Date.parse(u) - Date.now() - 4 * 3600e3) < 120e3)(document.getElementById("alert").dataset.snoozedUntil) && !!document.querySelector("#a-head .snoozed")`)
	b.wait("the snoozed row", fmt.Sprintf(`/snoozed/.test(document.querySelector(%q).textContent)`, thirdSel))
	// A snooze to the year 9999, or into the past, is refused on the page
	// before any request, and by the API (400).
	b.do("press s", chromedp.KeyEvent("s"))
	for until, why := range map[string]string{"9999-12-31T23:59": "90 days at most", "2020-01-01T00:00": "end in the future"} {
		evalJS[bool](b, fmt.Sprintf(`document.getElementById("snooze-until").value = %q, true`, until))
		b.click("snooze until "+until, `#snoozes [data-snooze="at"]`)
		b.wait("the refusal of "+until, fmt.Sprintf(`document.getElementById("status").textContent.includes(%q)`, why))
	}
	b.do("press Esc", chromedp.KeyEvent(kb.Escape))
	for _, until := range []string{"9999-12-31T23:59:59Z", "2020-01-01T00:00:00Z"} {
		if code := call(sam, "POST", "/v1/queues/"+third.Queue+"/alerts/"+third.ID+"/snooze", `{"until":"`+until+`"}`, nil); code != 400 {
			t.Errorf("a snooze until %s: %d, want 400", until, code)
		}
	}
	// A look-alike of a name (a Cyrillic "а" in "sam") is asked again; an
	// invisible character is refused before any request.
	a.click("select the long post", fmt.Sprintf(`li[data-id=%q]`, long.ID))
	a.wait("the long post to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, long.ID))
	a.do("press a", chromedp.KeyEvent("a"))
	a.wait("the name field", `document.activeElement && document.activeElement.id === "assignee"`)
	evalJS[bool](a, `document.getElementById("assignee").value = "s\u0430m", document.getElementById("assignform").requestSubmit(), true`)
	a.wait("the look-alike warning", `/mixes Latin with Cyrillic/.test(document.getElementById("status").textContent)`)
	evalJS[bool](a, `document.getElementById("assignee").value = "sa\u200bm", document.getElementById("assignform").requestSubmit(), true`)
	a.wait("the refusal of an invisible character", `/invisible character/.test(document.getElementById("status").textContent)`)
	a.do("press Esc", chromedp.KeyEvent(kb.Escape))
	var longNow deskAlert
	if code := call(nikos, "GET", "/v1/queues/"+long.Queue+"/alerts/"+long.ID, "", &longNow); code != 200 || longNow.Desk.State != "new" || longNow.Desk.Assignee != "" {
		t.Errorf("the look-alike or invisible name reached the API: %d %+v", code, longNow.Desk)
	}
	// Another team may neither assign nor snooze care's alert: 404, as for
	// every other action on it.
	for seg, body := range map[string]string{"assign": `{"assignee":"sofia"}`, "snooze": `{"until":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`} {
		if code := call(sofia, "POST", "/v1/queues/"+third.Queue+"/alerts/"+third.ID+"/"+seg, body, nil); code != 404 {
			t.Errorf("legal's %s of care's alert: %d, want 404", seg, code)
		}
	}
	var thirdNow deskAlert
	if code := call(sam, "GET", "/v1/queues/"+third.Queue+"/alerts/"+third.ID, "", &thirdNow); code != 200 || thirdNow.Desk.State != "claimed" || thirdNow.Desk.Assignee != "sam" ||
		thirdNow.Desk.SnoozedUntil.Sub(time.Now().Add(4*time.Hour)).Abs() > 2*time.Minute {
		t.Errorf("the API has %d %+v, want claimed by sam, snoozed for four hours", code, thirdNow.Desk)
	}

	// The coaching staff, organisation-wide, sees every queue and the
	// matched terms marked (a team-scoped caller is shown only the
	// matches of watchlists it may read; without a watchlist store, as
	// here, none). The third browser signs in as eleni.
	c.do("open the desk as eleni", chromedp.Navigate(url+"#token="+eleni), chromedp.Reload())
	c.wait("eleni's desk", ready+` && document.getElementById("who").textContent.startsWith("eleni")`)
	coach := shown(c)
	for id := range care {
		if id != target.ID && !slices.Contains(coach, id) { // the target is resolved: not on the open list
			t.Errorf("the coach does not see care's alert %s", id)
		}
	}
	for id := range legal {
		if !slices.Contains(coach, id) {
			t.Errorf("the coach does not see legal's alert %s", id)
		}
	}
	c.click("select the hostile alert", fmt.Sprintf(`li[data-id=%q]`, evil.ID))
	c.wait("the hostile alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, evil.ID))
	if marks := evalJS[[]string](c, `[...document.querySelectorAll("#a-post mark")].map(m => m.textContent.toLowerCase())`); !slices.ContainsFunc(marks, func(m string) bool { return strings.Contains(m, "acme") }) {
		t.Errorf("the matched term is not marked: %v", marks)
	}
	if got := evalJS[string](c, `document.querySelector("#a-post .text").textContent`); got != hostile {
		t.Errorf("the marked post shows as %q", got)
	}
	// A coach (alerts.reassign) moves sam's alert to nikos with the button.
	c.click("select lee's alert", thirdSel)
	c.wait("lee's alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q && document.getElementById("alert").dataset.assignee === "sam"`, third.ID))
	c.click("the assign button", `#a-actions [data-act="assign"]`)
	c.do("type nikos, Enter", chromedp.SendKeys(chromedp.CSS("#assignee"), "nikos\r"))
	c.wait("the coach's move", `document.getElementById("alert").dataset.assignee === "nikos"`)
	a.wait("the move to nikos, live", fmt.Sprintf(`(e => e && e.dataset.assignee === "nikos")(document.querySelector(%q))`, thirdSel))
	events = nil
	rows, err = conn.Query(ctx, fmt.Sprintf("SELECT event, actor, assignee FROM %s.alert_events WHERE alert_id = '%s' AND event LIKE 'desk.%%' ORDER BY at, seq", db, third.ID))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ev, actor, assignee string
		rows.Scan(&ev, &actor, &assignee)
		events = append(events, strings.SplitN(ev, ":", 2)[0]+" "+actor+" "+assignee)
	}
	rows.Close()
	if want := []string{"desk.assign nikos sam", "desk.snooze sam ", "desk.assign eleni nikos"}; !slices.Equal(events, want) {
		t.Errorf("alert_events of lee's alert has %q, want %q", events, want)
	}

	// The screenshot: sam works an alert, eleni looks at another.
	other := find(posts[1].text)
	b.click("select another alert", fmt.Sprintf(`li[data-id=%q]`, other.ID))
	b.wait("the other alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, other.ID))
	b.do("press c", chromedp.KeyEvent("c"))
	b.wait("sam's claim", `document.getElementById("alert").dataset.state === "claimed"`)
	c.wait("sam's claim, live", fmt.Sprintf(`(e => e && e.dataset.assignee === "sam")(document.querySelector(%q))`, fmt.Sprintf(`li[data-id=%q]`, other.ID)))
	if code := call(sam, "POST", "/v1/queues/"+other.Queue+"/alerts/"+other.ID+"/notes", `{"text":"Asked for the order number in a DM; they replied within minutes."}`, nil); code != 200 {
		t.Fatalf("note: %d", code)
	}
	c.wait("sam's note, live", fmt.Sprintf(`(e => e && e.dataset.notes === "1")(document.querySelector(%q))`, fmt.Sprintf(`li[data-id=%q]`, other.ID)))
	c.click("select sam's alert", fmt.Sprintf(`li[data-id=%q]`, other.ID))
	c.wait("sam's alert to open", fmt.Sprintf(`document.getElementById("alert").dataset.id === %q`, other.ID))
	c.wait("sam's note", `document.querySelectorAll("#a-notes .body").length === 1`)
	c.do("settle", chromedp.Sleep(1600*time.Millisecond)) // the highlight of the live change fades
	shot, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
	if err != nil || len(shot) < 10_000 {
		t.Fatalf("screenshot: %v (%d bytes)", err, len(shot))
	}
	if os.Getenv("EARSHOT_UPDATE_SCREENSHOT") != "" {
		if err := os.WriteFile(filepath.Join(root, "docs/desk.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
