package x

import (
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
)

// Pages that hold no tweets (user and list lookups) and user compliance
// events are counted skips, not empty posts or deletes; twarc's flattened
// tweets (expansions inlined) are posts.
func TestNonTweetShapes(t *testing.T) {
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	d := &Decoder{N: n}
	for _, c := range []struct{ name, line, skip string }{
		{"user lookup page", `{"data":[{"id":"2244994945","name":"X Developers","username":"XDevelopers","created_at":"2013-12-14T04:35:55.000Z","public_metrics":{"followers_count":5}}],"meta":{"result_count":1}}`, "user"},
		{"one user", `{"data":{"id":"1","name":"Ann","username":"ann","created_at":"2013-12-14T04:35:55.000Z"}}`, "user"},
		{"list lookup", `{"data":{"id":"1441162269824405510","name":"my list","member_count":3,"follower_count":0,"owner_id":"2","created_at":"2021-09-23T21:20:42.000Z"}}`, "list"},
		{"list page", `{"data":[{"id":"1","name":"a list"},{"id":"2","name":"another"}],"meta":{"result_count":2}}`, "list"},
		{"user protected", `{"data":{"user_protect":{"user":{"id":"9"},"event_at":"2026-11-01T00:00:00.000Z"}}}`, "user_event"},
		{"user suspended", `{"data":{"user_suspend":{"user":{"id":"9"},"event_at":"2026-11-01T00:00:00.000Z"}}}`, "user_event"},
		{"user deleted", `{"data":{"user_delete":{"user":{"id":"9"},"event_at":"2026-11-01T00:00:00.000Z"}}}`, "user_event"},
	} {
		evs, err := d.Line([]byte(c.line), nil)
		if err != nil || len(evs) == 0 {
			t.Errorf("%s: %+v, %v", c.name, evs, err)
			continue
		}
		for _, ev := range evs {
			if ev.Post != nil || ev.Skip != c.skip {
				t.Errorf("%s: post %+v, skip %q; want skip %q", c.name, ev.Post, ev.Skip, c.skip)
			}
		}
	}

	flat := `{"id":"15","text":"hello @acme","created_at":"2026-11-01T10:00:00.000Z","author_id":"7","lang":"en",` +
		`"author":{"id":"7","username":"ann","name":"Ann","location":"Athens","public_metrics":{"followers_count":12}},` +
		`"public_metrics":{"like_count":3,"retweet_count":1,"reply_count":0,"quote_count":0},` +
		`"entities":{"mentions":[{"username":"acme"}]},"__twarc":{"url":"https://api.twitter.com/2/tweets/search/recent","version":"2.0.0","retrieved_at":"2026-11-01T10:01:00+00:00"}}`
	evs, err := d.Line([]byte(flat), nil)
	if err != nil || len(evs) != 1 || evs[0].Post == nil {
		t.Fatalf("twarc flattened: %+v, %v", evs, err)
	}
	p := evs[0].Post
	if p.ID != "15" || p.Text != "hello @acme" || p.Author.Handle != "ann" || p.Author.Followers != 12 || p.Author.Location != "Athens" || p.Engagement == nil || p.Engagement.Likes != 3 || len(p.Mentions) != 1 {
		t.Errorf("twarc flattened post = %+v (author %+v)", p, p.Author)
	}
}

// An X id is digits: a delete of "../x" is refused, not passed on.
func TestXIDsAreDigits(t *testing.T) {
	d := &Decoder{N: canon.NewNormalizer()}
	for _, line := range []string{
		`{"data":{"delete":{"tweet":{"id":"../x"},"event_at":"2026-11-01T00:00:00.000Z"}}}`,
		`{"id":"../x","action":"delete","created_at":"2026-11-01T00:00:00.000Z"}`,
		`{"data":{"id":"1a","text":"t","created_at":"2026-11-01T00:00:00.000Z"}}`,
	} {
		if evs, err := d.Line([]byte(line), nil); err == nil {
			t.Errorf("%s: %+v, want it refused", line, evs)
		}
	}
}
