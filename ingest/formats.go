package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/bluesky"
	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/mastodon"
	"github.com/earshot-dev/earshot/ingest/reddit"
	"github.com/earshot-dev/earshot/ingest/x"
	"github.com/earshot-dev/earshot/post"
)

// Formats a file line may be in. Auto tells them apart line by line from
// the top-level keys, so one file may mix them.
const (
	FormatAuto      = "auto"
	FormatCanonical = "canonical" // a post as in docs/posts.md, or a wire item {"v": 1, "post": …}
	FormatBluesky   = "bluesky"   // a Jetstream event
	FormatMastodon  = "mastodon"  // a status, or a streaming event {"event": …, "payload": …}
	FormatX         = "x"         // an X API v2 stream line, compliance event or result
	FormatReddit    = "reddit"    // a comment or submission: an API thing or listing, or a dump object
	// FormatXUsers is the result file of an X batch compliance job of type
	// users: its lines have the shape of a tweets job's results, so only
	// the format can say that their ids are users'.
	FormatXUsers = "x-users"
)

var formats = []string{FormatAuto, FormatCanonical, FormatBluesky, FormatMastodon, FormatX, FormatReddit, FormatXUsers}

func validFormat(f string) bool {
	for _, o := range formats {
		if f == o {
			return true
		}
	}
	return false
}

// Decoder turns one line in any supported format into events.
type Decoder struct {
	Format   string
	N        *canon.Normalizer
	bluesky  bluesky.Decoder
	mastodon mastodon.Decoder
	x        x.Decoder
	reddit   reddit.Decoder
}

// NewDecoder returns a decoder for format; source is recorded in each post.
func NewDecoder(format, source string, n *canon.Normalizer) *Decoder {
	return &Decoder{
		Format:   format,
		N:        n,
		bluesky:  bluesky.Decoder{N: n, Source: source},
		mastodon: mastodon.Decoder{N: n, Source: source},
		x:        x.Decoder{N: n, Source: source},
		reddit:   reddit.Decoder{N: n, Source: source},
	}
}

// canonical is a post whose id and times may also come as numbers; the
// fields here shadow the embedded post's.
type canonical struct {
	post.Post
	ID         canon.ID   `json:"id"`
	CreatedAt  canon.Time `json:"created_at"`
	IngestedAt canon.Time `json:"ingested_at"`
}

// Decode appends the events of one line to out. An error is the reason the
// line is refused.
func (d *Decoder) Decode(raw []byte, out []canon.Event) ([]canon.Event, error) {
	keys, err := canon.ScanKeys(raw)
	if err != nil {
		return out, err
	}
	f := d.Format
	if f == FormatAuto {
		if f = detect(keys); f == "" {
			return out, errors.New("unknown shape: not a canonical post, Jetstream event, Mastodon status or event, X line, or Reddit comment or submission")
		}
	} else if !fits(f, keys) {
		// A forced format reads what has its shape; anything else would
		// come out as an empty post.
		if g := detect(keys); g != "" {
			return out, fmt.Errorf("not a %s record (the format is set to %s): the line looks like %s", f, f, g)
		}
		return out, fmt.Errorf("not a %s record (the format is set to %s): unknown shape", f, f)
	}
	var ev canon.Event
	switch f {
	case FormatCanonical:
		ev, err = d.canonical(raw, keys)
	case FormatBluesky:
		ev, err = d.bluesky.DecodeScanned(raw)
	case FormatMastodon:
		ev, err = d.mastodon.LineScanned(raw)
	case FormatX:
		return d.x.LineScanned(raw, out)
	case FormatXUsers:
		return d.x.UserResultScanned(raw, out)
	case FormatReddit:
		return d.reddit.LineScanned(raw, out)
	default:
		return out, fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		return out, err
	}
	return append(out, ev), nil
}

// detect names the format of a line by its top-level keys: the first that
// fits, in this order.
func detect(k canon.Keys) string {
	for _, f := range []string{FormatCanonical, FormatBluesky, FormatMastodon, FormatReddit, FormatX} {
		if fits(f, k) {
			return f
		}
	}
	return ""
}

// fits reports whether a line with top-level keys k has the shape of format f.
func fits(f string, k canon.Keys) bool {
	switch f {
	case FormatCanonical:
		return k&canon.KeyPlatform != 0 || k&(canon.KeyV|canon.KeyPost) == canon.KeyV|canon.KeyPost
	case FormatBluesky:
		return k&canon.KeyDID != 0 && k&(canon.KeyTimeUS|canon.KeyCommit) != 0
	case FormatMastodon:
		return k&canon.KeyEvent != 0 || k&(canon.KeyAccount|canon.KeyContent) == canon.KeyAccount|canon.KeyContent
	case FormatReddit:
		// a dump object names its subreddit; an API thing or listing is
		// {"kind", "data"} (X lines have no kind)
		return k&canon.KeySubreddit != 0 || k&(canon.KeyKind|canon.KeyData) == canon.KeyKind|canon.KeyData
	case FormatXUsers:
		return k&(canon.KeyAction|canon.KeyID) == canon.KeyAction|canon.KeyID && k&(canon.KeyData|canon.KeyKind|canon.KeySubreddit) == 0
	case FormatX:
		if k&(canon.KeyKind|canon.KeySubreddit) != 0 {
			return false // no X line has these: a Reddit listing is not an X page
		}
		return k&(canon.KeyData|canon.KeyErrors) != 0 || k&(canon.KeyAction|canon.KeyID) == canon.KeyAction|canon.KeyID ||
			k&canon.KeyID != 0 && k&(canon.KeyAuthorID|canon.KeyTwarc) != 0 // twarc's flattened export
	}
	return false
}

