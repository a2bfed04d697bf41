package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

var deskT0 = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

func ev(action, actor string, at int) DeskEvent {
	e := DeskEvent{ID: fmt.Sprintf("k%d-%s-%s", at, action, actor), Action: action, Actor: actor, At: deskT0.Add(time.Duration(at) * time.Second)}
	switch action {
	case ActAssign:
		e.Assignee = "sam"
	case ActResolve:
		e.Outcome = "replied"
	case ActSnooze:
		e.Until = e.At.Add(time.Hour)
	case ActNote:
		e.Text = "looking"
	case ActLink:
		e.URL = "https://x.com/acme/status/1"
	}
	return e
}

// deskIn builds a desk in a state: new, claimed by rita, resolved by rita.
func deskIn(t *testing.T, state string) Desk {
	t.Helper()
	d := NewDesk()
	steps := map[string][]DeskEvent{
		StateNew:      nil,
		StateClaimed:  {ev(ActClaim, "rita", 1)},
		StateResolved: {ev(ActClaim, "rita", 1), ev(ActResolve, "rita", 2)},
	}[state]
	for _, e := range steps {
		var err error
		if d, _, err = d.Apply(e, false); err != nil {
			t.Fatal(err)
		}
	}
	if d.State != state {
		t.Fatalf("built %s, want %s", d.State, state)
	}
	return d
}

// TestDeskTransitions tries every action, in every state, by the holder
// (rita), by another responder (sam, who may not reassign) and by a coach
// (cora, who may): the illegal ones are refused with ErrDeskConflict and
// leave the desk as it was; the legal ones land in the state the workflow
// says.
func TestDeskTransitions(t *testing.T) {
	type actor struct {
		name     string
		reassign bool
	}
	actors := []actor{{"rita", false}, {"sam", false}, {"cora", true}}
	// want[state][action] is the state after the action by the holder, or
	// "" when it is refused whoever takes it.
	want := map[string]map[string]string{
		StateNew: {ActClaim: StateClaimed, ActAssign: StateClaimed, ActUnclaim: "", ActSnooze: StateNew,
			ActResolve: StateResolved, ActReopen: "", ActNote: StateNew, ActLink: StateNew},
		StateClaimed: {ActClaim: StateClaimed, ActAssign: StateClaimed, ActUnclaim: StateNew, ActSnooze: StateClaimed,
			ActResolve: StateResolved, ActReopen: "", ActNote: StateClaimed, ActLink: StateClaimed},
		StateResolved: {ActClaim: "", ActAssign: "", ActUnclaim: "", ActSnooze: "",
			ActResolve: "", ActReopen: StateNew, ActNote: StateResolved, ActLink: StateResolved},
	}
	// Actions only the holder (or a reassigning role) may take on a claimed
	// alert, or on a resolved one (reopen).
	holderOnly := map[string]map[string]bool{
		StateClaimed:  {ActClaim: true, ActAssign: true, ActUnclaim: true, ActSnooze: true, ActResolve: true},
		StateResolved: {ActReopen: true},
	}
	for state, row := range want {
		for _, action := range DeskActions {
			for _, a := range actors {
				t.Run(state+"/"+action+"/"+a.name, func(t *testing.T) {
					d := deskIn(t, state)
					before := fmt.Sprintf("%+v", d)
					next, changed, err := d.Apply(ev(action, a.name, 10), a.reassign)
					refused := row[action] == "" || (holderOnly[state][action] && a.name == "sam")
					if refused {
						if !errors.Is(err, ErrDeskConflict) || changed || fmt.Sprintf("%+v", next) != before {
							t.Fatalf("want refused with the desk unchanged; got err=%v changed=%v %+v", err, changed, next)
						}
						return
					}
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if next.State != row[action] {
						t.Fatalf("state %s, want %s", next.State, row[action])
					}
					if fmt.Sprintf("%+v", d) != before {
						t.Fatalf("Apply changed its receiver: %+v", d)
					}
				})
			}
		}
	}
}

