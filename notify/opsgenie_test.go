package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// opsgenieServer is a local Opsgenie Alert API v2 that checks each request
// against the published API (https://docs.opsgenie.com/docs/alert-api):
// POST /v2/alerts to create, POST /v2/alerts/{alias}/close?identifierType=alias
// to close, "Authorization: GenieKey <key>", the documented fields only,
// within their limits. It answers 202 as Opsgenie does, or 422 with the
// problem.
type opsgenieServer struct {
	*httptest.Server
	key     string
	mu      sync.Mutex
	creates []ogCreate
	closes  []string // aliases
	status  int      // answered to a valid request; 202 when 0
	bad     []string
}

func newOpsgenie(t *testing.T, key string) *opsgenieServer {
	s := &opsgenieServer{key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, b := range s.bad {
			t.Errorf("opsgenie: %s", b)
		}
	})
	return s
}

func (s *opsgenieServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(code int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.bad = append(s.bad, msg)
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"message": msg, "took": 0.001, "requestId": "x"})
	}
	if r.Header.Get("Authorization") != "GenieKey "+s.key {
		fail(http.StatusUnauthorized, "Authorization %q", r.Header.Get("Authorization"))
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail(http.StatusBadRequest, "%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // the documented fields only
	switch {
	case r.URL.Path == "/v2/alerts":
		var c ogCreate
		if err := dec.Decode(&c); err != nil {
			fail(http.StatusUnprocessableEntity, "create body: %v", err)
			return
		}
		var raw map[string]any
		json.Unmarshal(body, &raw)
		if d, ok := raw["details"]; ok {
			for k, v := range d.(map[string]any) {
				if _, ok := v.(string); !ok {
					fail(http.StatusUnprocessableEntity, "details.%s is not a string", k)
					return
				}
			}
		}
		detailChars := 0
		for k, v := range c.Details {
			detailChars += utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
		}
		var problems []string
		check := func(ok bool, what string) {
			if !ok {
				problems = append(problems, what)
			}
		}
		check(c.Message != "" && utf8.RuneCountInString(c.Message) <= 130, "message empty or over 130 characters")
		check(utf8.RuneCountInString(c.Alias) <= 512, "alias over 512 characters")
		check(utf8.RuneCountInString(c.Description) <= 15000, "description over 15000 characters")
		check(len(c.Tags) <= 20, "over 20 tags")
		for _, tag := range c.Tags {
			check(tag != "" && utf8.RuneCountInString(tag) <= 50 && !strings.ContainsAny(tag, " ,"), "tag "+tag)
		}
		check(detailChars <= 8000, "details over 8000 characters")
		check(utf8.RuneCountInString(c.Entity) <= 512, "entity over 512 characters")
		check(utf8.RuneCountInString(c.Source) <= 100, "source over 100 characters")
		check(c.Priority == "" || strings.Contains("P1 P2 P3 P4 P5", c.Priority) && len(c.Priority) == 2, "priority "+c.Priority)
		check(utf8.ValidString(string(body)), "invalid UTF-8")
		if len(problems) > 0 {
			fail(http.StatusUnprocessableEntity, "create: %v", problems)
			return
		}
		s.creates = append(s.creates, c)
	case strings.HasPrefix(r.URL.Path, "/v2/alerts/") && strings.HasSuffix(r.URL.Path, "/close"):
		if r.URL.Query().Get("identifierType") != "alias" {
			fail(http.StatusBadRequest, "close without identifierType=alias: %s", r.URL)
			return
		}
		var c ogClose
		if err := dec.Decode(&c); err != nil {
			fail(http.StatusUnprocessableEntity, "close body: %v", err)
			return
		}
		s.closes = append(s.closes, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/alerts/"), "/close"))
	default:
		fail(http.StatusNotFound, "no such endpoint: %s", r.URL.Path)
		return
	}
	st := s.status
	if st == 0 {
		st = http.StatusAccepted
	}
	w.WriteHeader(st)
	json.NewEncoder(w).Encode(map[string]any{"result": "Request will be processed", "took": 0.01, "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"})
}

func (s *opsgenieServer) got() ([]ogCreate, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ogCreate(nil), s.creates...), append([]string(nil), s.closes...)
}

// longQueue is a queue name to escape, and too long for a tag.
var longQueue = "care team," + strings.Repeat("q", 60)

// Create with alias = the alert id and the priority mapped; a retraction
// closes the alert of that alias; a 1 MiB post of hostile text stays within
// every limit of the API.
func TestOpsgenieCreateThenCloseOnRetraction(t *testing.T) {
	og := newOpsgenie(t, "k-123")
	n, _ := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"og": {Kind: Opsgenie, URL: og.URL + "/", APIKeyEnv: "OG_KEY", Queues: []string{"care", longQueue}},
	}}, map[string]string{"OG_KEY": "k-123"})
	for i, p := range []string{"P1", "P2", "P3", "P4"} {
		it := alert(fmt.Sprint(i), "care", p, worst())
		if rej := run(t, n, "og", "care", it); len(rej) != 0 {
			t.Fatalf("%s: dead letter: %s", p, rej[0].Reason)
		}
	}
	odd := alert("x/y?z", longQueue, "P1", "down") // an id and queue to escape and tag
	run(t, n, "og", longQueue, odd)
	r := *odd
	ra := *odd.Alert
	ra.Retracted = true
	r.Alert = &ra
	if rej := run(t, n, "og", longQueue, &r); len(rej) != 0 {
		t.Fatalf("close: %s", rej[0].Reason)
	}
	run(t, n, "og", longQueue, &r) // redelivered: closed once
	creates, closes := og.got()
	if len(creates) != 5 {
		t.Fatalf("%d creates, want 5", len(creates))
	}
	for i, want := range []string{"P1", "P2", "P3", "P4"} {
		c := creates[i]
		if c.Priority != want || c.Alias != fmt.Sprintf("a-%d", i) || c.Source != "earshot" || c.Entity != "care" {
			t.Errorf("create %d: priority %q alias %q source %q entity %q", i, c.Priority, c.Alias, c.Source, c.Entity)
		}
		if c.Details["desk_url"] != fmt.Sprintf("https://earshot.example.com/ui/desk?alert=a-%d", i) || !strings.Contains(c.Description, "&") {
			t.Errorf("create %d: details %v", i, c.Details)
		}
	}
	if len(closes) != 1 || closes[0] != "a-x/y?z" {
		t.Errorf("closes %q, want the alias a-x/y?z once", closes)
	}
}

