// Package bluesky reads Bluesky's Jetstream: it decodes Jetstream events
// into canonical posts and follows the Jetstream WebSocket with a cursor.
package bluesky

import (
	"errors"
	"fmt"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

// Platform is the platform name of Bluesky posts.
const Platform = "bluesky"

// event is a Jetstream v1 event; only the fields earshot reads.
type event struct {
	DID    string  `json:"did"`
	TimeUS int64   `json:"time_us"`
	Kind   string  `json:"kind"`
	Commit *commit `json:"commit"`
}

type commit struct {
	Operation  string            `json:"operation"`
	Collection string            `json:"collection"`
	RKey       string            `json:"rkey"`
	Record     gojson.RawMessage `json:"record"` // decoded only for posts and reposts: other collections have shapes of their own
}

// record is a post or a repost record.
type record struct {
	Text      string     `json:"text"`
	CreatedAt string     `json:"createdAt"`
	Subject   *strongRef `json:"subject"` // reposts
	Langs     []string   `json:"langs"`
	Tags      []string   `json:"tags"`
	Reply     *struct {
		Parent strongRef `json:"parent"`
	} `json:"reply"`
	Facets []struct {
		Index struct {
			ByteStart int `json:"byteStart"`
			ByteEnd   int `json:"byteEnd"`
		} `json:"index"`
		Features []struct {
			Type string `json:"$type"`
			URI  string `json:"uri"`
			DID  string `json:"did"`
			Tag  string `json:"tag"`
		} `json:"features"`
	} `json:"facets"`
	Embed *embed `json:"embed"`
}

type embed struct {
	Type     string     `json:"$type"`
	Record   *embedRec  `json:"record"` // embed.record: a strongRef; recordWithMedia: {record: strongRef}
	Media    *embed     `json:"media"`
	Images   []struct{} `json:"images"`
	External *struct {
		URI string `json:"uri"`
	} `json:"external"`
}

// embedRec is a strongRef, or in recordWithMedia an object holding one.
type embedRec struct {
	URI    string     `json:"uri"`
	Record *strongRef `json:"record"`
}

type strongRef struct {
	URI string `json:"uri"`
}

// Decoder turns Jetstream events into canonical posts.
type Decoder struct {
	N      *canon.Normalizer
	Source string // recorded in Post.Source, e.g. "jetstream:jetstream1.us-east.bsky.network"
}

const (
	collPost   = "app.bsky.feed.post"
	collRepost = "app.bsky.feed.repost"
)

// skipKinds names the records that carry no post, for counting; anything
// else is "other" so the set stays bounded.
var skipKinds = map[string]string{
	"app.bsky.feed.like":     "like",
	"app.bsky.graph.follow":  "follow",
	"app.bsky.graph.block":   "block",
	"app.bsky.actor.profile": "profile",
}

// Decode checks raw with canon.Scan, then decodes it.
func (d *Decoder) Decode(raw []byte) (canon.Event, error) {
	if err := canon.Scan(raw); err != nil {
		return canon.Event{}, err
	}
	return d.DecodeScanned(raw)
}

// DecodeScanned decodes an event canon.Scan has accepted.
func (d *Decoder) DecodeScanned(raw []byte) (canon.Event, error) {
	var e event
	if err := gojson.Unmarshal(raw, &e); err != nil {
		return canon.Event{}, fmt.Errorf("jetstream event: %w", err)
	}
	if e.TimeUS <= 0 {
		return canon.Event{}, errors.New("jetstream event: no time_us")
	}
	ev := canon.Event{Cursor: e.TimeUS, At: time.UnixMicro(e.TimeUS).UTC()}
	switch e.Kind {
	case "identity", "account":
		ev.Skip = e.Kind
		return ev, nil
	case "commit":
	default:
		return ev, fmt.Errorf("jetstream event: unknown kind %q", e.Kind)
	}
	c := e.Commit
	if c == nil {
		return ev, errors.New("jetstream commit event: no commit")
	}
	if e.DID == "" || c.RKey == "" {
		return ev, errors.New("jetstream commit: no did or rkey")
	}
	if c.Collection != collPost && c.Collection != collRepost {
		if ev.Skip = skipKinds[c.Collection]; ev.Skip == "" {
			ev.Skip = "other"
		}
		return ev, nil
	}
	p := &post.Post{Platform: Platform, ID: "at://" + e.DID + "/" + c.Collection + "/" + c.RKey, Author: post.Author{ID: e.DID}, Source: d.Source}
	switch c.Operation {
	case "delete":
		p.Kind = post.KindDelete
		p.CreatedAt = ev.At
	case "create", "update":
		var r record
		if len(c.Record) == 0 || string(c.Record) == "null" {
			return ev, fmt.Errorf("jetstream %s %s: no record", c.Operation, p.ID)
		}
		err := gojson.Unmarshal(c.Record, &r)
		if err == nil && c.Collection == collRepost {
			err = decodeRepost(p, &r)
		} else if err == nil {
			err = decodePost(p, &r)
		}
		if err != nil {
			return ev, fmt.Errorf("jetstream %s: %w", p.ID, err)
		}
		if c.Operation == "update" {
			p.Kind = post.KindEdit
		}
	default:
		return ev, fmt.Errorf("jetstream commit %s: unknown operation %q", p.ID, c.Operation)
	}
	if err := d.N.Finish(p); err != nil {
		return ev, err
	}
	ev.Post = p
	return ev, nil
}

func createdAt(r *record) (time.Time, error) {
	if r.CreatedAt == "" {
		return time.Time{}, errors.New("record has no createdAt")
	}
	return canon.ParseTime(r.CreatedAt)
}

func decodeRepost(p *post.Post, r *record) error {
	t, err := createdAt(r)
	if err != nil {
		return fmt.Errorf("repost %w", err)
	}
	if r.Subject == nil || r.Subject.URI == "" {
		return errors.New("repost record has no subject")
	}
	p.CreatedAt = t
	p.RepostOf = Platform + ":" + r.Subject.URI
	return nil
}

func decodePost(p *post.Post, r *record) error {
	t, err := createdAt(r)
	if err != nil {
		return fmt.Errorf("post %w", err)
	}
	p.Text, p.CreatedAt = r.Text, t
	if len(r.Langs) > 0 {
		p.Lang = r.Langs[0]
	}
	if r.Reply != nil && r.Reply.Parent.URI != "" {
		p.ReplyTo = Platform + ":" + r.Reply.Parent.URI
	}
	p.Hashtags = append(p.Hashtags, r.Tags...)
	for _, f := range r.Facets {
		for _, ft := range f.Features {
			switch ft.Type {
			case "app.bsky.richtext.facet#link":
				p.URLs = canon.AppendUnique(p.URLs, ft.URI)
			case "app.bsky.richtext.facet#tag":
				p.Hashtags = canon.AppendUnique(p.Hashtags, ft.Tag)
			case "app.bsky.richtext.facet#mention":
				// The facet covers "@handle" in the text; the handle is what
				// people search for, the DID is the fallback.
				m := ft.DID
				if s, e := f.Index.ByteStart, f.Index.ByteEnd; s >= 0 && s < e && e <= len(r.Text) {
					if h := strings.TrimPrefix(r.Text[s:e], "@"); h != "" {
						m = h
					}
				}
				p.Mentions = canon.AppendUnique(p.Mentions, m)
			}
		}
	}
	if e := r.Embed; e != nil {
		embedInto(p, e)
		if e.Media != nil {
			embedInto(p, e.Media)
		}
	}
	return nil
}

func embedInto(p *post.Post, e *embed) {
	switch e.Type {
	case "app.bsky.embed.images":
		p.Media += len(e.Images)
	case "app.bsky.embed.video":
		p.Media++
	case "app.bsky.embed.external":
		if e.External != nil {
			p.URLs = canon.AppendUnique(p.URLs, e.External.URI)
		}
	case "app.bsky.embed.record", "app.bsky.embed.recordWithMedia":
		if r := e.Record; r != nil {
			uri := r.URI
			if r.Record != nil {
				uri = r.Record.URI
			}
			if strings.Contains(uri, "/"+collPost+"/") {
				p.QuoteOf = Platform + ":" + uri
			}
		}
	}
}

func init() {
	// canon.Scan refuses a key that differs from one of these names only
	// in case: the decoder would read it as the field.
	canon.RegisterFields(event{}, record{})
}