func TestDeskClaimAndAssign(t *testing.T) {
	d := NewDesk()
	d, changed, err := d.Apply(ev(ActClaim, "rita", 1), false)
	if err != nil || !changed || d.Assignee != "rita" || !d.ClaimedAt.Equal(deskT0.Add(time.Second)) || !d.FirstResponseAt.Equal(d.ClaimedAt) {
		t.Fatalf("claim: %+v %v %v", d, changed, err)
	}
	// A repeated claim by the holder is a no-op, whatever its key.
	again, changed, err := d.Apply(ev(ActClaim, "rita", 5), false)
	if err != nil || changed || again.Events != d.Events || !again.ClaimedAt.Equal(d.ClaimedAt) {
		t.Fatalf("repeated claim: %+v %v %v", again, changed, err)
	}
	// Another responder may not take it; a coach may move it, and the
	// first response stays the first.
	if _, _, err := d.Apply(ev(ActClaim, "sam", 6), false); !errors.Is(err, ErrDeskConflict) || !strings.Contains(err.Error(), "claimed by rita") {
		t.Fatalf("sam's claim: %v", err)
	}
	moved, _, err := d.Apply(ev(ActAssign, "cora", 7), true)
	if err != nil || moved.Assignee != "sam" || !moved.FirstResponseAt.Equal(d.FirstResponseAt) {
		t.Fatalf("coach's assign: %+v %v", moved, err)
	}
	// Resolving clears a snooze; reopening clears the outcome.
	snoozed, _, _ := moved.Apply(ev(ActSnooze, "sam", 8), false)
	if snoozed.SnoozedUntil.IsZero() {
		t.Fatal("not snoozed")
	}
	done, _, err := snoozed.Apply(ev(ActResolve, "sam", 9), false)
	if err != nil || done.Outcome != "replied" || done.ResolvedBy != "sam" || !done.SnoozedUntil.IsZero() {
		t.Fatalf("resolve: %+v %v", done, err)
	}
	re, _, err := done.Apply(ev(ActReopen, "sam", 10), false)
	if err != nil || re.State != StateNew || re.Outcome != "" || re.Assignee != "" {
		t.Fatalf("reopen: %+v %v", re, err)
	}
}

func TestDeskNotesAreAnOrderedThread(t *testing.T) {
	d := NewDesk()
	for i, who := range []string{"rita", "sam", "rita"} {
		e := ev(ActNote, who, i)
		e.Text = fmt.Sprintf("note %d", i)
		var err error
		if d, _, err = d.Apply(e, false); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.Notes) != 3 || d.Notes[0].Text != "note 0" || d.Notes[1].Author != "sam" || d.Notes[2].At.Before(d.Notes[1].At) {
		t.Fatalf("thread %+v", d.Notes)
	}
	// A retry of the second note (same key) adds nothing.
	e := ev(ActNote, "sam", 1)
	e.Text = "note 1"
	if again, changed, err := d.Apply(e, false); err != nil || changed || len(again.Notes) != 3 {
		t.Fatalf("retry: %d notes, changed %v, %v", len(again.Notes), changed, err)
	}
}

func TestDeskRefusesBadArguments(t *testing.T) {
	for name, mod := range map[string]func(*DeskEvent){
		"unknown action":      func(e *DeskEvent) { e.Action = "delete" },
		"no actor":            func(e *DeskEvent) { e.Actor = "" },
		"long actor":          func(e *DeskEvent) { e.Actor = strings.Repeat("a", maxPerson+1) },
		"no outcome":          func(e *DeskEvent) { e.Action, e.Outcome = ActResolve, "" },
		"unknown outcome":     func(e *DeskEvent) { e.Action, e.Outcome = ActResolve, "fixed" },
		"snooze in past":      func(e *DeskEvent) { e.Action, e.Until = ActSnooze, e.At.Add(-time.Second) },
		"snooze no time":      func(e *DeskEvent) { e.Action, e.Until = ActSnooze, time.Time{} },
		"snooze a century":    func(e *DeskEvent) { e.Action, e.Until = ActSnooze, e.At.Add(100*365*24*time.Hour) },
		"empty note":          func(e *DeskEvent) { e.Action, e.Text = ActNote, "" },
		"huge note":           func(e *DeskEvent) { e.Action, e.Text = ActNote, strings.Repeat("x", 1<<20) },
		"note not utf-8":      func(e *DeskEvent) { e.Action, e.Text = ActNote, "a\xffb" },
		"javascript link":     func(e *DeskEvent) { e.Action, e.URL = ActLink, "javascript:alert(1)" },
		"hostless link":       func(e *DeskEvent) { e.Action, e.URL = ActLink, "https:///x" },
		"assign nobody":       func(e *DeskEvent) { e.Action, e.Assignee = ActAssign, "" },
		"long idempotency":    func(e *DeskEvent) { e.ID = strings.Repeat("k", 129) },
		"invisible assignee":  func(e *DeskEvent) { e.Action, e.Assignee = ActAssign, "rita\u200b" },
		"control in assignee": func(e *DeskEvent) { e.Action, e.Assignee = ActAssign, "rita\nbob" },
		"bidi in assignee":    func(e *DeskEvent) { e.Action, e.Assignee = ActAssign, "\u202eatir" },
		"blank assignee":      func(e *DeskEvent) { e.Action, e.Assignee = ActAssign, "   " },
	} {
		e := ev(ActClaim, "rita", 1)
		mod(&e)
		if d, changed, err := NewDesk().Apply(e, true); !errors.Is(err, ErrDeskInvalid) || changed || d.State != StateNew {
			t.Errorf("%s: err=%v changed=%v state=%s", name, err, changed, d.State)
		}
	}
}

