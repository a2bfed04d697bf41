// Package mastodon reads Mastodon: it decodes statuses and streaming events
// into canonical posts and follows servers' streaming API over SSE.
package mastodon

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

// Platform is the platform name of Mastodon posts.
const Platform = "mastodon"

type status struct {
	ID           canon.ID   `json:"id"`
	CreatedAt    canon.Time `json:"created_at"`
	InReplyToID  canon.ID   `json:"in_reply_to_id"`
	Language     *string    `json:"language"`
	URI          string     `json:"uri"`
	Content      string     `json:"content"`
	SpoilerText  string     `json:"spoiler_text"`
	Reblog       *status    `json:"reblog"`
	RepliesCount int64      `json:"replies_count"`
	ReblogsCount int64      `json:"reblogs_count"`
	FavsCount    int64      `json:"favourites_count"`
	Account      *struct {
		ID          canon.ID `json:"id"`
		Acct        string   `json:"acct"`
		DisplayName string   `json:"display_name"`
		Followers   int64    `json:"followers_count"`
	} `json:"account"`
	Media    []struct{} `json:"media_attachments"`
	Mentions []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Card *struct {
		URL string `json:"url"`
	} `json:"card"`
	Quote *struct {
		QuotedStatus *struct {
			ID canon.ID `json:"id"`
		} `json:"quoted_status"`
	} `json:"quote"`
}

// Decoder turns Mastodon statuses and streaming events into canonical posts.
// Status ids are local to the server that serves them, so posts are keyed
// "server/id" when Server is set: a delete names only the local id.
type Decoder struct {
	N      *canon.Normalizer
	Server string // host the statuses came from, e.g. mastodon.social
	Source string
}

func (d *Decoder) id(local string) string {
	if d.Server == "" || local == "" {
		return local
	}
	return d.Server + "/" + local
}

// Status decodes one status (the body of an update or status.update event,
// or an element of a timeline).
func (d *Decoder) Status(raw []byte) (canon.Event, error) {
	if err := canon.Scan(raw); err != nil {
		return canon.Event{}, err
	}
	return d.status(raw, "")
}

func (d *Decoder) status(raw []byte, kind string) (canon.Event, error) {
	var s status
	if err := gojson.Unmarshal(raw, &s); err != nil {
		return canon.Event{}, fmt.Errorf("mastodon status: %w", err)
	}
	p, err := d.post(&s)
	if err != nil {
		return canon.Event{}, err
	}
	p.Kind = kind
	if err := d.N.Finish(p); err != nil {
		return canon.Event{}, err
	}
	return canon.Event{Post: p, At: p.CreatedAt}, nil
}

func (d *Decoder) post(s *status) (*post.Post, error) {
	if s.ID == "" {
		return nil, errors.New("mastodon status: no id")
	}
	if s.CreatedAt.IsZero() {
		return nil, fmt.Errorf("mastodon status %s: no created_at", s.ID)
	}
	p := &post.Post{Platform: Platform, ID: d.id(string(s.ID)), CreatedAt: s.CreatedAt.Time, Source: d.Source}
	if s.Account != nil {
		p.Author = post.Author{ID: string(s.Account.ID), Handle: s.Account.Acct, Name: s.Account.DisplayName, Followers: s.Account.Followers}
	}
	body := s
	if s.Reblog != nil {
		// A boost has no text of its own; it carries the boosted status,
		// whose text is what the boost spreads and what watchlists match.
		if s.Reblog.ID == "" {
			return nil, fmt.Errorf("mastodon status %s: reblog has no id", s.ID)
		}
		p.RepostOf = Platform + ":" + d.id(string(s.Reblog.ID))
		body = s.Reblog
	}
	var links []string
	p.Text, links = htmlText(body.Content, nil)
	if body.SpoilerText != "" {
		p.Text = body.SpoilerText + "\n\n" + p.Text
	}
	if body.Language != nil {
		p.Lang = *body.Language
	}
	if s.InReplyToID != "" {
		p.ReplyTo = Platform + ":" + d.id(string(s.InReplyToID))
	}
	if q := body.Quote; q != nil && q.QuotedStatus != nil && q.QuotedStatus.ID != "" {
		p.QuoteOf = Platform + ":" + d.id(string(q.QuotedStatus.ID))
	}
	for _, t := range body.Tags {
		p.Hashtags = append(p.Hashtags, t.Name)
	}
	for _, m := range body.Mentions {
		p.Mentions = append(p.Mentions, m.Acct)
	}
	for _, l := range links {
		p.URLs = canon.AppendUnique(p.URLs, l)
	}
	if body.Card != nil {
		p.URLs = canon.AppendUnique(p.URLs, body.Card.URL)
	}
	p.Media = len(body.Media)
	if s.RepliesCount|s.ReblogsCount|s.FavsCount != 0 {
		p.Engagement = &post.Engagement{Replies: s.RepliesCount, Reposts: s.ReblogsCount, Likes: s.FavsCount}
	}
	return p, nil
}

