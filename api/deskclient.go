package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/internal/termtext"
)

// DeskClient calls the desk of an earshot API, for `earshot alerts` and
// scripts: the caller is the token's identity, with its role and scope.
type DeskClient struct {
	URL   string // http://host:port
	Token string
	HTTP  *http.Client // nil: a client with a 30 s timeout
	// Key is the Idempotency-Key of Act's request: "" gives each call a
	// fresh one. Set it to retry a request made before with that key.
	Key string
}

// APIError is an error answer of the API.
type APIError struct {
	Status int
	Code   string
	Msg    string
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

func (c DeskClient) do(ctx context.Context, method, path, key string, body any, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	var last error
	// A request that did not get an answer, or got 503, is sent again
	// with the same Idempotency-Key: the desk applies it once.
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.Token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := hc.Do(req)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		res.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if res.StatusCode >= 300 {
			var e struct {
				Error Error `json:"error"`
			}
			json.Unmarshal(b, &e)
			last = &APIError{Status: res.StatusCode, Code: e.Error.Code, Msg: e.Error.Message}
			if res.StatusCode == http.StatusServiceUnavailable && key != "" {
				continue
			}
			return last
		}
		return json.Unmarshal(b, out)
	}
	return fmt.Errorf("%s %s: %w", method, path, last)
}

// List returns up to limit of the newest alerts of queue (newest first)
// in a state ("" for any), reading at most 20 pages.
func (c DeskClient) List(ctx context.Context, queue, state string, limit int) ([]Alert, error) {
	var out []Alert
	cur := ""
	for range 20 {
		var p Page[Alert]
		path := "/v1/queues/" + url.PathEscape(queue) + "/alerts?limit=200"
		if cur != "" {
			path += "&cursor=" + url.QueryEscape(cur)
		}
		if err := c.do(ctx, "GET", path, "", nil, &p); err != nil {
			return nil, err
		}
		for _, a := range p.Items {
			if state == "" || a.Desk.State == state {
				if out = append(out, a); len(out) == limit {
					return out, nil
				}
			}
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	return out, nil
}

// Act takes an action (ActClaim, ActResolve, ActNote, …) on an alert, with
// an Idempotency-Key its retries share (c.Key, or a fresh one).
func (c DeskClient) Act(ctx context.Context, queue, id, action string, req DeskRequest) (Alert, error) {
	seg, ok := deskRoutes[action]
	if !ok {
		return Alert{}, fmt.Errorf("desk action %q: want one of %v", action, DeskActions)
	}
	key := c.Key
	if key == "" {
		key = freshKey()
	}
	var a Alert
	err := c.do(ctx, "POST", "/v1/queues/"+url.PathEscape(queue)+"/alerts/"+url.PathEscape(id)+"/"+seg, key, req, &a)
	return a, err
}

func freshKey() string {
	var k [12]byte
	rand.Read(k[:])
	return hex.EncodeToString(k[:])
}

// AlertsTool is `earshot alerts list|claim|resolve|note`: the flags, and
// Run.
type AlertsTool struct {
	DeskClient
	State, Outcome string // list: only this state; resolve: the outcome
	Limit          int    // list: at most this many
	JSON           bool
}

// Run runs subcommand sub (list, claim, resolve, note) on args (QUEUE
// [ID [TEXT]]) and prints the alerts.
func (t AlertsTool) Run(ctx context.Context, sub string, args []string, w io.Writer) error {
	if t.Token = cmp.Or(t.Token, os.Getenv("EARSHOT_TOKEN")); t.Token == "" {
		return errors.New("no API token: --token, or EARSHOT_TOKEN in the environment")
	}
	var alerts []Alert
	var err error
	if sub == "list" {
		alerts, err = t.List(ctx, args[0], t.State, t.Limit)
	} else {
		var a Alert
		req := DeskRequest{Outcome: t.Outcome}
		if sub == ActNote {
			req.Text = args[2]
		}
		if t.Key == "" {
			t.Key = freshKey()
		}
		a, err = t.Act(ctx, args[0], args[1], sub, req)
		alerts = []Alert{a}
		if ae := (*APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
			// A resolve the channels were not told of is recorded: only a
			// retry with the same key tells them (another resolve is a 409).
			err = fmt.Errorf("%w\nrun the same command again with --idempotency-key %s", err, t.Key)
		}
	}
	if err != nil {
		return err
	}
	return WriteAlerts(w, alerts, t.JSON, time.Now())
}

// WriteAlerts prints alerts as a table (id, priority, state, assignee,
// age, notes, outcome), or as JSON lines.
func WriteAlerts(w io.Writer, alerts []Alert, asJSON bool, now time.Time) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, a := range alerts {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPRIORITY\tSTATE\tASSIGNEE\tAGE\tNOTES\tOUTCOME")
	for _, a := range alerts {
		state := a.Desk.State
		if !a.Desk.SnoozedUntil.IsZero() && a.Desk.SnoozedUntil.After(now) && state != StateResolved {
			state += " (snoozed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", termtext.Line(a.ID), termtext.Line(a.Priority), termtext.Line(state), dash(a.Desk.Assignee),
			now.Sub(a.CreatedAt).Truncate(time.Second), len(a.Desk.Notes), dash(a.Desk.Outcome))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return termtext.Line(s)
}
