// Package x reads the X (Twitter) API v2: it decodes filtered-stream lines
// and compliance events into canonical posts and follows the filtered
// stream over a long-lived HTTP response.
package x

import (
	"errors"
	"fmt"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

// Platform is the platform name of X posts.
const Platform = "x"

type tweet struct {
	ID          canon.ID   `json:"id"`
	Text        string     `json:"text"`
	AuthorID    canon.ID   `json:"author_id"`
	CreatedAt   canon.Time `json:"created_at"`
	Lang        string     `json:"lang"`
	EditHistory []canon.ID `json:"edit_history_tweet_ids"`
	Referenced  []struct {
		Type string   `json:"type"`
		ID   canon.ID `json:"id"`
	} `json:"referenced_tweets"`
	Entities  *entities `json:"entities"`
	NoteTweet *struct {
		Text     string    `json:"text"`
		Entities *entities `json:"entities"`
	} `json:"note_tweet"`
	Geo *struct {
		PlaceID     string `json:"place_id"`
		Coordinates *struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"` // [lon, lat]
		} `json:"coordinates"`
	} `json:"geo"`
	Metrics *struct {
		Retweets int64 `json:"retweet_count"`
		Replies  int64 `json:"reply_count"`
		Likes    int64 `json:"like_count"`
		Quotes   int64 `json:"quote_count"`
	} `json:"public_metrics"`
	Attachments *struct {
		MediaKeys []string `json:"media_keys"`
	} `json:"attachments"`
	// A user (lookup) has a username, a list a name; a tweet has neither.
	Username string `json:"username"`
	Name     string `json:"name"`
}

// notTweet names what a data object without text is: "user" or "list"
// (lookup pages), or "" for a tweet.
func (t *tweet) notTweet() string {
	switch {
	case t.Text != "" || t.NoteTweet != nil:
		return ""
	case t.Username != "":
		return "user"
	case t.Name != "":
		return "list"
	}
	return ""
}

// flat is what twarc's flattened export adds to a tweet: its expansions
// inlined (the author; the place under geo).
type flat struct {
	Author *user `json:"author"`
	Geo    *struct {
		place
		PlaceID string `json:"place_id"`
	} `json:"geo"`
}

type entities struct {
	URLs []struct {
		URL         string `json:"url"`
		ExpandedURL string `json:"expanded_url"`
	} `json:"urls"`
	Hashtags []struct {
		Tag string `json:"tag"`
	} `json:"hashtags"`
	Mentions []struct {
		Username string `json:"username"`
	} `json:"mentions"`
}

type user struct {
	ID       canon.ID `json:"id"`
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Location string   `json:"location"`
	Verified bool     `json:"verified"`
	Metrics  *struct {
		Followers int64 `json:"followers_count"`
	} `json:"public_metrics"`
}

type place struct {
	ID          string `json:"id"`
	FullName    string `json:"full_name"`
	CountryCode string `json:"country_code"`
	Geo         struct {
		BBox []float64 `json:"bbox"` // [west, south, east, north]
	} `json:"geo"`
}

// line is one line of the filtered stream (or a search or lookup response:
// data may be one tweet or a list), a compliance stream event, or a batch
// compliance result.
type line struct {
	Data     gojson.RawMessage `json:"data"`
	Includes *struct {
		Users  []user  `json:"users"`
		Places []place `json:"places"`
	} `json:"includes"`
	Errors []struct {
		Title string `json:"title"`
	} `json:"errors"`
	// batch compliance result: {"id", "action": "delete", "created_at", "reason"}
	ID        canon.ID   `json:"id"`
	Action    string     `json:"action"`
	CreatedAt canon.Time `json:"created_at"`
}

// compliance is the data of a compliance stream event.
type compliance struct {
	Delete *struct {
		Tweet struct {
			ID canon.ID `json:"id"`
		} `json:"tweet"`
		EventAt canon.Time `json:"event_at"`
	} `json:"delete"`
	// User events (user_protect, user_suspend, user_delete…) name a user,
	// not a tweet: a protected or suspended user's posts are hidden, not
	// deleted, so they are counted (skip kind user_event), never deletes.
}

