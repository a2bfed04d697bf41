package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func deskOf(t *testing.T, r resp) Desk {
	t.Helper()
	var a Alert
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("%d %s: %v", r.code, r.body, err)
	}
	return a.Desk
}

// addResponder gives env a second EMEA responder, rosa.
func addResponder(t *testing.T, e *env) {
	t.Helper()
	_, secret, err := e.tokens.Create(NewToken{Name: "rosa", Role: Responder, Scope: Scope{Regions: []string{"EMEA"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tok["responder-emea2"] = secret
}

// TestDeskWorkflowOverTheAPI walks an alert through the desk: claims,
// conflicts, a reassignment, notes with a retried Idempotency-Key, a
// link, the resolve; each change is audited, the no-ops are not.
func TestDeskWorkflowOverTheAPI(t *testing.T) {
	e := newEnv(t)
	addResponder(t, e)
	const a1 = "/v1/queues/care-emea/alerts/a1/"
	must := func(r resp, code int, errCode string) resp {
		t.Helper()
		if r.code != code || (errCode != "" && r.errCode() != errCode) {
			t.Fatalf("got %d %s, want %d %s", r.code, r.body, code, errCode)
		}
		return r
	}
	d := deskOf(t, must(e.do("responder-emea", "POST", a1+"claim", ""), 200, ""))
	if d.State != StateClaimed || d.Assignee != "rita" || d.Events != 1 {
		t.Fatalf("claim: %+v", d)
	}
	if d := deskOf(t, must(e.do("responder-emea", "POST", a1+"claim", ""), 200, "")); d.Events != 1 {
		t.Fatalf("a repeated claim changed the desk: %+v", d)
	}
	must(e.do("responder-emea2", "POST", a1+"claim", ""), 409, CodeConflict)
	must(e.do("responder-emea2", "POST", a1+"assign", `{"assignee":"rosa"}`), 409, CodeConflict)
	must(e.do("responder-emea2", "POST", a1+"resolve", `{"outcome":"spam"}`), 409, CodeConflict)
	must(e.do("responder-emea2", "POST", a1+"unclaim", ""), 409, CodeConflict)
	// A coach may move it.
	if d := deskOf(t, must(e.do("coach", "POST", a1+"assign", `{"assignee":"rosa"}`), 200, "")); d.Assignee != "rosa" {
		t.Fatalf("assign: %+v", d)
	}
	note := `{"text":"asked for the order number"}`
	must(e.do("responder-emea2", "POST", a1+"notes", note, "Idempotency-Key", "n-1"), 200, "")
	d = deskOf(t, must(e.do("responder-emea2", "POST", a1+"notes", note, "Idempotency-Key", "n-1"), 200, ""))
	if len(d.Notes) != 1 || d.Notes[0].Author != "rosa" {
		t.Fatalf("retried note: %+v", d.Notes)
	}
	// The same key on another request is refused, not answered 200 and dropped.
	must(e.do("responder-emea2", "POST", a1+"notes", `{"text":"something else"}`, "Idempotency-Key", "n-1"), 409, CodeConflict)
	must(e.do("coach", "POST", a1+"resolve", `{"outcome":"spam"}`, "Idempotency-Key", "n-1"), 409, CodeConflict)
	must(e.do("responder-emea", "POST", a1+"notes", `{"text":"they replied"}`), 200, "") // anyone on the queue may note
	must(e.do("responder-emea2", "POST", a1+"links", `{"url":"javascript:alert(1)"}`), 400, CodeInvalid)
	must(e.do("responder-emea2", "POST", a1+"links", `{"url":"https://x.com/acme/status/9","title":"our reply"}`), 200, "")
	must(e.do("responder-emea2", "POST", a1+"snooze", `{"until":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`"}`), 400, CodeInvalid)
	must(e.do("responder-emea2", "POST", a1+"resolve", `{"outcome":"fixed"}`), 400, CodeInvalid)
	must(e.do("responder-emea2", "POST", a1+"resolve", `{"outcome":"replied"}`), 200, "")
	must(e.do("responder-emea2", "POST", a1+"resolve", `{"outcome":"replied"}`), 409, CodeConflict)
	must(e.do("responder-emea2", "POST", a1+"claim", ""), 409, CodeConflict)

	r := must(e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts", ""), 200, "")
	var page Page[Alert]
	json.Unmarshal(r.body, &page)
	var got Desk
	for _, a := range page.Items {
		if a.ID == "a1" {
			got = a.Desk
		}
	}
	if got.State != StateResolved || got.Outcome != "replied" || got.ResolvedBy != "rosa" || len(got.Notes) != 2 || len(got.Links) != 1 ||
		got.Notes[0].Text != "asked for the order number" || got.Notes[1].Author != "rita" {
		t.Fatalf("listed desk: %+v", got)
	}

	r = must(e.do("admin", "GET", "/v1/audit?object_type=alert&object_id=care-emea/a1", ""), 200, "")
	var audit Page[AuditRecord]
	json.Unmarshal(r.body, &audit)
	var actions []string
	for _, rec := range audit.Items {
		actions = append(actions, rec.Action+":"+rec.Actor)
	}
	// claim, assign, two notes, link, resolve: the no-ops and refusals are not in it.
	if len(actions) != 6 || !strings.Contains(strings.Join(actions, " "), "alert.claim:rita") || !strings.Contains(strings.Join(actions, " "), "alert.resolve:rosa") {
		t.Fatalf("audit: %v", actions)
	}
}

// TestDeskSecondTenant: a responder of another team (raj, apac-care)
// cannot see, claim, note or resolve an EMEA alert, by its queue or by
// naming it on their own queue; a viewer may not act at all.
func TestDeskSecondTenant(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/queues/care-emea/alerts", ""},
		{"POST", "/v1/queues/care-emea/alerts/a1/claim", ""},
		{"POST", "/v1/queues/care-emea/alerts/a1/notes", `{"text":"mine now"}`},
		{"POST", "/v1/queues/care-emea/alerts/a1/resolve", `{"outcome":"spam"}`},
		{"POST", "/v1/queues/care-emea/alerts/a1/assign", `{"assignee":"raj"}`},
		{"POST", "/v1/queues/care-apac/alerts/a1/claim", ""}, // a1 is not on raj's queue
		{"POST", "/v1/queues/care-apac/alerts/a1/notes", `{"text":"x"}`},
	} {
		if r := e.do("responder-apac", c.method, c.path, c.body); r.code != http.StatusNotFound || r.errCode() != CodeNotFound {
			t.Errorf("raj %s %s: %d %s", c.method, c.path, r.code, r.body)
		}
	}
	if r := e.do("viewer", "POST", "/v1/queues/care-emea/alerts/a1/claim", ""); r.code != 403 {
		t.Errorf("viewer claim: %d %s", r.code, r.body)
	}
	// raj's own queue works, and nothing of his reached a1.
	if r := e.do("responder-apac", "POST", "/v1/queues/care-apac/alerts/b1/claim", ""); r.code != 200 {
		t.Errorf("raj's own alert: %d %s", r.code, r.body)
	}
	r := e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/claim", "")
	if d := deskOf(t, r); d.Events != 1 || len(d.Notes) != 0 || d.Assignee != "rita" {
		t.Fatalf("a1 after raj: %+v", d)
	}
}

// TestDeskBadInput: the worst bodies are refused, never stored.
func TestDeskBadInput(t *testing.T) {
	e := newEnv(t)
	const a1 = "/v1/queues/care-emea/alerts/a1/"
	for name, c := range map[string]struct {
		path, body string
		hdr        []string
	}{
		"huge note":        {"notes", `{"text":"` + strings.Repeat("x", 2<<20) + `"}`, nil},
		"note over 4 KiB":  {"notes", `{"text":"` + strings.Repeat("é", 3000) + `"}`, nil},
		"unknown field":    {"claim", `{"who":"me"}`, nil},
		"deep nesting":     {"notes", strings.Repeat(`{"text":`, 10000), nil},
		"snooze a century": {"snooze", `{"until":"2126-01-01T00:00:00Z"}`, nil},
		"long key":         {"claim", "", []string{"Idempotency-Key", strings.Repeat("k", 200)}},
		"assign nobody":    {"assign", `{"assignee":""}`, nil},
		// Names that read as another's: "alert is claimed by rіta" is not
		// rita's (Cyrillic і, Cyrillic а, Greek ο).
		"look-alike i":       {"assign", `{"assignee":"r\u0456ta"}`, nil},
		"look-alike a":       {"assign", `{"assignee":"s\u0430m"}`, nil},
		"look-alike o":       {"assign", `{"assignee":"t\u03bfm"}`, nil},
		"look-alike in oidc": {"assign", `{"assignee":"oidc:https://idp.example.com/r\u0456ta"}`, nil},
		// A bidi override or isolate reorders what the next reader sees:
		// "refund \u202edenied\u202c" reads "refund deinED"... and worse.
		"note with RLO":       {"notes", `{"text":"refund \u202edeined\u202c ok"}`, nil},
		"note with LRE":       {"notes", `{"text":"a\u202ab"}`, nil},
		"note with isolate":   {"notes", `{"text":"a\u2067b\u2069"}`, nil},
		"note with PDF only":  {"notes", `{"text":"ab\u202c"}`, nil},
		"link title with RLO": {"links", `{"url":"https://example.com/x","title":"ticket \u202e4321"}`, nil},
	} {
		r := e.do("responder-emea", "POST", a1+c.path, c.body, c.hdr...)
		if r.code < 400 || r.code >= 500 {
			t.Errorf("%s: %d %s", name, r.code, r.body)
		}
	}
	a, _, _ := e.alerts.List(t.Context(), "care-emea", 0, 10)
	for _, x := range a {
		if x.Desk.Events != 0 {
			t.Fatalf("bad input stored: %+v", x.Desk)
		}
	}
	// Right-to-left text needs no override, and keeps its marks.
	for _, text := range []string{"שלום 42", "مرحبا‏!", "a‎b"} {
		if r := e.do("responder-emea", "POST", a1+"notes", `{"text":"`+text+`"}`); r.code != 200 {
			t.Errorf("note %q: %d %s", text, r.code, r.body)
		}
	}
	// A name in one script per word is a name.
	for _, name := range []string{"Ирина", "Ирина Smith", "Νίκος", "jos\u00e9", "oidc:https://idp.example.com/rita"} {
		if r := e.do("coach", "POST", a1+"assign", `{"assignee":"`+name+`"}`); r.code != 200 {
			t.Errorf("assign %q: %d %s", name, r.code, r.body)
		}
	}
}

// TestDeskChangesOnTheLiveFeed: a desk change goes out on the queue's
// live feed as a `desk` event (an `alert` event stays a new alert, so the
// feed's existing readers do not see an update as a second alert); a
// no-op sends nothing.
func TestDeskChangesOnTheLiveFeed(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.ts.URL+"/v1/queues/care-emea/stream", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok["responder-emea"])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := e.ts.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for e.hub.Subscribers() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/claim", "")
	e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/claim", "") // a no-op
	e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/notes", `{"text":"x"}`)
	sc := bufio.NewScanner(res.Body)
	var got []string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "event: ") || strings.HasPrefix(line, "data: ") && strings.Contains(line, `"events"`) {
			if strings.HasPrefix(line, "data: ") {
				line = deskOf(t, resp{body: []byte(strings.TrimPrefix(line, "data: "))}).State
			}
			got = append(got, line)
		}
		if len(got) == 4 {
			break
		}
	}
	if !slices.Equal(got, []string{"event: desk", "claimed", "event: desk", "claimed"}) {
		t.Fatalf("feed: %v", got)
	}
}

// A desk resolve is passed to OnResolve (the notification channels), again
// on a retry with the same Idempotency-Key; when it fails, the resolve
// stays recorded and the answer is 503, for the client to retry.
func TestDeskResolveReachesOnResolve(t *testing.T) {
	var got []Alert
	fail := true
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.OnResolve = func(_ context.Context, a Alert) error {
			got = append(got, a)
			if fail {
				return context.DeadlineExceeded
			}
			return nil
		}
	})
	const a1 = "/v1/queues/care-emea/alerts/a1/"
	if r := e.do("responder-emea", "POST", a1+"claim", ""); r.code != 200 || len(got) != 0 {
		t.Fatalf("claim: %d, told %d", r.code, len(got))
	}
	r := e.do("responder-emea", "POST", a1+"resolve", `{"outcome":"replied"}`, "Idempotency-Key", "r-1")
	if r.code != http.StatusServiceUnavailable || r.errCode() != CodeUnavailable || len(got) != 1 {
		t.Fatalf("failing channels: %d %s, told %d", r.code, r.body, len(got))
	}
	fail = false
	r = e.do("responder-emea", "POST", a1+"resolve", `{"outcome":"replied"}`, "Idempotency-Key", "r-1")
	if r.code != 200 || len(got) != 2 || got[1].ID != "a1" || got[1].Queue != "care-emea" || got[1].Desk.State != StateResolved || got[1].Desk.Outcome != "replied" || got[1].Desk.ResolvedBy != "rita" {
		t.Fatalf("retry: %d %s, told %+v", r.code, r.body, got)
	}
	if d := deskOf(t, r); d.Events != 2 {
		t.Errorf("the retry recorded the resolve twice: %+v", d)
	}
}

// A resolve sent without an Idempotency-Key that the channels could not be
// told of must still be retryable: the 503 names the key the server gave
// it (the Idempotency-Key header), and a retry with that key tells the
// channels, once they can hear it. Without it the only retry was a second
// resolve, a 409, and the PagerDuty incident stayed open.
func TestDeskResolveWithoutKeyCanBeRetriedAfter503(t *testing.T) {
	var got []Alert
	fail := true
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.OnResolve = func(_ context.Context, a Alert) error {
			got = append(got, a)
			if fail {
				return context.DeadlineExceeded
			}
			return nil
		}
	})
	const a1 = "/v1/queues/care-emea/alerts/a1/"
	r := e.do("responder-emea", "POST", a1+"resolve", `{"outcome":"replied"}`)
	if r.code != http.StatusServiceUnavailable || len(got) != 1 {
		t.Fatalf("failing channels: %d %s, told %d", r.code, r.body, len(got))
	}
	key := r.hdr.Get("Idempotency-Key")
	if key == "" || !strings.Contains(string(r.body), key) {
		t.Fatalf("the 503 names no key to retry with: header %q, body %s", key, r.body)
	}
	fail = false
	r = e.do("responder-emea", "POST", a1+"resolve", `{"outcome":"replied"}`, "Idempotency-Key", key)
	if r.code != 200 || len(got) != 2 || got[1].Desk.State != StateResolved {
		t.Fatalf("retry with the key given: %d %s, told %d", r.code, r.body, len(got))
	}
	if d := deskOf(t, r); d.Events != 1 {
		t.Errorf("the retry recorded the resolve twice: %+v", d)
	}
}

// GET /v1/whoami says what the caller's role may do, so that the desk
// page offers a responder no takeover of someone else's alert (only a
// coach or an admin has alerts.reassign).
func TestWhoamiSaysWhatTheRoleMay(t *testing.T) {
	e := newEnv(t)
	for tok, want := range map[string]struct{ desk, reassign bool }{
		"responder-emea": {true, false},
		"coach":          {true, true},
		"viewer":         {false, false},
	} {
		r := e.do(tok, "GET", "/v1/whoami", "")
		var who struct {
			Name string
			Can  []Action
		}
		if err := json.Unmarshal(r.body, &who); err != nil || r.code != 200 || who.Name == "" {
			t.Fatalf("%s: %d %s %v", tok, r.code, r.body, err)
		}
		if slices.Contains(who.Can, DeskAlerts) != want.desk || slices.Contains(who.Can, ReassignAlerts) != want.reassign || !slices.IsSorted(who.Can) {
			t.Errorf("%s may %v", tok, who.Can)
		}
	}
}
