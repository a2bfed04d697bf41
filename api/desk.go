package api

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/earshot-dev/earshot/textnorm"
)

// The desk: the per-person workflow on an alert. An alert is new, claimed
// (by one person) or resolved (with an outcome); it can be assigned to a
// person, unclaimed, snoozed until a time, reopened, and carries a thread
// of notes and links. Every action is a DeskEvent; the alert's Desk is the
// fold of its events (Apply, in order), the same in the in-memory store
// and in ClickHouse (alert_events).

// Desk states.
const (
	StateNew      = "new"
	StateClaimed  = "claimed"
	StateResolved = "resolved"
)

// Desk actions: the event names in alert_events, "desk." and the action.
const (
	ActClaim   = "claim"
	ActAssign  = "assign"
	ActUnclaim = "unclaim"
	ActSnooze  = "snooze"
	ActResolve = "resolve"
	ActReopen  = "reopen"
	ActNote    = "note"
	ActLink    = "link"
)

// DeskActions lists every action.
var DeskActions = []string{ActClaim, ActAssign, ActUnclaim, ActSnooze, ActResolve, ActReopen, ActNote, ActLink}

// Outcomes of a resolved alert.
var Outcomes = []string{"replied", "escalated", "no_action", "spam", "duplicate"}

// A retracted alert (its post deleted, or edited out of every watchlist)
// reads as resolved with OutcomeRetracted by ActorPlatform, unless a
// person resolved it before. Neither is an outcome a person may give.
const (
	OutcomeRetracted = "retracted"
	ActorPlatform    = "platform"
)

// Bounds on what one alert's desk holds, so no caller can grow an alert
// without limit.
const (
	maxDeskEvents = 500
	maxNoteText   = 4096
	maxURL        = 2048
	maxPerson     = 512 // an OIDC name is "oidc:<issuer>/<claim>", the claim up to 128 bytes
	maxSnooze     = 90 * 24 * time.Hour
)

// ErrDeskConflict is an action the alert's current state refuses: claiming
// an alert someone else holds, resolving a resolved alert, unclaiming a new
// one. The API answers 409.
var ErrDeskConflict = errors.New("conflict")

// ErrDeskInvalid is an action with bad arguments (no outcome, a note too
// long, a URL that is not http(s)). The API answers 400.
var ErrDeskInvalid = errors.New("invalid")

// DeskEvent is one action on an alert.
type DeskEvent struct {
	ID       string    `json:"id"` // the Idempotency-Key, or a random id
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
	Assignee string    `json:"assignee,omitempty"` // assign
	Outcome  string    `json:"outcome,omitempty"`  // resolve
	Until    time.Time `json:"until,omitzero"`     // snooze
	Text     string    `json:"text,omitempty"`     // note, or a link's title
	URL      string    `json:"url,omitempty"`      // link
}

// Note is one entry of an alert's note thread.
type Note struct {
	Author string    `json:"author"`
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
}

// Link is a URL recorded on an alert, such as the reply the responder posted.
type Link struct {
	Author string    `json:"author"`
	At     time.Time `json:"at"`
	URL    string    `json:"url"`
	Title  string    `json:"title,omitempty"`
}

// Desk is an alert's workflow state: the fold of its events.
type Desk struct {
	State           string    `json:"state"`
	Assignee        string    `json:"assignee,omitempty"`
	ClaimedAt       time.Time `json:"claimed_at,omitzero"`
	FirstResponseAt time.Time `json:"first_response_at,omitzero"` // the first claim or assignment
	SnoozedUntil    time.Time `json:"snoozed_until,omitzero"`
	ResolvedAt      time.Time `json:"resolved_at,omitzero"`
	ResolvedBy      string    `json:"resolved_by,omitempty"`
	Outcome         string    `json:"outcome,omitempty"`
	Notes           []Note    `json:"notes,omitempty"`
	Links           []Link    `json:"links,omitempty"`
	Events          int       `json:"events"`
	keys            []deskKey // the events' ids, for idempotency
}

// deskKey is an applied event's id and a digest of its request, so that a
// retry is told from another request reusing the key.
type deskKey struct {
	id  string
	req uint64
}