// Event decodes one streaming event: its name and its data as sent over SSE
// (a status as JSON for update and status.update, a bare id for delete).
func (d *Decoder) Event(name string, data []byte) (canon.Event, error) {
	switch name {
	case "update", "status.update":
		kind := ""
		if name == "status.update" {
			kind = post.KindEdit
		}
		if err := canon.Scan(data); err != nil {
			return canon.Event{}, fmt.Errorf("mastodon %s: %w", name, err)
		}
		return d.status(data, kind)
	case "delete":
		id, err := bareID(data)
		if err != nil {
			return canon.Event{}, fmt.Errorf("mastodon delete: %w", err)
		}
		p := &post.Post{Kind: post.KindDelete, Platform: Platform, ID: d.id(id), Source: d.Source}
		if err := d.N.Finish(p); err != nil {
			return canon.Event{}, err
		}
		return canon.Event{Post: p}, nil
	case "notification", "conversation", "announcement", "announcement.reaction", "announcement.delete", "filters_changed", "encrypted_message", "notifications_merged":
		return canon.Event{Skip: name}, nil
	case "":
		return canon.Event{}, errors.New("mastodon event: no event name")
	}
	return canon.Event{Skip: "other"}, nil
}

// bareID reads a delete's id: digits as sent over SSE, or a JSON string or
// integer. It never goes through a float, which would change ids over 2^53.
func bareID(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return "", fmt.Errorf("id %.40q: bad string", b)
		}
		b = []byte(s)
	}
	if len(b) == 0 || len(b) > 64 {
		return "", fmt.Errorf("id %.40q: want 1 to 64 characters", b)
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return "", fmt.Errorf("id %.40q: want digits or letters", b)
		}
	}
	return string(b), nil
}

// line is the NDJSON shape of a streaming event: the WebSocket message
// ({"stream": [...], "event": ..., "payload": "<JSON as a string>"}) or the
// same with the payload inline.
type line struct {
	Event   string            `json:"event"`
	Payload gojson.RawMessage `json:"payload"`
}

// Line decodes one NDJSON line: a streaming event or a bare status.
func (d *Decoder) Line(raw []byte) (canon.Event, error) {
	if err := canon.Scan(raw); err != nil {
		return canon.Event{}, err
	}
	return d.LineScanned(raw)
}

// LineScanned is Line for input canon.Scan has accepted.
func (d *Decoder) LineScanned(raw []byte) (canon.Event, error) {
	var l line
	if err := gojson.Unmarshal(raw, &l); err != nil {
		return canon.Event{}, fmt.Errorf("mastodon event: %w", err)
	}
	if l.Event == "" && len(l.Payload) == 0 {
		return d.status(raw, "")
	}
	data := []byte(l.Payload)
	if len(data) > 0 && data[0] == '"' && l.Event != "delete" {
		var s string
		if err := gojson.Unmarshal(data, &s); err != nil {
			return canon.Event{}, fmt.Errorf("mastodon %s payload: %w", l.Event, err)
		}
		data = []byte(s)
	}
	return d.Event(l.Event, data)
}

func init() {
	// canon.Scan refuses a key that differs from one of these names only
	// in case: the decoder would read it as the field.
	canon.RegisterFields(status{}, line{})
}