// 429 and 5xx are tried again; 422 (a request Opsgenie will not take) is a
// dead letter at once; the key never shows in a reason.
func TestOpsgenieRetriesAndRefusals(t *testing.T) {
	for _, c := range []struct {
		status, attempts int
		dead             bool
	}{{http.StatusTooManyRequests, 3, true}, {http.StatusServiceUnavailable, 3, true}, {http.StatusUnprocessableEntity, 1, true}} {
		var calls int
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			mu.Unlock()
			w.WriteHeader(c.status)
		}))
		n, _ := notifier(t, Config{Channels: map[string]Channel{
			"og": {Kind: Opsgenie, URL: srv.URL, APIKeyFile: "", APIKeyEnv: "K", Queues: []string{"care"}, MaxAttempts: 3},
		}}, map[string]string{"K": "secret-genie-key"})
		rej := run(t, n, "og", "care", alert("1", "care", "P1", "x"))
		srv.Close()
		if (len(rej) == 1) != c.dead || calls != c.attempts {
			t.Errorf("HTTP %d: %d calls, dead letters %v; want %d calls", c.status, calls, rej, c.attempts)
		}
		if len(rej) == 1 && (strings.Contains(rej[0].Reason, "secret-genie-key") || !strings.Contains(rej[0].Reason, fmt.Sprint(c.status))) {
			t.Errorf("reason %q", rej[0].Reason)
		}
	}
}

func TestOpsgenieConfig(t *testing.T) {
	env := func(k string) string { return map[string]string{"K": "key"}[k] }
	ok := Config{Channels: map[string]Channel{"og": {Kind: Opsgenie, APIKeyEnv: "K", Queues: []string{"care"}}}}
	if err := ok.Validate(env); err != nil {
		t.Fatal(err)
	}
	if r, _ := ok.Channels["og"].resolve("", env, true); r.url != OpsgenieURL || r.routingKey != "key" {
		t.Errorf("default %+v", r)
	}
	eu := Channel{Kind: Opsgenie, URL: OpsgenieEUURL, APIKeyEnv: "K", Queues: []string{"care"}}
	if r, _ := eu.resolve("", env, true); r.url != "https://api.eu.opsgenie.com" {
		t.Errorf("EU %+v", r)
	}
	for _, bad := range []Channel{
		{Kind: Opsgenie, Queues: []string{"care"}},                                      // no key
		{Kind: Opsgenie, APIKeyEnv: "NOPE", Queues: []string{"care"}},                   // empty key
		{Kind: Opsgenie, APIKeyEnv: "K", URL: "ftp://x", Queues: []string{"care"}},      // not http
		{Kind: Opsgenie, APIKeyEnv: "K", URL: "1e12", Queues: []string{"care"}},         // not a URL
		{Kind: Opsgenie, APIKeyEnv: "K", Queues: []string{"care"}, Timeout: 1e12 * 1e3}, // 1e15 ns: over 5m
	} {
		if err := (Config{Channels: map[string]Channel{"og": bad}}).Validate(env); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
