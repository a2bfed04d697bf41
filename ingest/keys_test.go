package ingest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/ingest/canon"
)

// TestKeysDecodedExactly is issue 16's duplicate keys by escape or case: a
// key spelt with an escape is the same key once unescaped, and a key that
// differs from a field's name only in case is not that field (the JSON
// decoders match names case-insensitively, so it would be read as the
// field). Either is a dead letter that says why, in every format, never a
// post whose text is the second spelling's.
func TestKeysDecodedExactly(t *testing.T) {
	canonical := func(fields string) string {
		return `{"platform":"f","id":"1","created_at":"2026-11-01T10:00:00Z",` + fields + `}`
	}
	jet := func(record string) string {
		return `{"did":"did:plc:a","time_us":1763719200000000,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":` + record + `,"cid":"c"}}`
	}
	masto := func(fields string) string {
		return `{"event":"update","payload":{"id":"5","created_at":"2026-11-01T10:00:00Z","account":{"acct":"a"},` + fields + `}}`
	}
	tweet := func(fields string) string {
		return `{"data":{"id":"7","created_at":"2026-11-01T10:00:00Z",` + fields + `}}`
	}
	dec := NewDecoder(FormatAuto, "test", canon.NewNormalizer())
	for _, c := range []struct{ name, line, reason string }{
		{"escaped duplicate", canonical(`"text":"harmless","t\u0065xt":"acme lawsuit fraud"`), "duplicate key"},
		{"escaped duplicate, escaped first", canonical(`"\u0074ext":"harmless","text":"acme lawsuit fraud"`), "duplicate key"},
		{"upper-case duplicate", canonical(`"text":"harmless","TEXT":"acme lawsuit fraud"`), "duplicate key"},
		{"title-case duplicate", canonical(`"text":"harmless","Text":"acme lawsuit fraud"`), "duplicate key"},
		{"escaped upper-case duplicate", canonical(`"text":"harmless","\u0054EXT":"acme lawsuit fraud"`), "duplicate key"},
		{"Kelvin sign duplicate", canonical(`"text":"harmless","author":{"handle":"a","\u212aey":1,"key":2}`), "duplicate key"},
		{"lone upper-case field", canonical(`"TEXT":"acme lawsuit fraud"`), "not the field"},
		{"lone title-case nested field", canonical(`"text":"x","author":{"Handle":"ceo"}`), "not the field"},
		{"escaped duplicate jetstream", jet(`{"text":"harmless","t\u0065xt":"acme lawsuit fraud","createdAt":"2026-11-01T10:00:00Z"}`), "duplicate key"},
		{"case duplicate jetstream", jet(`{"text":"harmless","Text":"acme lawsuit fraud","createdAt":"2026-11-01T10:00:00Z"}`), "duplicate key"},
		{"lower-cased camel field jetstream", jet(`{"text":"x","createdat":"2026-11-01T10:00:00Z"}`), "not the field"},
		{"escaped duplicate mastodon", masto(`"content":"harmless","c\u006fntent":"acme lawsuit fraud"`), "duplicate key"},
		{"case duplicate mastodon", masto(`"content":"harmless","CONTENT":"acme lawsuit fraud"`), "duplicate key"},
		{"escaped duplicate x", tweet(`"text":"harmless","\u0074\u0065\u0078\u0074":"acme lawsuit fraud"`), "duplicate key"},
		{"case duplicate x", tweet(`"text":"harmless","tExt":"acme lawsuit fraud"`), "duplicate key"},
		{"case duplicate in a big object", canonical(manyKeys(40) + `,"text":"harmless","TEXT":"acme lawsuit fraud"`), "duplicate key"},
	} {
		evs, err := dec.Decode([]byte(c.line), nil)
		if err == nil {
			var texts []string
			for _, ev := range evs {
				if ev.Post != nil {
					texts = append(texts, ev.Post.Text)
				}
			}
			t.Errorf("%s: accepted, texts %q; want a dead letter (%s)", c.name, texts, c.reason)
			continue
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: refused with %q, want a reason with %q", c.name, err, c.reason)
		}
	}
	// What is not a duplicate still decodes: keys that only look alike,
	// unknown keys in any case (but two that fold to one are a duplicate,
	// whether a decoder reads them or not), escapes in keys and values.
	for _, line := range []string{
		canonical(`"text":"acme","texts":"x","TEXTZ":1`),
		canonical(`"text":"a\u0063me","Unknown":1,"unknow\u006e2":2,"\u00e9t\u00e9":3,"ÉTÉ2":4`),
		jet(`{"text":"acme","createdAt":"2026-11-01T10:00:00Z","$type":"app.bsky.feed.post"}`),
		canonical(`"text":"acme",` + manyKeys(40)),
	} {
		if _, err := dec.Decode([]byte(line), nil); err != nil {
			t.Errorf("%.80s…: %v", line, err)
		}
	}
}

func manyKeys(n int) string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	return strings.Join(ks, ",")
}
