package post

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Items are encoded and decoded with github.com/goccy/go-json, a drop-in for
// encoding/json about 3x as fast at decoding them (see codec_compare_test.go,
// which also checks that it decodes what encoding/json decodes). Dead letters
// are off the hot path and keep encoding/json.

// WireVersion is the version of the JSON encoding written by Encode. Readers
// accept every version up to it; a newer one is an error, not a guess.
// Version 2 added volume records; Encode still writes every other item as
// version 1, so readers built before it keep reading them.
const WireVersion = 2

// RawLimit caps how much of a rejected input a dead letter carries.
const RawLimit = 4096

// ErrInvalidUTF8 is returned for input that is not valid UTF-8. JSON decoders
// would silently replace the bad bytes; earshot refuses them instead so the
// text that is matched and stored is the text that was sent.
var ErrInvalidUTF8 = errors.New("invalid UTF-8")

type wireItem struct {
	V int `json:"v"`
	*Item
}

// Encode appends the wire form of it to dst.
func Encode(dst []byte, it *Item) ([]byte, error) {
	v := 1
	if it.Volume != nil {
		v = 2
	}
	b, err := gojson.Marshal(wireItem{V: v, Item: it})
	if err != nil {
		return dst, fmt.Errorf("encoding item %s: %w", it.Key(), err)
	}
	if len(dst) == 0 {
		return b, nil // Marshal's result is the caller's: no second copy
	}
	return append(dst, b...), nil
}

// Decode parses one wire item. Unknown fields are ignored so that older
// readers keep working when a newer writer adds fields.
func Decode(b []byte) (*Item, error) {
	if err := CheckUTF8(b); err != nil {
		return nil, err
	}
	w := wireItem{Item: new(Item)}
	if err := gojson.Unmarshal(b, &w); err != nil {
		return nil, WithClass(ClassDecode, fmt.Errorf("decoding item: %w", err))
	}
	switch {
	case w.V == 0:
		return nil, WithClass(ClassDecode, errors.New("decoding item: missing wire version \"v\""))
	case w.V > WireVersion:
		return nil, WithClass(ClassUnknownVersion, fmt.Errorf("decoding item: wire version %d is newer than %d, the newest this build reads", w.V, WireVersion))
	case w.Post == nil:
		return nil, WithClass(ClassInvalidField, errors.New("decoding item: no \"post\""))
	}
	if err := checkItem(w.Item, w.V); err != nil {
		return nil, fmt.Errorf("decoding item: %w", WithClass(ClassOf(err, ClassInvalidField), err))
	}
	return w.Item, nil
}

// checkItem checks a decoded item, of wire version v, whatever its codec.
func checkItem(it *Item, v int) error {
	if it.Post.Kind != KindVolume && it.Volume == nil {
		if err := it.Post.Validate(); err != nil {
			return err
		}
		return checkIDs(it)
	}
	switch {
	case it.Post.Platform == "" || it.Post.ID == "":
		return errors.New("volume record has no platform or id")
	case (it.Post.Kind == KindVolume) != (it.Volume != nil):
		return fmt.Errorf("%s: a volume record needs kind %q and a \"volume\", and only it", it.Post.Key(), KindVolume)
	case it.Volume != nil && v < 2:
		return fmt.Errorf("%s: volume records need wire version 2, not %d", it.Post.Key(), v)
	case it.Volume != nil:
		if err := it.Volume.Validate(); err != nil {
			return fmt.Errorf("%s: %w", it.Post.Key(), err)
		}
	}
	return nil
}

// CheckUTF8 reports the offset of the first invalid byte, if any.
func CheckUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("%w at byte %d", ErrInvalidUTF8, i)
		}
		i += n
	}
	return ErrInvalidUTF8
}

// Bounds on the fields of a post that are the sender's choice on the push
// endpoint and in files, and end up in keys, ClickHouse columns and every
// alert and digest: a post over one is refused, never cut.
const (
	// MaxPlatformBytes bounds a platform, a token of [a-z0-9._-].
	MaxPlatformBytes = 32
	// MaxTagBytes bounds each hashtag and mention: Bluesky's lexicon
	// allows a tag of 640 bytes (64 graphemes); a Mastodon account,
	// user@domain, is at most 30 + 1 + 253.
	MaxTagBytes = 640
	// MaxURLBytes bounds each URL: 8 KiB, the request line most servers
	// accept, so a longer one links to nothing anyway.
	MaxURLBytes = 8 << 10
	// MaxIDBytes bounds a post's id, its author's id and the ids an item
	// picks up downstream (alert, incident, cluster); no platform issues
	// longer ones.
	MaxIDBytes = 512
	// MaxKeyBytes bounds a post key (platform:id): reply_to, repost_of and
	// quote_of.
	MaxKeyBytes = MaxPlatformBytes + 1 + MaxIDBytes
)

