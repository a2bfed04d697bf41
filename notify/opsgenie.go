package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/redact"
	"github.com/earshot-dev/earshot/internal/retry"
)

// Opsgenie's Alert API v2 (https://docs.opsgenie.com/docs/alert-api): a
// small typed client rather than github.com/opsgenie/opsgenie-go-sdk-v2,
// which brings logrus, pkg/errors and hashicorp/go-retryablehttp (a second
// retry loop around internal/retry's) for two calls.

// OpsgenieURL is the Opsgenie API of the US service region, the default
// url of an opsgenie channel; OpsgenieEUURL is the EU one.
const (
	OpsgenieURL   = "https://api.opsgenie.com"
	OpsgenieEUURL = "https://api.eu.opsgenie.com"
)

// Opsgenie's field limits, in characters: longer values are cut by
// Opsgenie, or the request refused.
const (
	ogMessageMax     = 130
	ogAliasMax       = 512
	ogDescriptionMax = 15000
	ogDetailsMax     = 8000 // all keys and values together
	ogEntityMax      = 512
	ogTagMax         = 50
	ogNoteMax        = 25000
)

// ogPriority maps earshot's priorities to Opsgenie's (P1 critical to P5
// informational): P1 to P4 are the same; anything else is P5.
func ogPriority(p string) string {
	switch p {
	case "P1", "P2", "P3", "P4":
		return p
	}
	return "P5"
}

// ogCreate is the body of POST /v2/alerts.
type ogCreate struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source,omitempty"`
	Priority    string            `json:"priority,omitempty"`
	Note        string            `json:"note,omitempty"`
}

// ogClose is the body of POST /v2/alerts/{alias}/close?identifierType=alias.
type ogClose struct {
	Source string `json:"source,omitempty"`
	Note   string `json:"note,omitempty"`
}

// ogTag makes a tag of s: Opsgenie tags are at most 50 characters, without
// spaces or commas.
func ogTag(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r < ' ' {
			return '_'
		}
		return r
	}, s)
	return truncate(s, ogTagMax)
}

// opsgenieAlert is the request for alert v: create with alias = the alert
// id (Opsgenie folds a second create with an open alert's alias into it), or,
// for a retraction, close the alert of that alias.
func (ch *channel) opsgenieAlert(v view) func(context.Context) error {
	alias := truncate(v.ID, ogAliasMax)
	if v.Retracted {
		body, _ := json.Marshal(ogClose{Source: "earshot", Note: truncate(v.Closed, ogNoteMax)})
		return ch.opsgenieClose(alias, body)
	}
	details := map[string]string{"alert_id": v.ID, "queue": v.Queue, "priority": v.Priority, "team": v.Team, "rule": v.Rule}
	if v.Desk != "" {
		details["desk_url"] = v.Desk
	}
	if v.PostURL != "" {
		details["post_url"] = truncate(v.PostURL, 1000)
	}
	details["why"] = truncate(v.Why, 500)
	// The details together stay under Opsgenie's limit: the values above
	// are short or cut, and the excerpt goes in the description.
	desc := v.Excerpt
	if v.Author != "" {
		desc = "@" + v.Author + " (" + v.Platform + "): " + desc
	}
	if v.Desk != "" {
		desc += "\n\nOpen in earshot desk: " + v.Desk
	}
	tags := []string{"earshot", ogTag("queue:" + v.Queue), ogTag(v.Priority)}
	if v.Unstaffed {
		tags = append(tags, "unstaffed")
	}
	req := ogCreate{
		Message:     truncate(v.title(), ogMessageMax),
		Alias:       alias,
		Description: truncate(desc, ogDescriptionMax),
		Tags:        tags,
		Details:     details,
		Entity:      truncate(v.Queue, ogEntityMax),
		Source:      "earshot",
		Priority:    ogPriority(v.Priority),
	}
	body, _ := json.Marshal(req) // strings and maps of strings only
	return ch.opsgenieCreate(body)
}

// opsgenieText is the request for a digest: an alert of its own.
func (ch *channel) opsgenieText(text, worst string, now time.Time) func(context.Context) error {
	body, _ := json.Marshal(ogCreate{
		Message:     truncate(oneLine(text), ogMessageMax),
		Alias:       "earshot-digest-" + ch.name + "-" + now.UTC().Format(time.RFC3339),
		Description: truncate(text, ogDescriptionMax),
		Tags:        []string{"earshot", "digest"},
		Source:      "earshot",
		Priority:    ogPriority(worst),
	})
	return ch.opsgenieCreate(body)
}

func (ch *channel) opsgenieCreate(body []byte) func(context.Context) error {
	u := ch.dest.url + "/v2/alerts"
	return func(ctx context.Context) error { return ch.opsgenie(ctx, u, body) }
}

func (ch *channel) opsgenieClose(alias string, body []byte) func(context.Context) error {
	u := ch.dest.url + "/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias"
	return func(ctx context.Context) error { return ch.opsgenie(ctx, u, body) }
}

// opsgenie makes one request to Opsgenie's API. It answers 202 to a request
// it accepted for processing; a close of an alias it does not know is
// accepted too (and fails later, in Opsgenie's own request log).
func (ch *channel) opsgenie(ctx context.Context, u string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return retry.Permanent{Err: errors.New("bad request")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "earshot-notify/1")
	req.Header.Set("Authorization", "GenieKey "+ch.dest.routingKey)
	res, err := ch.client.Do(req)
	if err != nil {
		return redact.RequestError(err, "")
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return retry.HTTPAnswer(res, time.Now()) // a 429's Retry-After is waited for, up to retry.MaxWait
}