// request digests what an event asks for: everything but its time and id
// (a claim's assignee is its actor: the sink stores it, a request has none).
func (e DeskEvent) request() uint64 {
	action, assignee := e.Action, e.Assignee
	if action == ActClaim || action == ActAssign && assignee == e.Actor {
		// A takeover claim is stored as an assignment to oneself (see
		// CHAlerts.Act): the same request.
		action, assignee = ActClaim, ""
	}
	var until string
	if !e.Until.IsZero() {
		until = e.Until.UTC().Truncate(time.Second).Format(time.RFC3339) // as ClickHouse keeps it
	}
	h := sha256.Sum256([]byte(strings.Join([]string{action, e.Actor, assignee, e.Outcome, until, e.Text, e.URL}, "\x00")))
	return binary.BigEndian.Uint64(h[:8])
}

// NewDesk is the desk of an alert nobody has touched.
func NewDesk() Desk { return Desk{State: StateNew} }

// Seen reports whether an event of this id was applied already: a retry
// with the same Idempotency-Key.
func (d Desk) Seen(id string) bool { _, ok := d.seen(id); return ok }

func (d Desk) seen(id string) (deskKey, bool) {
	if id == "" {
		return deskKey{}, false
	}
	i := slices.IndexFunc(d.keys, func(k deskKey) bool { return k.id == id })
	if i < 0 {
		return deskKey{}, false
	}
	return d.keys[i], true
}

// Check validates an event's arguments, whatever the state.
func (e DeskEvent) Check() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrDeskInvalid, fmt.Sprintf(f, a...)) }
	if !slices.Contains(DeskActions, e.Action) {
		return bad("action %q: want one of %v", e.Action, DeskActions)
	}
	if e.Actor == "" || len(e.Actor) > maxPerson {
		return bad("actor: 1 to %d bytes", maxPerson)
	}
	if len(e.ID) > 128 {
		return bad("idempotency key: at most 128 bytes")
	}
	if !utf8.ValidString(e.Text) || !utf8.ValidString(e.Assignee) || !utf8.ValidString(e.URL) {
		return bad("text is not UTF-8")
	}
	switch e.Action {
	case ActAssign:
		if !person(e.Assignee) {
			return bad("assignee %q: a name of 1 to %d bytes, without control or invisible characters", e.Assignee, maxPerson)
		}
	case ActResolve:
		if !slices.Contains(Outcomes, e.Outcome) {
			return bad("outcome %q: want one of %v", e.Outcome, Outcomes)
		}
	case ActSnooze:
		if !e.Until.After(e.At) || e.Until.Sub(e.At) > maxSnooze {
			return bad("until %s: want a time after now and at most %v ahead", e.Until.Format(time.RFC3339), maxSnooze)
		}
	case ActNote:
		if e.Text == "" || len(e.Text) > maxNoteText {
			return bad("note: 1 to %d bytes", maxNoteText)
		}
	case ActLink:
		u, err := url.Parse(e.URL)
		// No userinfo ("https://acme.com@evil.example/" shows one host and
		// goes to another) and no space, control or invisible characters.
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(e.URL) > maxURL ||
			strings.IndexFunc(e.URL, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
			return bad("url: an http or https URL of at most %d bytes, without user info or spaces", maxURL)
		}
		if len(e.Text) > 256 {
			return bad("link title: at most 256 bytes")
		}
	}
	return nil
}

// person reports whether s is a usable person's name: not blank, at most
// maxPerson bytes, in NFC, without leading or trailing space, with no
// control, format (invisible, bidi), line-breaking or filler characters
// and no space but U+0020, so that "rita" and "rita\u200b", "rita " or
// "rita\u3164" cannot be two assignees that look alike.
func person(s string) bool {
	if strings.TrimSpace(s) != s || s == "" || len(s) > maxPerson || !norm.NFC.IsNormalString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.IsSpace(r) && r != ' ',
			r == '\u115f', r == '\u1160', r == '\u3164', r == '\uffa0': // Hangul fillers render blank
			return false
		}
	}
	return true
}