// userEvents are the compliance stream's events about users.
var userEvents = []string{"user_delete", "user_undelete", "user_protect", "user_unprotect", "user_suspend", "user_unsuspend", "user_withheld", "user_profile_modification", "scrub_geo"}

// Decoder turns X API v2 lines into canonical posts.
type Decoder struct {
	N      *canon.Normalizer
	Source string
}

// noLang are X's codes for a tweet without linguistic content (only a URL,
// media, hashtags…); they are not languages.
var noLang = map[string]bool{"und": true, "qam": true, "qct": true, "qht": true, "qme": true, "qst": true, "zxx": true, "art": true}

// Line checks raw with canon.Scan and decodes it; out is appended to.
func (d *Decoder) Line(raw []byte, out []canon.Event) ([]canon.Event, error) {
	if err := canon.Scan(raw); err != nil {
		return out, err
	}
	return d.LineScanned(raw, out)
}

// LineScanned is Line for input canon.Scan has accepted. A line with
// several tweets yields an event per tweet; a tweet that fails fails the
// line, since the line is what becomes a dead letter.
func (d *Decoder) LineScanned(raw []byte, out []canon.Event) ([]canon.Event, error) {
	var l line
	if err := gojson.Unmarshal(raw, &l); err != nil {
		return out, fmt.Errorf("x line: %w", err)
	}
	switch {
	case l.Action != "":
		return d.batchCompliance(&l, out)
	case (len(l.Data) == 0 || string(l.Data) == "null") && len(l.Errors) == 0 && l.ID != "":
		// twarc's flattened export: a tweet per line, expansions inlined
		return d.flattened(raw, out)
	case len(l.Data) == 0 || string(l.Data) == "null":
		if len(l.Errors) > 0 {
			// operational-disconnect and the like: the stream says why it ends
			return append(out, canon.Event{Skip: "error"}), nil
		}
		return out, errors.New("x line: no data, errors or compliance action")
	case l.Data[0] == '[':
		var ts []tweet
		if err := gojson.Unmarshal(l.Data, &ts); err != nil {
			return out, fmt.Errorf("x data: %w", err)
		}
		if len(ts) == 0 {
			return out, errors.New("x data: empty list")
		}
		for i := range ts {
			if kind := ts[i].notTweet(); kind != "" {
				out = append(out, canon.Event{Skip: kind}) // a user or list lookup page
				continue
			}
			ev, err := d.tweet(&ts[i], &l)
			if err != nil {
				return out, err
			}
			out = append(out, ev)
		}
		return out, nil
	}
	var c compliance
	if err := gojson.Unmarshal(l.Data, &c); err == nil && c.Delete != nil {
		return d.delete(string(c.Delete.Tweet.ID), c.Delete.EventAt.Time, out)
	}
	var t tweet
	if err := gojson.Unmarshal(l.Data, &t); err != nil {
		return out, fmt.Errorf("x data: %w", err)
	}
	if kind := t.notTweet(); kind != "" {
		return append(out, canon.Event{Skip: kind}), nil
	}
	if t.ID == "" && t.Text == "" && t.CreatedAt.IsZero() {
		var ev map[string]gojson.RawMessage
		if gojson.Unmarshal(l.Data, &ev) == nil {
			for _, k := range userEvents {
				if _, ok := ev[k]; ok {
					return append(out, canon.Event{Skip: "user_event"}), nil
				}
			}
		}
		// other compliance events (tweet_edit, withheld, drop…) name
		// themselves by their only key; none carries a post.
		return append(out, canon.Event{Skip: "compliance"}), nil
	}
	ev, err := d.tweet(&t, &l)
	if err != nil {
		return out, err
	}
	return append(out, ev), nil
}

