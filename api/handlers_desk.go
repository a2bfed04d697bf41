package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// DeskRequest is the body of a desk action
// (POST /v1/queues/{queue}/alerts/{id}/{action}); each action reads the
// fields it needs.
type DeskRequest struct {
	Assignee string    `json:"assignee,omitempty"` // assign
	Outcome  string    `json:"outcome,omitempty"`  // resolve
	Until    time.Time `json:"until,omitzero"`     // snooze
	Text     string    `json:"text,omitempty"`     // note
	URL      string    `json:"url,omitempty"`      // link
	Title    string    `json:"title,omitempty"`    // link: its title
}

// deskRoutes maps each action to its path segment.
var deskRoutes = map[string]string{
	ActClaim: "claim", ActAssign: "assign", ActUnclaim: "unclaim", ActSnooze: "snooze",
	ActResolve: "resolve", ActReopen: "reopen", ActNote: "notes", ActLink: "links",
}

func (s *Server) deskStore() (DeskStore, error) {
	ds, ok := s.d.Alerts.(DeskStore)
	if !ok || s.d.Alerts == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no alert store with a desk is configured")
	}
	return ds, nil
}

// deskAction takes one action on an alert of a queue the caller may see
// (another team's queue, or an alert not on it, is 404). The alert's
// desk is answered; the change is audited. A retry with the same
// Idempotency-Key, or a claim of an alert the caller holds, changes
// nothing and answers the alert as it is.
func (s *Server) deskAction(action string) func(*call) error {
	return func(c *call) error {
		st, err := s.deskStore()
		if err != nil {
			return err
		}
		q, id, err := s.alertPath(c)
		if err != nil {
			return err
		}
		var req DeskRequest
		if e := decodeJSON(c.r, &req, true); e != nil {
			return e
		}
		if err := s.checkAlertMarket(c, st, q, id); err != nil {
			return err
		}
		if action == ActAssign && mixesLookAlikes(req.Assignee) {
			return errorf(http.StatusBadRequest, CodeInvalid, "assignee %q: a word mixes Latin letters with look-alikes from another script", req.Assignee)
		}
		if action == ActNote && hasBidiControl(req.Text) || action == ActLink && hasBidiControl(req.Title) {
			what := "note"
			if action == ActLink {
				what = "link title"
			}
			return errorf(http.StatusBadRequest, CodeInvalid, "%s: bidi embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069) reorder what the next reader sees; write the text without them", what)
		}
		key := c.r.Header.Get("Idempotency-Key")
		if len(key) > 128 {
			return errorf(http.StatusBadRequest, CodeBadRequest, "Idempotency-Key: at most 128 bytes")
		}
		evID := key
		if evID == "" {
			var b [12]byte
			rand.Read(b[:])
			evID = hex.EncodeToString(b[:])
		}
		e := DeskEvent{ID: evID, Action: action, Actor: c.id.Name, At: s.now().UTC().Truncate(time.Second),
			Assignee: req.Assignee, Outcome: req.Outcome, Until: req.Until.UTC(), Text: req.Text, URL: req.URL}
		if action == ActLink {
			e.Text = req.Title
		}
		a, changed, err := st.Act(c.r.Context(), q, id, e, c.id.Role.Can(ReassignAlerts))
		switch {
		case errors.Is(err, ErrAlertNotFound):
			return errorf(http.StatusNotFound, CodeNotFound, "alert %q not found on queue %q", id, q)
		case errors.Is(err, ErrDeskInvalid):
			return errorf(http.StatusBadRequest, CodeInvalid, "%s", reason(err, ErrDeskInvalid))
		case errors.Is(err, ErrDeskConflict):
			return errorf(http.StatusConflict, CodeConflict, "%s %s/%s: %s", action, q, id, reason(err, ErrDeskConflict))
		case err != nil:
			return err
		}
		if changed {
			if err := c.audit("alert."+action, "alert", q+"/"+id, nil, e); err != nil {
				return err
			}
			u := a
			u.deskUpdate = true
			s.d.Hub.Publish(u)
		}
		// After the audit: the resolve is recorded whatever the channels say.
		if action == ActResolve && a.Desk.State == StateResolved && s.d.OnResolve != nil {
			if err := s.d.OnResolve(c.r.Context(), a); err != nil {
				s.d.Log.Warn("desk resolve not passed to the notification channels", "queue", q, "alert", id, "err", err)
				// The key the resolve was recorded under, the server's own
				// when the request had none: the only retry that tells the
				// channels is one with it (another resolve is a 409).
				c.w.Header().Set("Idempotency-Key", evID)
				return errorf(http.StatusServiceUnavailable, CodeUnavailable, "resolved %s/%s, but the notification channels were not told; retry with Idempotency-Key: %s", q, id, evID)
			}
		}
		return c.json(http.StatusOK, s.scopeAlert(c.id, a))
	}
}

// reason is the message of err without its sentinel's own text in front
// ("invalid: outcome …" → "outcome …"): the answer's code says it, and a
// client printing "400 invalid: invalid: …" would say it twice.
func reason(err, sentinel error) string {
	return strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
}
