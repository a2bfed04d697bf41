package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestDeskClient drives the desk as `earshot alerts` does: list, claim,
// note, resolve; a refusal is an APIError; a 503 is retried with the same
// Idempotency-Key, and the note lands once.
func TestDeskClient(t *testing.T) {
	e := newEnv(t)
	var failed atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/notes") && failed.Add(1) == 1 {
			e.srv.ServeHTTP(httptest.NewRecorder(), r) // applied, but the answer is lost
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		e.srv.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	ctx := context.Background()
	rita := DeskClient{URL: flaky.URL, Token: e.tok["responder-emea"]}
	if _, err := rita.Act(ctx, "care-emea", "a1", ActClaim, DeskRequest{}); err != nil {
		t.Fatal(err)
	}
	a, err := rita.Act(ctx, "care-emea", "a1", ActNote, DeskRequest{Text: "called them"})
	if err != nil || len(a.Desk.Notes) != 1 || failed.Load() != 2 {
		t.Fatalf("note through a 503: %d notes, %d tries, %v", len(a.Desk.Notes), failed.Load(), err)
	}
	list, err := rita.List(ctx, "care-emea", StateNew, 10)
	if err != nil || len(list) != 1 || list[0].ID != "a2" {
		t.Fatalf("new alerts: %+v %v", list, err)
	}
	raj := DeskClient{URL: flaky.URL, Token: e.tok["responder-apac"]}
	var ae *APIError
	if _, err := raj.Act(ctx, "care-emea", "a1", ActResolve, DeskRequest{Outcome: "spam"}); !errors.As(err, &ae) || ae.Status != 404 {
		t.Fatalf("raj resolving a1: %v", err)
	}
	if _, err := rita.Act(ctx, "care-emea", "a1", ActResolve, DeskRequest{Outcome: "replied"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rita.Act(ctx, "care-emea", "a1", ActClaim, DeskRequest{}); !errors.As(err, &ae) || ae.Status != 409 || ae.Code != CodeConflict {
		t.Fatalf("claiming a resolved alert: %v", err)
	}
	all, _ := rita.List(ctx, "care-emea", "", 10)
	var out bytes.Buffer
	WriteAlerts(&out, all, false, time.Unix(3000, 0))
	if !strings.Contains(out.String(), "a1  P2        resolved  rita") || !strings.Contains(out.String(), "replied") {
		t.Fatalf("table:\n%s", out.String())
	}
}

// The table shows an assignee's or an id's terminal controls escaped.
func TestWriteAlertsEscapesTerminalControls(t *testing.T) {
	evil := "\x1b]0;pwned\x07\u202eevil"
	var out bytes.Buffer
	WriteAlerts(&out, []Alert{{ID: evil, Priority: "P1", Desk: Desk{State: StateClaimed, Assignee: evil, Outcome: evil}}}, false, time.Unix(3000, 0))
	if strings.ContainsAny(out.String(), "\x1b\u202e\x07") || !strings.Contains(out.String(), `\x1b]0;pwned`) {
		t.Errorf("table:\n%q", out.String())
	}
}

// An error's code is said once: the CLI printed `400 invalid: invalid:
// resolve needs an outcome …` (the desk's sentinel error repeated in the
// message), and `409 conflict: claim …: conflict: …`.
func TestDeskClientSaysTheCodeOnce(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	ctx := context.Background()
	rita := DeskClient{URL: srv.URL, Token: e.tok["responder-emea"]}
	_, invalid := rita.Act(ctx, "care-emea", "a1", ActResolve, DeskRequest{})
	if _, err := rita.Act(ctx, "care-emea", "a1", ActResolve, DeskRequest{Outcome: "replied"}); err != nil {
		t.Fatal(err)
	}
	_, conflict := rita.Act(ctx, "care-emea", "a1", ActClaim, DeskRequest{})
	for _, c := range []struct {
		err  error
		code string
	}{{invalid, CodeInvalid}, {conflict, CodeConflict}} {
		var ae *APIError
		if !errors.As(c.err, &ae) || ae.Code != c.code {
			t.Errorf("%v, want a %s APIError", c.err, c.code)
			continue
		}
		if n := strings.Count(c.err.Error(), c.code+":"); n != 1 || strings.HasPrefix(ae.Msg, c.code+":") {
			t.Errorf("%q says %q %d times (message %q)", c.err, c.code, n, ae.Msg)
		}
	}
}