// digits reports whether s is a non-empty run of ASCII digits, as every X
// id is.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// flattened decodes a tweet of twarc's flattened export (twarc2 flatten):
// the tweet's fields at the top level, with its author and place inlined.
func (d *Decoder) flattened(raw []byte, out []canon.Event) ([]canon.Event, error) {
	var t tweet
	var f flat
	if err := gojson.Unmarshal(raw, &t); err != nil {
		return out, fmt.Errorf("x flattened tweet: %w", err)
	}
	if err := gojson.Unmarshal(raw, &f); err != nil {
		return out, fmt.Errorf("x flattened tweet: %w", err)
	}
	if kind := t.notTweet(); kind != "" {
		return append(out, canon.Event{Skip: kind}), nil
	}
	var l line
	l.Includes = &struct {
		Users  []user  `json:"users"`
		Places []place `json:"places"`
	}{}
	if f.Author != nil {
		if f.Author.ID == "" {
			f.Author.ID = t.AuthorID
		}
		l.Includes.Users = append(l.Includes.Users, *f.Author)
	}
	if f.Geo != nil && f.Geo.PlaceID != "" {
		pl := f.Geo.place
		pl.ID = f.Geo.PlaceID
		l.Includes.Places = append(l.Includes.Places, pl)
	}
	ev, err := d.tweet(&t, &l)
	if err != nil {
		return out, err
	}
	return append(out, ev), nil
}

func (d *Decoder) batchCompliance(l *line, out []canon.Event) ([]canon.Event, error) {
	if l.Action != "delete" {
		return append(out, canon.Event{Skip: "compliance"}), nil
	}
	return d.delete(string(l.ID), l.CreatedAt.Time, out)
}

// UserResultScanned decodes a line of the results of a batch compliance
// job of type users ({"id", "action", "created_at", "redacted_at",
// "reason"}, as a tweets job's, but id is a user's and created_at the
// account's). A user that was deleted, deactivated, suspended or protected
// is a user event: counted (skip kind user_event), never a delete of the
// tweet that happens to have the same id. Its posts are not deleted here
// either, as with the compliance stream's user events (docs/ingest.md).
func (d *Decoder) UserResultScanned(raw []byte, out []canon.Event) ([]canon.Event, error) {
	var l line
	if err := gojson.Unmarshal(raw, &l); err != nil {
		return out, fmt.Errorf("x user compliance result: %w", err)
	}
	switch {
	case l.ID == "":
		return out, errors.New("x user compliance result: no user id")
	case !digits(string(l.ID)):
		return out, fmt.Errorf("x user compliance result: user id %.64q is not an X id (digits)", string(l.ID))
	case l.Action == "":
		return out, errors.New("x user compliance result: no action")
	}
	return append(out, canon.Event{Skip: "user_event"}), nil
}

func (d *Decoder) delete(id string, at time.Time, out []canon.Event) ([]canon.Event, error) {
	if id == "" {
		return out, errors.New("x delete: no tweet id")
	}
	if !digits(id) {
		return out, fmt.Errorf("x delete: tweet id %.64q is not an X id (digits)", id)
	}
	p := &post.Post{Kind: post.KindDelete, Platform: Platform, ID: id, CreatedAt: at, Source: d.Source}
	if err := d.N.Finish(p); err != nil {
		return out, err
	}
	return append(out, canon.Event{Post: p, At: at}), nil
}

