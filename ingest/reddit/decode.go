// Package reddit reads Reddit comments and submissions: the objects of the
// API (things {"kind": "t1", "data": …} and listing pages of them) and the
// common dump format, one comment or submission object per line.
package reddit

import (
	"errors"
	"fmt"
	"strings"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

// Platform is the platform name of Reddit posts.
const Platform = "reddit"

// maxDepth bounds listings nested in listings.
const maxDepth = 4

// object is a comment (t1) or a submission (t3), as the API's data and the
// dumps hold them.
type object struct {
	ID          canon.ID   `json:"id"`
	Name        string     `json:"name"` // the fullname: t1_… or t3_…
	Author      string     `json:"author"`
	AuthorFull  string     `json:"author_fullname"`
	Body        *string    `json:"body"` // comments
	Title       *string    `json:"title"`
	Selftext    string     `json:"selftext"`
	URL         string     `json:"url"`
	IsSelf      bool       `json:"is_self"`
	CreatedUTC  canon.Time `json:"created_utc"`
	Subreddit   string     `json:"subreddit"`
	Score       int64      `json:"score"`
	NumComments int64      `json:"num_comments"`
	ParentID    string     `json:"parent_id"`
	LinkID      string     `json:"link_id"`
	RemovedBy   *string    `json:"removed_by_category"`
}

// thing is the API's envelope: a t1/t3 object, or a Listing of things.
type thing struct {
	Kind string            `json:"kind"`
	Data gojson.RawMessage `json:"data"`
}

type listing struct {
	Children []thing `json:"children"`
}

// Decoder turns Reddit lines into canonical posts.
type Decoder struct {
	N      *canon.Normalizer
	Source string
}

// LineScanned decodes a line canon.Scan has accepted: a thing, a listing,
// or a dump object.
func (d *Decoder) LineScanned(raw []byte, out []canon.Event) ([]canon.Event, error) {
	var t thing
	if err := gojson.Unmarshal(raw, &t); err != nil {
		return out, fmt.Errorf("reddit line: %w", err)
	}
	if t.Kind == "" {
		return d.object(raw, "", out)
	}
	return d.thing(&t, out, 0)
}

func (d *Decoder) thing(t *thing, out []canon.Event, depth int) ([]canon.Event, error) {
	switch t.Kind {
	case "Listing":
		if depth >= maxDepth {
			return out, errors.New("reddit listing: nested too deep")
		}
		var l listing
		if err := gojson.Unmarshal(t.Data, &l); err != nil {
			return out, fmt.Errorf("reddit listing: %w", err)
		}
		if len(l.Children) == 0 {
			return append(out, canon.Event{Skip: "empty_listing"}), nil
		}
		for i := range l.Children {
			var err error
			if out, err = d.thing(&l.Children[i], out, depth+1); err != nil {
				return out, err
			}
		}
		return out, nil
	case "t1", "t3":
		return d.object(t.Data, t.Kind, out)
	case "more":
		return append(out, canon.Event{Skip: "more"}), nil // "load more comments": ids, no post
	}
	// t2 accounts, t4 messages, t5 subreddits…: not posts
	return append(out, canon.Event{Skip: "not_a_post"}), nil
}

// object decodes a comment or a submission; kind is t1 or t3 when the
// envelope said so, else it is told from the fields.
func (d *Decoder) object(raw []byte, kind string, out []canon.Event) ([]canon.Event, error) {
	var o object
	if err := gojson.Unmarshal(raw, &o); err != nil {
		return out, fmt.Errorf("reddit object: %w", err)
	}
	if kind == "" {
		switch {
		case strings.HasPrefix(o.Name, "t1_") || o.Body != nil:
			kind = "t1"
		case strings.HasPrefix(o.Name, "t3_") || o.Title != nil:
			kind = "t3"
		default:
			return out, errors.New("reddit object: neither a comment (body) nor a submission (title)")
		}
	}
	id := string(o.ID)
	if id == "" {
		id = strings.TrimPrefix(strings.TrimPrefix(o.Name, "t1_"), "t3_")
	}
	if id == "" || !base36(id) {
		return out, fmt.Errorf("reddit %s: id %.64q is not a Reddit id", kind, id)
	}
	p := &post.Post{Platform: Platform, ID: kind + "_" + id, CreatedAt: o.CreatedUTC.Time, Source: d.Source, Community: o.Subreddit}
	text := ""
	if kind == "t1" && o.Body != nil {
		text = *o.Body
	} else if kind == "t3" && o.Title != nil {
		text = *o.Title
		if o.Selftext != "" {
			text += "\n\n" + o.Selftext
		}
	}
	// A deleted or removed post keeps its id but loses its text: it is a
	// delete of what was heard before.
	gone := text == "[deleted]" || text == "[removed]" || kind == "t3" && (o.Selftext == "[deleted]" || o.Selftext == "[removed]") ||
		o.RemovedBy != nil && *o.RemovedBy != ""
	if gone {
		p.Kind, p.Text = post.KindDelete, ""
		if err := d.N.Finish(p); err != nil {
			return out, err
		}
		return append(out, canon.Event{Post: p, At: p.CreatedAt}), nil
	}
	if o.CreatedUTC.IsZero() {
		return out, fmt.Errorf("reddit %s %s: no created_utc", kind, id)
	}
	p.Text = text
	if o.Author != "[deleted]" {
		p.Author.Handle, p.Author.ID = o.Author, o.AuthorFull
	}
	if p.Author.ID == "" {
		p.Author.ID = o.Author
	}
	switch {
	case kind == "t1" && o.ParentID != "":
		p.ReplyTo = Platform + ":" + o.ParentID // t1_… a comment, t3_… the submission
	}
	if kind == "t3" && !o.IsSelf && o.URL != "" {
		p.URLs = []string{o.URL}
	}
	p.Engagement = &post.Engagement{Likes: max(0, o.Score), Replies: max(0, o.NumComments)}
	if err := d.N.Finish(p); err != nil {
		return out, err
	}
	return append(out, canon.Event{Post: p, At: p.CreatedAt}), nil
}

// base36 reports whether s is a Reddit id: lower-case letters and digits.
func base36(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return len(s) <= 16
}
