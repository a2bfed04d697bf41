package ingest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestBadInput feeds each kind of bad input the issue lists, in the
// canonical shape and the platforms' shapes, and checks it is either refused
// with a reason that says why, or accepted with the documented handling.
// Nothing may be dropped without a trace or crash the reader.
func TestBadInput(t *testing.T) {
	canonical := func(fields string) string {
		return `{"platform":"f","id":"1","text":"hi","created_at":"2026-11-01T10:00:00Z"` + fields + `}`
	}
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	tags := make([]string, 5000)
	for i := range tags {
		tags[i] = fmt.Sprintf(`"t%d"`, i)
	}
	xTags := make([]string, 5000)
	for i := range xTags {
		xTags[i] = fmt.Sprintf(`{"start":0,"end":2,"tag":"t%d"}`, i)
	}
	big := `{"platform":"f","id":"1","created_at":"2026-11-01T10:00:00Z","text":"` + strings.Repeat("a", 10<<20) + `"}`
	jet := func(record string) string {
		return `{"did":"did:plc:a","time_us":1763719200000000,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":` + record + `,"cid":"c"}}`
	}
	tweet := func(data string) string { return `{"data":` + data + `}` }
	for _, c := range []struct {
		name, format, line string
		reason             string                  // a dead letter whose reason holds this
		check              func(*post.Post) string // else accepted; check returns what is wrong
	}{
		{"truncated", FormatAuto, `{"platform":"f","id":"1","te`, "malformed JSON", nil},
		{"malformed", FormatAuto, `{platform: f}`, "malformed JSON", nil},
		{"not an object", FormatAuto, `[1,2,3]`, "unknown shape", nil},
		{"wrong type id", FormatCanonical, `{"platform":"f","id":{},"text":"x","created_at":"2026-11-01T10:00:00Z"}`, "want a string or an integer", nil},
		{"wrong type text", FormatCanonical, canonical(`,"urls":"x"`), "malformed JSON", nil},
		{"wrong type jetstream time_us", FormatBluesky, `{"did":"d","time_us":"soon","kind":"identity"}`, "jetstream event", nil},
		{"wrong type x id", FormatX, tweet(`{"id":{},"text":"x","created_at":"2026-11-01T10:00:00Z"}`), "want a string or an integer", nil},
		{"missing id", FormatAuto, `{"platform":"f","text":"x","created_at":"2026-11-01T10:00:00Z"}`, "has no id", nil},
		{"missing timestamp", FormatAuto, `{"platform":"f","id":"1","text":"x"}`, "has no created_at", nil},
		{"missing createdAt bluesky", FormatAuto, jet(`{"text":"x"}`), "no createdAt", nil},
		{"missing id x", FormatAuto, tweet(`{"text":"x","created_at":"2026-11-01T10:00:00Z"}`), "no id", nil},
		{"missing created_at mastodon", FormatAuto, `{"event":"update","payload":{"id":"5","content":"x"}}`, "no created_at", nil},
		{"invalid UTF-8", FormatAuto, canonical(",\"author\":{\"name\":\"\xff\"}"), "invalid UTF-8 at byte", nil},
		{"lone high surrogate", FormatAuto, canonical(`,"author":{"name":"\ud83d x"}`), "lone surrogate", nil},
		{"lone low surrogate", FormatAuto, jet(`{"text":"\ude00","createdAt":"2026-11-01T10:00:00Z"}`), "lone surrogate", nil},
		{"raw NUL byte", FormatAuto, "{\"platform\":\"f\",\"id\":\"1\",\"text\":\"a\x00b\",\"created_at\":\"2026-11-01T10:00:00Z\"}", "control character", nil},
		{"escaped NUL, control and bidi", FormatAuto, `{"platform":"f","id":"1","text":"a\u0000b\u0007c\u202egnp.exe\td","author":{"handle":"\u202eevil"},"created_at":"2026-11-01T10:00:00Z"}`, "", func(p *post.Post) string {
			if p.Text != "abcgnp.exe\td" || p.Author.Handle != "evil" {
				return fmt.Sprintf("text %q handle %q; want the controls removed", p.Text, p.Author.Handle)
			}
			return ""
		}},
		{"control in id", FormatAuto, `{"platform":"f","id":"1\u202e2","text":"x","created_at":"2026-11-01T10:00:00Z"}`, "control or space", nil},
		{"10 MB post", FormatAuto, big, "over max_post_bytes", nil},
		{"nested 10000 deep", FormatAuto, `{"platform":"f","id":"1","x":` + deep + `}`, "nested more than 64", nil},
		{"nested 10000 deep jetstream", FormatBluesky, jet(deep), "nested more than 64", nil},
		{"5000 hashtags", FormatAuto, canonical(`,"hashtags":[` + strings.Join(tags, ",") + `]`), "5000 hashtags, over the limit 256", nil},
		{"5000 hashtags x", FormatAuto, tweet(`{"id":"1","text":"x","created_at":"2026-11-01T10:00:00Z","entities":{"hashtags":[` + strings.Join(xTags, ",") + `]}}`), "5000 hashtags", nil},
		{"duplicate key", FormatAuto, `{"platform":"f","id":"1","id":"2","text":"x","created_at":"2026-11-01T10:00:00Z"}`, `duplicate key "id"`, nil},
		{"duplicate nested key", FormatAuto, jet(`{"text":"a","text":"b","createdAt":"2026-11-01T10:00:00Z"}`), `duplicate key "text"`, nil},
		{"64-bit id as a number", FormatAuto, `{"platform":"f","id":1377650090978992134,"text":"x","created_at":"2026-11-01T10:00:00Z"}`, "", func(p *post.Post) string {
			if p.ID != "1377650090978992134" { // float64 would give 1377650090978992128
				return "id " + p.ID
			}
			return ""
		}},
		{"64-bit x id as a number", FormatAuto, tweet(`{"id":1377650090978992134,"text":"x","created_at":"2026-11-01T10:00:00Z","referenced_tweets":[{"type":"quoted","id":9007199254740993}]}`), "", func(p *post.Post) string {
			if p.ID != "1377650090978992134" || p.QuoteOf != "x:9007199254740993" {
				return "id " + p.ID + " quote " + p.QuoteOf
			}
			return ""
		}},
		{"id as a float", FormatAuto, `{"platform":"f","id":1.3776500909789921e18,"text":"x","created_at":"2026-11-01T10:00:00Z"}`, "want a string or an integer", nil},
		{"future timestamp", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":"2031-01-01T00:00:00Z"}`, "is in the future", nil},
		{"future bluesky createdAt", FormatAuto, jet(`{"text":"x","createdAt":"2099-01-01T00:00:00Z"}`), "is in the future", nil},
		{"before 1970", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":"1969-12-31T23:59:59Z"}`, "before 1970", nil},
		{"negative unix time", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":-5}`, "before 1970", nil},
		{"unix seconds", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":1763719200}`, "", wantTime("2025-11-21T10:00:00Z")},
		{"unix milliseconds", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":1763719200000}`, "", wantTime("2025-11-21T10:00:00Z")},
		{"unix microseconds", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":1763719200000000}`, "", wantTime("2025-11-21T10:00:00Z")},
		{"not a time", FormatAuto, `{"platform":"f","id":"1","text":"x","created_at":"yesterday"}`, "want RFC 3339", nil},
		{"delete for an unknown post", FormatAuto, `{"event":"delete","payload":"999"}`, "", func(p *post.Post) string {
			if p.Kind != post.KindDelete || p.Key() != "mastodon:999" {
				return fmt.Sprintf("kind %q key %s", p.Kind, p.Key())
			}
			return ""
		}},
		{"mastodon delete with a bad id", FormatAuto, `{"event":"delete","payload":"1; drop"}`, "want digits or letters", nil},
		{"unknown kind", FormatAuto, canonical(`,"kind":"undelete"`), `unknown kind "undelete"`, nil},
		{"jetstream unknown operation", FormatAuto, strings.Replace(jet(`{}`), `"create"`, `"merge"`, 1), `unknown operation "merge"`, nil},
		{"x coordinates out of range", FormatAuto, tweet(`{"id":"1","text":"x","created_at":"2026-11-01T10:00:00Z","geo":{"coordinates":{"type":"Point","coordinates":[500,1]}}}`), "out of range", nil},
		{"trailing garbage", FormatAuto, canonical(``) + ` {}`, "after the top-level value", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, reasons, st := decodeString(t, c.format, c.line+"\n")
			if c.reason != "" {
				if len(ps) != 0 || len(reasons) != 1 || !strings.Contains(reasons[0], c.reason) {
					t.Errorf("posts %d, dead letters %q; want one whose reason holds %q", len(ps), reasons, c.reason)
				}
				if st.Dead != 1 {
					t.Errorf("dead letters counted %d", st.Dead)
				}
				return
			}
			if len(ps) != 1 || len(reasons) != 0 {
				t.Fatalf("posts %d, dead letters %q; want the post", len(ps), reasons)
			}
			if msg := c.check(ps[0]); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func wantTime(s string) func(*post.Post) string {
	return func(p *post.Post) string {
		if got := p.CreatedAt.Format("2006-01-02T15:04:05Z07:00"); got != s {
			return "created_at " + got + ", want " + s
		}
		return ""
	}
}

// TestEditBeforeOriginal: the ingest stage has no memory of posts, so an
// edit that arrives first, or a delete for a post never seen, is passed on
// in order with its kind; the stores downstream apply them by key.
func TestEditBeforeOriginal(t *testing.T) {
	in := `{"kind":"edit","platform":"f","id":"1","text":"v2","created_at":"2026-11-01T10:05:00Z"}
{"platform":"f","id":"1","text":"v1","created_at":"2026-11-01T10:00:00Z"}
{"kind":"delete","platform":"f","id":"404"}
`
	ps, reasons, st := decodeString(t, FormatAuto, in)
	if len(reasons) != 0 || len(ps) != 3 {
		t.Fatalf("posts %d, dead letters %q", len(ps), reasons)
	}
	if ps[0].Kind != post.KindEdit || ps[0].Text != "v2" || ps[1].Kind != "" || ps[2].Kind != post.KindDelete || ps[0].Key() != ps[1].Key() {
		t.Errorf("got %+v %+v %+v", ps[0], ps[1], ps[2])
	}
	if st.Edits != 1 || st.Posts != 1 || st.Deletes != 1 {
		t.Errorf("stats %+v", st)
	}
}