func (d *Decoder) tweet(t *tweet, l *line) (canon.Event, error) {
	if t.ID == "" {
		return canon.Event{}, errors.New("x tweet: no id")
	}
	if !digits(string(t.ID)) {
		return canon.Event{}, fmt.Errorf("x tweet: id %.64q is not an X id (digits)", string(t.ID))
	}
	if t.CreatedAt.IsZero() {
		return canon.Event{}, fmt.Errorf("x tweet %s: no created_at", t.ID)
	}
	p := &post.Post{Platform: Platform, ID: string(t.ID), Text: t.Text, CreatedAt: t.CreatedAt.Time, Source: d.Source}
	if len(t.EditHistory) > 1 && t.EditHistory[0] != t.ID {
		// An edit is a new tweet id; the first id of the history is the post
		// the edit replaces, and its key is what downstream holds.
		p.Kind, p.ID = post.KindEdit, string(t.EditHistory[0])
	}
	if !noLang[t.Lang] {
		p.Lang = t.Lang
	}
	ents := t.Entities
	if t.NoteTweet != nil && t.NoteTweet.Text != "" { // long posts: text is cut, note_tweet is whole
		p.Text = t.NoteTweet.Text
		if t.NoteTweet.Entities != nil {
			ents = t.NoteTweet.Entities
		}
	}
	for _, r := range t.Referenced {
		key := Platform + ":" + string(r.ID)
		switch r.Type {
		case "replied_to":
			p.ReplyTo = key
		case "quoted":
			p.QuoteOf = key
		case "retweeted":
			p.RepostOf = key
		}
	}
	if ents != nil {
		for _, u := range ents.URLs {
			if u.ExpandedURL != "" {
				p.URLs = append(p.URLs, u.ExpandedURL)
			} else if u.URL != "" {
				p.URLs = append(p.URLs, u.URL)
			}
		}
		for _, h := range ents.Hashtags {
			p.Hashtags = append(p.Hashtags, h.Tag)
		}
		for _, m := range ents.Mentions {
			p.Mentions = append(p.Mentions, m.Username)
		}
	}
	if t.Metrics != nil {
		m := t.Metrics
		p.Engagement = &post.Engagement{Likes: m.Likes, Reposts: m.Retweets, Replies: m.Replies, Quotes: m.Quotes}
	}
	if t.Attachments != nil {
		p.Media = len(t.Attachments.MediaKeys)
	}
	p.Author.ID = string(t.AuthorID)
	if l.Includes != nil {
		for i := range l.Includes.Users {
			if u := &l.Includes.Users[i]; u.ID == t.AuthorID && u.ID != "" {
				p.Author.Handle, p.Author.Name, p.Author.Location, p.Author.Verified = u.Username, u.Name, u.Location, u.Verified
				if u.Metrics != nil {
					p.Author.Followers = u.Metrics.Followers
				}
				break
			}
		}
	}
	if g := t.Geo; g != nil {
		var geo post.Geo
		if c := g.Coordinates; c != nil && len(c.Coordinates) == 2 {
			geo.Lon, geo.Lat = c.Coordinates[0], c.Coordinates[1]
			if geo.Lat < -90 || geo.Lat > 90 || geo.Lon < -180 || geo.Lon > 180 {
				return canon.Event{}, fmt.Errorf("x tweet %s: coordinates %v out of range", t.ID, c.Coordinates)
			}
		}
		if l.Includes != nil && g.PlaceID != "" {
			for _, pl := range l.Includes.Places {
				if pl.ID == g.PlaceID {
					geo.Place, geo.Country = pl.FullName, pl.CountryCode
					if b := pl.Geo.BBox; len(b) == 4 && (g.Coordinates == nil || len(g.Coordinates.Coordinates) != 2) {
						// a place without a point: its centre, so lat/lon are never a made-up 0,0
						geo.Lon, geo.Lat = (b[0]+b[2])/2, (b[1]+b[3])/2
					}
					p.Country = pl.CountryCode
					break
				}
			}
		}
		if geo != (post.Geo{}) {
			p.Geo = &geo
		}
	}
	if err := d.N.Finish(p); err != nil {
		return canon.Event{}, err
	}
	return canon.Event{Post: p, At: p.CreatedAt}, nil
}

func init() {
	// canon.Scan refuses a key that differs from one of these names only
	// in case: the decoder would read it as the field.
	canon.RegisterFields(line{}, tweet{}, compliance{})
}