// mixesLookAlikes reports whether a word of s mixes Latin letters with a
// character of another script that imitates one ("r\u0456ta", a Cyrillic
// і): it renders as the Latin name. A word wholly in one script ("Ирина",
// "Νίκος", "Ирина Smith") does not. The API refuses such an assignee in a
// new request; it is not part of Check, so events stored before the rule
// fold as they did.
func mixesLookAlikes(s string) bool {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) })
	for _, w := range words {
		if sc := textnorm.Scripts(w); sc.Latin && sc.LookAlike {
			return true
		}
	}
	return false
}

// hasBidiControl reports whether s holds a bidi embedding, override or
// isolate (U+202A to U+202E, U+2066 to U+2069): "refund \u202edenied"
// is stored as typed but shown reversed, so a note or a link title would
// read differently to the next responder than to its author. Right-to-left
// text needs none of them (the Unicode algorithm orders it), and the marks
// U+200E/U+200F, which only nudge neutral characters, stay allowed. The API
// refuses such text in a new request; like mixesLookAlikes it is not part
// of Check, so events stored before the rule fold as they did.
func hasBidiControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
	}) >= 0
}

// Apply applies e to d. It returns the new desk and whether anything
// changed: a repeated claim by the holder, or an assignment to the current
// assignee, changes nothing. mayReassign is whether the actor may take over
// or move an alert someone else holds (a coach or an admin). An action the
// state refuses is ErrDeskConflict; bad arguments are ErrDeskInvalid.
func (d Desk) Apply(e DeskEvent, mayReassign bool) (Desk, bool, error) {
	if err := e.Check(); err != nil {
		return d, false, err
	}
	if d.State == "" {
		d.State = StateNew
	}
	if k, ok := d.seen(e.ID); ok {
		if k.req != e.request() {
			return d, false, fmt.Errorf("%w: Idempotency-Key %q was used for another request on this alert", ErrDeskConflict, e.ID)
		}
		return d, false, nil
	}
	// At the bound only a resolve is taken (one: a reopen is refused), so
	// that a thread filled with notes never leaves an alert nobody can close.
	if d.Events >= maxDeskEvents && (e.Action != ActResolve || d.Events > maxDeskEvents) {
		return d, false, fmt.Errorf("%w: the alert has %d events, the most it may", ErrDeskConflict, d.Events)
	}
	conflict := func(f string, a ...any) (Desk, bool, error) {
		return d, false, fmt.Errorf("%w: %s", ErrDeskConflict, fmt.Sprintf(f, a...))
	}
	// holds: the actor may act on the alert as its holder.
	holds := d.State != StateClaimed || d.Assignee == e.Actor || mayReassign
	next := d
	next.Notes, next.Links, next.keys = slices.Clip(d.Notes), slices.Clip(d.Links), slices.Clip(d.keys)
	switch e.Action {
	case ActClaim, ActAssign:
		who := e.Actor
		if e.Action == ActAssign {
			who = e.Assignee
		}
		if d.State == StateResolved {
			return conflict("alert is resolved (%s); reopen it first", d.Outcome)
		}
		if d.State == StateClaimed && d.Assignee == who {
			return d, false, nil // already theirs
		}
		if !holds {
			return conflict("alert is claimed by %s", d.Assignee)
		}
		next.State, next.Assignee, next.ClaimedAt, next.SnoozedUntil = StateClaimed, who, e.At, time.Time{}
		if next.FirstResponseAt.IsZero() {
			next.FirstResponseAt = e.At
		}
	case ActUnclaim:
		if d.State != StateClaimed {
			return conflict("alert is %s, not claimed", d.State)
		}
		if !holds {
			return conflict("alert is claimed by %s", d.Assignee)
		}
		next.State, next.Assignee, next.ClaimedAt = StateNew, "", time.Time{}
	case ActSnooze:
		if d.State == StateResolved {
			return conflict("alert is resolved")
		}
		if !holds {
			return conflict("alert is claimed by %s", d.Assignee)
		}
		next.SnoozedUntil = e.Until
	case ActResolve:
		if d.State == StateResolved {
			return conflict("alert is resolved already (%s by %s)", d.Outcome, d.ResolvedBy)
		}
		if !holds {
			return conflict("alert is claimed by %s", d.Assignee)
		}
		next.State, next.ResolvedAt, next.ResolvedBy, next.Outcome, next.SnoozedUntil = StateResolved, e.At, e.Actor, e.Outcome, time.Time{}
		if next.FirstResponseAt.IsZero() {
			next.FirstResponseAt = e.At
		}
	case ActReopen:
		if d.State != StateResolved {
			return conflict("alert is %s, not resolved", d.State)
		}
		if d.ResolvedBy != e.Actor && !mayReassign {
			return conflict("alert was resolved by %s", d.ResolvedBy)
		}
		next.State, next.Assignee, next.ClaimedAt, next.ResolvedAt, next.ResolvedBy, next.Outcome = StateNew, "", time.Time{}, time.Time{}, "", ""
	case ActNote:
		next.Notes = append(next.Notes, Note{Author: e.Actor, At: e.At, Text: e.Text})
	case ActLink:
		next.Links = append(next.Links, Link{Author: e.Actor, At: e.At, URL: e.URL, Title: e.Text})
	}
	next.Events++
	if e.ID != "" {
		next.keys = append(next.keys, deskKey{id: e.ID, req: e.request()})
	}
	return next, true, nil
}