func (d *Decoder) canonical(raw []byte, keys canon.Keys) (canon.Event, error) {
	if keys&canon.KeyPlatform == 0 && keys&canon.KeyPost != 0 {
		it, err := post.Decode(raw)
		if err != nil {
			return canon.Event{}, err
		}
		if err := d.N.Finish(it.Post); err != nil {
			return canon.Event{}, err
		}
		return canon.Event{Post: it.Post, At: it.Post.CreatedAt}, nil
	}
	// Nearly every line has a string id and RFC 3339 times and decodes
	// straight into a post; the flexible shape is the slower fallback.
	p := new(post.Post)
	if err := gojson.Unmarshal(raw, p); err != nil {
		var c canonical
		if err := gojson.Unmarshal(raw, &c); err != nil {
			return canon.Event{}, fmt.Errorf("malformed JSON: %w", err)
		}
		p = &c.Post
		p.ID, p.CreatedAt, p.IngestedAt = string(c.ID), c.CreatedAt.Time, c.IngestedAt.Time
	}
	if err := d.N.Finish(p); err != nil {
		return canon.Event{}, err
	}
	return canon.Event{Post: p, At: p.CreatedAt}, nil
}

func init() {
	// The names the canonical decoders read (a post, and the wire form of
	// an item), so that canon.Scan refuses a key that is one of them but
	// for case (see canon.RegisterFields).
	canon.RegisterFields(post.Item{}, canonical{})
}

// literalText returns the values of every "text" key of raw, joined by
// newlines, and true, when every post text Decode would make of raw is one
// of them byte for byte: raw is valid UTF-8 with no JSON escape, HTML tag or
// entity, control, C1 or bidi character (which decoders turn into other
// bytes or remove), and is a canonical post, a Jetstream event or an X line,
// whose decoders take a post's text from a "text" field, or (format auto)
// has none of the keys the Reddit and Mastodon decoders take text from
// (a submission joins its title and body; a status is HTML). Filter skips
// decoding such a line when no keyword occurs in those values.
func (d *Decoder) literalText(raw []byte, buf []byte) ([]byte, bool) {
	for i, c := range raw {
		switch {
		case c == '\\' || c == '&' || c == '<' || c < 0x20 || c == 0x7f:
			return buf, false
		case c == 0xc2 && i+1 < len(raw) && raw[i+1] >= 0x80 && raw[i+1] <= 0x9f: // C1 controls
			return buf, false
		case c == 0xe2 && i+2 < len(raw) && (raw[i+1] == 0x80 && raw[i+2] >= 0xaa && raw[i+2] <= 0xae || raw[i+1] == 0x81 && raw[i+2] >= 0xa6 && raw[i+2] <= 0xa9): // bidi controls
			return buf, false
		}
	}
	if !utf8.Valid(raw) {
		return buf, false
	}
	switch d.Format {
	case FormatCanonical, FormatBluesky, FormatX:
	case FormatAuto:
		// Without a full scan of the keys (which costs as much as the
		// match it would save): a line that has any key a Reddit or a
		// Mastodon decoder takes text from is decoded.
		for _, k := range otherTextKeys {
			if bytes.Contains(raw, k) {
				return buf, false
			}
		}
	default:
		return buf, false
	}
	// With no backslash in the line, a quote always delimits a string, so
	// "text" followed by a colon is a key, and its value ends at the next
	// quote.
	buf = buf[:0]
	for rest := raw; ; {
		i := bytes.Index(rest, textKey)
		if i < 0 {
			return buf, true
		}
		rest = bytes.TrimLeft(rest[i+len(textKey):], " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' {
			continue // not a string: no text
		}
		rest = rest[1:]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return buf, false
		}
		buf = append(append(buf, rest[:j]...), '\n')
		rest = rest[j+1:]
	}
}

var (
	textKey = []byte(`"text"`)
	// otherTextKeys are the keys other decoders read post text from (Reddit:
	// body, title, selftext; Mastodon: content, spoiler_text). A decoder
	// that reads text from another key must add it here.
	otherTextKeys = [][]byte{[]byte(`"body"`), []byte(`"title"`), []byte(`"selftext"`), []byte(`"content"`), []byte(`"spoiler_text"`)}
)