// checkIDs bounds the ids an item picks up after ingest, which only a
// decoder sees from outside (a producer on the topic that is not earshot).
func checkIDs(it *Item) error {
	var ids []bounded
	if a := it.Alert; a != nil {
		ids = append(ids, bounded{"alert id", a.ID, MaxIDBytes}, bounded{"alert of", a.Of, MaxIDBytes}, bounded{"alert incident", a.Incident, MaxIDBytes})
	}
	if e := it.Enrichment; e != nil {
		ids = append(ids, bounded{"cluster_id", e.ClusterID, MaxIDBytes})
	}
	return checkBounded(it.Post, ids)
}

// bounded is a field of a post or item and its most bytes.
type bounded struct {
	name string
	v    string
	max  int
}

// checkBounded refuses the first field over its bound, naming it and its
// size, never quoting it.
func checkBounded(p *Post, fs []bounded) error {
	for _, f := range fs {
		if len(f.v) > f.max {
			return WithClass(ClassTooBig, fmt.Errorf("post %s: %s is %d bytes, over the limit %d", p.Key(), f.name, len(f.v), f.max))
		}
	}
	return nil
}

// Validate checks the fields every stage relies on.
func (p *Post) Validate() error {
	if err := checkPlatform(p.Platform); err != nil {
		return err // before anything names the post by its key: the platform may be 1 MiB
	}
	if len(p.ID) > MaxIDBytes {
		// before anything names the post by its key: a reason never holds a huge id whole
		return WithClass(ClassTooBig, fmt.Errorf("post %s:%s…: id is %d bytes, over the limit %d", p.Platform, strings.ToValidUTF8(p.ID[:64], ""), len(p.ID), MaxIDBytes))
	}
	if err := checkBounded(p, []bounded{{"author.id", p.Author.ID, MaxIDBytes}, {"reply_to", p.ReplyTo, MaxKeyBytes}, {"repost_of", p.RepostOf, MaxKeyBytes}, {"quote_of", p.QuoteOf, MaxKeyBytes}}); err != nil {
		return err
	}
	switch {
	case p.ID == "":
		return errors.New("post has no id")
	case p.Kind != "" && p.Kind != KindDelete && p.Kind != KindEdit:
		return fmt.Errorf("post %s has unknown kind %q", p.Key(), p.Kind)
	case p.CreatedAt.IsZero() && p.Kind != KindDelete:
		return fmt.Errorf("post %s has no created_at", p.Key())
	}
	for _, f := range []struct {
		name string
		v    []string
		max  int
	}{{"hashtag", p.Hashtags, MaxTagBytes}, {"mention", p.Mentions, MaxTagBytes}, {"URL", p.URLs, MaxURLBytes}} {
		for i, s := range f.v {
			if len(s) > f.max {
				return WithClass(ClassTooBig, fmt.Errorf("post %s: %s %d is %d bytes, over the limit %d", p.Key(), f.name, i+1, len(s), f.max))
			}
		}
	}
	return nil
}

// checkPlatform refuses a platform that is not a short token of
// [a-z0-9._-]: it is the first half of every key (so no ':'), a column and
// a line of every message, and a look-alike letter, a bidi control or a
// capital would make a second name for one platform. The reason shows at
// most its first 32 characters.
func checkPlatform(s string) error {
	if s == "" {
		return errors.New("post has no platform")
	}
	if len(s) > MaxPlatformBytes {
		return WithClass(ClassTooBig, fmt.Errorf("post platform %.32q… is %d bytes, over the limit %d", s, len(s), MaxPlatformBytes))
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("post platform %q: want a token of a-z, 0-9, '.', '_' and '-'", s)
		}
	}
	return nil
}

// deadLetterVersion is the wire version of dead letters: their form has
// not changed since version 1 (version 2 added volume records only), so
// they stay version 1 for readers that refuse a newer version, as
// docs/posts.md tells readers to.
const deadLetterVersion = 1

// EncodeDeadLetter returns the wire form of a dead letter.
func EncodeDeadLetter(d *DeadLetter) ([]byte, error) {
	b, err := json.Marshal(struct {
		V int `json:"v"`
		*DeadLetter
	}{deadLetterVersion, d})
	if err != nil {
		return nil, fmt.Errorf("encoding dead letter: %w", err)
	}
	return b, nil
}

// DecodeDeadLetter parses a dead letter.
func DecodeDeadLetter(b []byte) (*DeadLetter, error) {
	d := new(DeadLetter)
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("decoding dead letter: %w", err)
	}
	return d, nil
}

// Cut returns raw cut to RawLimit bytes on a rune boundary, as a string.
func Cut(raw []byte) string {
	if len(raw) <= RawLimit {
		return string(raw)
	}
	n := RawLimit
	for n > 0 && !utf8.RuneStart(raw[n]) {
		n--
	}
	return string(raw[:n])
}