// FoldDesk replays stored events, in order, into a desk. Events that the
// state refuses when replayed are skipped: of two claims racing in
// ClickHouse (where there is no lock) the first one in the order wins and
// the other is skipped by every reader. A claim never takes over an alert
// someone else holds in the replay (a takeover, which only alerts.reassign
// may make, is stored as an assignment: see CHAlerts.Act); every other
// action was allowed when it was made and is replayed as such.
func FoldDesk(events []DeskEvent) Desk {
	d := NewDesk()
	for _, e := range events {
		if n, _, err := d.Apply(e, e.Action != ActClaim); err == nil {
			d = n
		}
	}
	return d
}

// closedByPlatform is the desk of an alert retracted at at: resolved,
// outcome retracted, by the platform, its snooze ended. One a person
// resolved before keeps that resolution (the reply was made). It is a
// view, never stored: the events stay the responders', so an alert raised
// again (its post edited back into a watchlist) has their desk back.
func (d Desk) closedByPlatform(at time.Time) Desk {
	if d.State == "" {
		d.State = StateNew
	}
	if d.State == StateResolved {
		return d
	}
	d.State, d.ResolvedAt, d.ResolvedBy, d.Outcome, d.SnoozedUntil = StateResolved, at, ActorPlatform, OutcomeRetracted, time.Time{}
	return d
}

// refuseRetracted refuses an action that would change the state or holder
// of a retracted alert (claim, assign, unclaim, snooze, resolve, reopen):
// the platform closed it. Notes and links are taken, and a retry of an
// event applied before the retraction is the no-op it always is.
func refuseRetracted(a *Alert, e DeskEvent) error {
	if !a.Retracted || !slices.Contains(stateActions, e.Action) || a.Desk.Seen(e.ID) {
		return nil
	}
	if err := e.Check(); err != nil {
		return err
	}
	return fmt.Errorf("%w: alert was retracted by the platform (its post was deleted, or edited out of every watchlist): only notes and links are taken", ErrDeskConflict)
}

// stateActions are the actions that change an alert's state or holder:
// two of them at once on two API replicas may not both stand.
var stateActions = []string{ActClaim, ActAssign, ActUnclaim, ActSnooze, ActResolve, ActReopen}

// describe says what the desk is, as a conflict's reason does.
func (d Desk) describe() string {
	switch d.State {
	case StateClaimed:
		return "alert is claimed by " + d.Assignee
	case StateResolved:
		return fmt.Sprintf("alert is resolved (%s by %s)", d.Outcome, d.ResolvedBy)
	}
	return "alert is " + d.State
}

// size is what a desk costs the in-memory store, roughly.
func (d *Desk) size() int {
	n := 64 + len(d.Assignee) + len(d.ResolvedBy) + 32*len(d.keys)
	for _, k := range d.keys {
		n += len(k.id) // up to 128 bytes each
	}
	for _, x := range d.Notes {
		n += 48 + len(x.Author) + len(x.Text)
	}
	for _, x := range d.Links {
		n += 48 + len(x.Author) + len(x.URL) + len(x.Title)
	}
	return n
}