func TestDeskEventsAreBounded(t *testing.T) {
	d := NewDesk()
	var err error
	for i := range maxDeskEvents {
		if d, _, err = d.Apply(ev(ActNote, "rita", i), false); err != nil {
			t.Fatalf("note %d: %v", i, err)
		}
	}
	if _, _, err := d.Apply(ev(ActNote, "rita", maxDeskEvents), false); !errors.Is(err, ErrDeskConflict) {
		t.Fatalf("note past the bound: %v", err)
	}
}

// TestCHAlertsDeskOverTheSinkTable: the distributed store reads an alert's
// events, folds them and writes the new one as a desk.<action> row.
func TestCHAlertsDeskOverTheSinkTable(t *testing.T) {
	tab := &fakeTable{rows: []sink.AlertRow{{ID: "a1", Queue: "care"}, {ID: "a2", Queue: "care"}}}
	c := &CHAlerts{Table: tab}
	ctx := context.Background()
	a, changed, err := c.Act(ctx, "care", "a1", ev(ActClaim, "rita", 1), false)
	if err != nil || !changed || a.Desk.State != StateClaimed || a.Desk.Assignee != "rita" {
		t.Fatalf("claim: %+v %v %v", a.Desk, changed, err)
	}
	if len(tab.desk) != 1 || tab.desk[0].Event != "desk.claim" || tab.desk[0].Assignee != "rita" || tab.desk[0].EventID == "" {
		t.Fatalf("rows %+v", tab.desk)
	}
	if _, changed, err := c.Act(ctx, "care", "a1", ev(ActClaim, "rita", 2), false); err != nil || changed || len(tab.desk) != 1 {
		t.Fatalf("repeated claim wrote: %v %v %d rows", changed, err, len(tab.desk))
	}
	if _, _, err := c.Act(ctx, "care", "a1", ev(ActClaim, "sam", 3), false); !errors.Is(err, ErrDeskConflict) || len(tab.desk) != 1 {
		t.Fatalf("sam's claim: %v, %d rows", err, len(tab.desk))
	}
	if _, _, err := c.Act(ctx, "care", "a1", ev(ActNote, "sam", 4), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Act(ctx, "pr", "a1", ev(ActNote, "sam", 4), false); !errors.Is(err, ErrAlertNotFound) {
		t.Fatalf("another queue's alert: %v", err)
	}
	page, _, err := c.List(ctx, "care", 0, 10)
	if err != nil || len(page) != 2 || page[0].Desk.Assignee != "rita" || len(page[0].Desk.Notes) != 1 || page[1].Desk.State != StateNew {
		t.Fatalf("list: %+v %v", page, err)
	}
	tab.err = errors.New("clickhouse down")
	if _, _, err := c.Act(ctx, "care", "a2", ev(ActClaim, "rita", 5), false); err == nil {
		t.Fatal("a failing table was not an error")
	}
}

// TestDeskIdempotencyKeyReusedForAnotherEvent: a retry with the same
// Idempotency-Key and the same request changes nothing and is no error; the
// same key on a different request (another action, other arguments, or
// another person) is refused as a conflict instead of being answered 200
// while the request is silently dropped.
func TestDeskIdempotencyKeyReusedForAnotherEvent(t *testing.T) {
	note := ev(ActNote, "rita", 1)
	note.ID = "key-1"
	d, _, err := NewDesk().Apply(note, false)
	if err != nil {
		t.Fatal(err)
	}
	retry := note
	retry.At = note.At.Add(time.Minute) // a retry comes later
	if d2, changed, err := d.Apply(retry, false); err != nil || changed || len(d2.Notes) != 1 {
		t.Fatalf("retry: changed=%v err=%v notes=%d", changed, err, len(d2.Notes))
	}
	for name, mod := range map[string]func(*DeskEvent){
		"another action": func(e *DeskEvent) { e.Action, e.Outcome, e.Text = ActResolve, "spam", "" },
		"another text":   func(e *DeskEvent) { e.Text = "something else" },
		"another person": func(e *DeskEvent) { e.Actor = "sam" },
	} {
		e := note
		mod(&e)
		d2, changed, err := d.Apply(e, true)
		if !errors.Is(err, ErrDeskConflict) || changed || d2.State != StateNew || len(d2.Notes) != 1 {
			t.Errorf("%s: err=%v changed=%v state=%s notes=%d, want a conflict", name, err, changed, d2.State, len(d2.Notes))
		}
	}
	// The fold of stored events (the ClickHouse path) keeps the keys' requests too.
	claim := ev(ActClaim, "rita", 2)
	claim.Assignee = "rita" // as the sink stores a claim
	f := FoldDesk([]DeskEvent{note, claim})
	if _, _, err := f.Apply(ev(ActClaim, "rita", 3), false); err != nil {
		t.Fatalf("new key after fold: %v", err)
	}
	c2 := claim
	c2.Assignee = ""
	if _, changed, err := f.Apply(c2, false); err != nil || changed {
		t.Errorf("claim retried after the fold: changed=%v err=%v", changed, err)
	}
	n2 := note
	n2.Text = "other"
	if _, _, err := f.Apply(n2, false); !errors.Is(err, ErrDeskConflict) {
		t.Errorf("key reused after the fold: err=%v, want a conflict", err)
	}
}

// TestDeskRefusesLookAlikeAssignees: names that render like another name
// ("rita " and "rita", a Hangul filler that renders blank, a decomposed
// "josé" beside the composed one) would make two assignees of one person.
func TestDeskRefusesLookAlikeAssignees(t *testing.T) {
	for _, name := range []string{"rita ", " rita", "\u3164", "rita\u3164", "\u115f", "jose\u0301", "rita\u2028", "\u00a0rita"} {
		e := ev(ActAssign, "cora", 1)
		e.Assignee = name
		if _, changed, err := NewDesk().Apply(e, true); !errors.Is(err, ErrDeskInvalid) || changed {
			t.Errorf("assignee %q: changed=%v err=%v, want invalid", name, changed, err)
		}
	}
	for _, name := range []string{"rita", "Rita Levi", "jos\u00e9", "渡辺"} {
		e := ev(ActAssign, "cora", 1)
		e.Assignee = name
		if _, _, err := NewDesk().Apply(e, true); err != nil {
			t.Errorf("assignee %q refused: %v", name, err)
		}
	}
}

// TestDeskFullAlertCanStillBeResolved: a careless script (or a hostile
// responder, who may note any alert of the queue) filling an alert's
// thread up to the event bound must not leave an alert nobody can close:
// a resolve is still taken, once, and nothing after it.
func TestDeskFullAlertCanStillBeResolved(t *testing.T) {
	d := deskIn(t, StateClaimed) // rita holds it
	var err error
	for i := d.Events; i < maxDeskEvents; i++ {
		if d, _, err = d.Apply(ev(ActNote, "sam", 10+i), false); err != nil {
			t.Fatalf("note %d: %v", i, err)
		}
	}
	if _, _, err := d.Apply(ev(ActClaim, "sam", 900), false); !errors.Is(err, ErrDeskConflict) {
		t.Fatalf("claim past the bound: %v", err)
	}
	if _, _, err := d.Apply(ev(ActResolve, "sam", 901), false); !errors.Is(err, ErrDeskConflict) {
		t.Fatalf("resolve of rita's alert by sam past the bound: %v", err)
	}
	d, changed, err := d.Apply(ev(ActResolve, "rita", 902), false)
	if err != nil || !changed || d.State != StateResolved {
		t.Fatalf("resolve past the bound: changed=%v err=%v state=%s", changed, err, d.State)
	}
	for _, a := range []string{ActReopen, ActNote, ActLink} {
		if _, _, err := d.Apply(ev(a, "rita", 903), true); !errors.Is(err, ErrDeskConflict) {
			t.Errorf("%s after the last resolve: %v", a, err)
		}
	}
}

// TestDeskRefusesDeceptiveLinks: a link that shows one host and goes to
// another ("https://acme.com@evil.example/", the userinfo trick) or that
// is not a plain http(s) URL is refused; ordinary links are taken.
func TestDeskRefusesDeceptiveLinks(t *testing.T) {
	for _, u := range []string{"https://acme.com@evil.example/reply", "https://acme.com:pw@evil.example/", "data:text/html,<script>alert(1)</script>",
		"javascript://acme.com/%0aalert(1)", "JAVASCRIPT:alert(1)", "//evil.example/x", "https://acme.com/\u202ereply"} {
		e := ev(ActLink, "rita", 1)
		e.URL = u
		if _, changed, err := NewDesk().Apply(e, true); !errors.Is(err, ErrDeskInvalid) || changed {
			t.Errorf("link %q: changed=%v err=%v, want invalid", u, changed, err)
		}
	}
	for _, u := range []string{"https://x.com/acme/status/1", "http://intranet:8080/case?id=7&x=%40y", "HTTPS://Example.com/a#b"} {
		e := ev(ActLink, "rita", 1)
		e.URL = u
		if _, _, err := NewDesk().Apply(e, true); err != nil {
			t.Errorf("link %q refused: %v", u, err)
		}
	}
}

// TestDeskSizeCountsKeys: the idempotency keys (up to 128 bytes each) are
// part of what a desk costs the in-memory store's budget.
func TestDeskSizeCountsKeys(t *testing.T) {
	short, long := NewDesk(), NewDesk()
	for i := range 100 {
		e := ev(ActNote, "rita", i)
		e.ID = fmt.Sprintf("k%d", i)
		short, _, _ = short.Apply(e, false)
		e.ID = fmt.Sprintf("%0128d", i)
		long, _, _ = long.Apply(e, false)
	}
	if got, want := long.size()-short.size(), 100*(128-3); got < want {
		t.Errorf("100 keys of 128 bytes cost %d bytes more than short ones, want at least %d", got, want)
	}
}

// TestDeskTakesLongOIDCNames: an OIDC caller's name is namespaced by the
// issuer ("oidc:<issuer>/<name claim>", the claim itself up to 128 bytes),
// so it is longer than 128 bytes with an Entra ID issuer and a long email:
// such a person must still act on the desk and be assignable.
func TestDeskTakesLongOIDCNames(t *testing.T) {
	who := "oidc:login.microsoftonline.com/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9/v2.0/" + strings.Repeat("r", 100) + "@example.com"
	if len(who) <= 128 {
		t.Fatalf("name of %d bytes: not long enough to test", len(who))
	}
	e := ev(ActClaim, who, 1)
	e.ID = "k1" // ev names the key after the actor
	d, changed, err := NewDesk().Apply(e, false)
	if err != nil || !changed || d.Assignee != who {
		t.Fatalf("claim by a long OIDC name: changed=%v err=%v", changed, err)
	}
	a := ev(ActAssign, "cora", 2)
	a.Assignee = who
	if _, _, err := deskIn(t, StateClaimed).Apply(a, true); err != nil {
		t.Fatalf("assign to a long OIDC name: %v", err)
	}
}

// TestFoldFirstClaimWins: of two claims stored at once (two API replicas
// on ClickHouse) the first in the order holds the alert for every reader,
// and the second is skipped; a takeover, stored as an assignment to
// oneself, does take over, and counts as the claim it was for a retry.
func TestFoldFirstClaimWins(t *testing.T) {
	rita, sam := ev(ActClaim, "rita", 1), ev(ActClaim, "sam", 2)
	rita.Assignee, sam.Assignee = "rita", "sam" // as the sink stores claims
	d := FoldDesk([]DeskEvent{rita, sam})
	if d.Assignee != "rita" || d.Events != 1 || d.Seen(sam.ID) || !d.Seen(rita.ID) {
		t.Fatalf("two claims: %+v", d)
	}
	take := ev(ActAssign, "cora", 3)
	take.Assignee = "cora"
	d = FoldDesk([]DeskEvent{rita, take, sam})
	if d.Assignee != "cora" || d.Events != 2 {
		t.Fatalf("a takeover: %+v", d)
	}
	retry := take
	retry.Action, retry.Assignee = ActClaim, ""
	if _, changed, err := d.Apply(retry, true); err != nil || changed {
		t.Errorf("the takeover claim retried with its key: changed=%v err=%v", changed, err)
	}
	other := retry
	other.Action, other.Outcome = ActResolve, "spam"
	if _, _, err := d.Apply(other, true); !errors.Is(err, ErrDeskConflict) {
		t.Errorf("its key on another request: %v", err)
	}
}
