package canon

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/post"
)

// Event is what a decoder makes of one input record.
type Event struct {
	Post   *post.Post // nil when the record carries no post
	Skip   string     // when Post is nil: the kind of record skipped (a like, a follow…); counted, not dead-lettered
	Cursor int64      // the source's position after this record (Jetstream time_us); 0 when it has none
	At     time.Time  // the source's clock for the record, for lag; zero when it has none
}

// Limits bound what a post may hold. A post over a limit is refused with the
// reason, never cut: a cut post would be matched and stored as something its
// author did not write.
type Limits struct {
	MaxTextBytes int           // text, author name and location, each
	MaxTags      int           // hashtags, mentions and URLs, each
	MaxSkew      time.Duration // how far in the future created_at may be
}

// DefaultLimits fit every real platform: X and Bluesky allow 300 characters,
// Mastodon servers a few thousand, and none allows 256 hashtags.
func DefaultLimits() Limits {
	return Limits{MaxTextBytes: 1 << 20, MaxTags: 256, MaxSkew: 10 * time.Minute}
}

// Normalizer finishes decoded posts: it cleans their text and checks them
// against its limits. Now is the clock for ingested_at and for future dates.
type Normalizer struct {
	Limits Limits
	Now    func() time.Time
}

// NewNormalizer returns a normalizer with the default limits and the real clock.
func NewNormalizer() *Normalizer { return &Normalizer{Limits: DefaultLimits(), Now: time.Now} }

// MinTime is the earliest created_at accepted: the Unix epoch. Earlier dates
// are clock or unit errors.
var MinTime = time.Unix(0, 0).UTC()

// Finish cleans p in place and checks it; an error is the reason to refuse
// it, of class invalid_field or too_big (post.ClassOf).
func (n *Normalizer) Finish(p *post.Post) error {
	if err := n.finish(p); err != nil {
		return post.WithClass(post.ClassOf(err, post.ClassInvalidField), err)
	}
	return nil
}

func (n *Normalizer) finish(p *post.Post) error {
	now := n.Now().UTC()
	if len(p.Platform) <= post.MaxPlatformBytes {
		p.Platform = asciiLower(p.Platform) // "Bluesky" is bluesky; Validate refuses what is not then a token
	}
	p.ID = strings.TrimSpace(p.ID)
	if err := p.Validate(); err != nil { // the id's size among the rest, before a reason names the post
		return err
	}
	if err := checkID(p.ID); err != nil {
		return fmt.Errorf("post %s: id %w", p.Key(), err)
	}
	if p.Kind != post.KindDelete {
		switch {
		case p.CreatedAt.Before(MinTime):
			return fmt.Errorf("post %s: created_at %s is before 1970", p.Key(), p.CreatedAt.Format(time.RFC3339))
		case n.Limits.MaxSkew > 0 && p.CreatedAt.After(now.Add(n.Limits.MaxSkew)):
			return fmt.Errorf("post %s: created_at %s is in the future (now %s)", p.Key(), p.CreatedAt.Format(time.RFC3339), now.Format(time.RFC3339))
		}
	}
	l := n.Limits
	for _, f := range []struct {
		name string
		s    *string
	}{{"text", &p.Text}, {"author.name", &p.Author.Name}, {"author.location", &p.Author.Location}, {"author.handle", &p.Author.Handle}} {
		if l.MaxTextBytes > 0 && len(*f.s) > l.MaxTextBytes {
			return post.WithClass(post.ClassTooBig, fmt.Errorf("post %s: %s is %d bytes, over the limit %d", p.Key(), f.name, len(*f.s), l.MaxTextBytes))
		}
		*f.s = Clean(*f.s)
	}
	for _, f := range []struct {
		name string
		v    []string
	}{{"hashtags", p.Hashtags}, {"mentions", p.Mentions}, {"urls", p.URLs}} {
		if l.MaxTags > 0 && len(f.v) > l.MaxTags {
			return post.WithClass(post.ClassTooBig, fmt.Errorf("post %s: %d %s, over the limit %d", p.Key(), len(f.v), f.name, l.MaxTags))
		}
		for i, s := range f.v {
			f.v[i] = Clean(s)
		}
	}
	if err := checkRanges(p); err != nil {
		return fmt.Errorf("post %s: %w", p.Key(), err)
	}
	// When earshot heard the post, whatever the line says: route raises an
	// alert as of it (within the hour), so a supplied one would pick the
	// alert's shift and deadlines.
	p.IngestedAt = now
	return nil
}

// asciiLower lower-cases the ASCII letters of s only: strings.ToLower
// would turn the Kelvin sign (U+212A) into "k", making a look-alike into a
// platform's name.
func asciiLower(s string) string {
	for i := range len(s) {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// checkRanges refuses values no platform sends: an empty hashtag, mention
// or URL, coordinates off the globe, negative counts.
func checkRanges(p *post.Post) error {
	for _, f := range []struct {
		name string
		v    []string
	}{{"hashtags", p.Hashtags}, {"mentions", p.Mentions}, {"urls", p.URLs}} {
		for i, s := range f.v {
			if strings.TrimSpace(s) == "" {
				return fmt.Errorf("%s[%d] is empty", f.name, i)
			}
		}
	}
	if g := p.Geo; g != nil {
		switch {
		case g.Lat < -90 || g.Lat > 90 || math.IsNaN(g.Lat):
			return fmt.Errorf("geo latitude %v is not between -90 and 90", g.Lat)
		case g.Lon < -180 || g.Lon > 180 || math.IsNaN(g.Lon):
			return fmt.Errorf("geo longitude %v is not between -180 and 180", g.Lon)
		}
	}
	if p.Author.Followers < 0 {
		return fmt.Errorf("author.followers %d is negative", p.Author.Followers)
	}
	if p.Media < 0 {
		return fmt.Errorf("media %d is negative", p.Media)
	}
	if e := p.Engagement; e != nil && (e.Likes < 0 || e.Reposts < 0 || e.Replies < 0 || e.Quotes < 0) {
		return fmt.Errorf("engagement counts must not be negative (likes %d, reposts %d, replies %d, quotes %d)", e.Likes, e.Reposts, e.Replies, e.Quotes)
	}
	return nil
}

// checkID refuses ids no platform issues; they would poison keys downstream.
func checkID(id string) error {
	if len(id) > post.MaxIDBytes {
		return post.WithClass(post.ClassTooBig, fmt.Errorf("is %d bytes, over %d", len(id), post.MaxIDBytes))
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || unicode.IsSpace(r) || isBidi(r) {
			return fmt.Errorf("%q holds a control or space character", id)
		}
	}
	return nil
}

// Clean removes what must not reach a responder's screen or the matcher:
// NUL and other control characters (tab and newline stay), and bidi
// embedding, override and isolate controls, which can make a post display
// differently from what it says. It returns s itself when there is nothing
// to remove, which is nearly always.
func Clean(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unwanted(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r == '\r' {
			continue
		}
		if r < 0x20 && r != '\t' && r != '\n' || unwanted(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unwanted(r rune) bool {
	return r == 0x7f || r >= 0x80 && r < 0xa0 || isBidi(r)
}

func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// ID is a post or author id that platforms send as a string or, in older or
// careless payloads, as a JSON number. The number's digits are kept exactly:
// decoding it as a float64 would change ids above 2^53.
type ID string

// UnmarshalJSON accepts a string or an integer literal.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		*id = ID(b[1 : len(b)-1])
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := gojson.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("id %s: %w", cut(b), err)
		}
		*id = ID(s)
	case string(b) == "null":
		*id = ""
	case isInteger(b):
		*id = ID(b)
	default:
		return fmt.Errorf("id %s: want a string or an integer", cut(b))
	}
	return nil
}

func isInteger(b []byte) bool {
	if len(b) == 0 || len(b) > 40 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Time is a timestamp sent as an RFC 3339 string or as a Unix number. The
// unit of a number is inferred from its size, since exports mix seconds,
// milliseconds and microseconds: up to 1e11 is seconds (until year 5138),
// up to 1e14 milliseconds, up to 1e17 microseconds, beyond that nanoseconds.
type Time struct{ time.Time }

// UnmarshalJSON accepts a string or a number.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if len(b) > 1 && b[0] == '"' {
		tt, err := ParseTime(string(b[1 : len(b)-1])) // an escape in a time is a bad time
		if err != nil {
			return err
		}
		t.Time = tt
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("time %s: want an RFC 3339 string or a Unix number", cut(b))
	}
	tt, err := UnixAuto(f)
	t.Time = tt
	return err
}

// ParseTime parses RFC 3339 with or without fractional seconds.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339", cut([]byte(s)))
	}
	return t.UTC(), nil
}

// UnixAuto converts a Unix timestamp in s, ms, µs or ns (see Time).
func UnixAuto(f float64) (time.Time, error) {
	a := f
	if a < 0 {
		return time.Time{}, fmt.Errorf("time %v: before 1970", f)
	}
	switch {
	case a < 1e11:
		return time.Unix(0, int64(f*1e9)).UTC(), nil
	case a < 1e14:
		return time.UnixMilli(int64(f)).UTC(), nil
	case a < 1e17:
		return time.UnixMicro(int64(f)).UTC(), nil
	case a < 9e18:
		return time.Unix(0, int64(f)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %v: out of range", f)
}

// ErrNotPost marks a record that is well formed but of no shape a decoder knows.
var ErrNotPost = errors.New("not a post")

// AppendUnique appends s unless it is empty or already in list. Platforms
// repeat links and tags (a facet and an embed, a link and its card).
func AppendUnique(list []string, s string) []string {
	if s == "" {
		return list
	}
	if len(list) >= 1024 { // far over any limit, so Finish refuses the post: stop paying n²
		return append(list, s)
	}
	for _, o := range list {
		if o == s {
			return list
		}
	}
	return append(list, s)
}

// Invariant reports how a finished post breaks what Finish guarantees; the
// fuzz tests of every decoder hold decoders to it.
func Invariant(p *post.Post) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for _, s := range append([]string{p.Text, p.Author.Handle, p.Author.Name, p.Author.Location}, append(append(p.Hashtags, p.Mentions...), p.URLs...)...) {
		if !utf8.ValidString(s) {
			return fmt.Errorf("post %s: invalid UTF-8 in %q", p.Key(), s)
		}
		if Clean(s) != s {
			return fmt.Errorf("post %s: control characters in %q", p.Key(), s)
		}
	}
	if p.Kind != post.KindDelete && (p.CreatedAt.Before(MinTime) || p.IngestedAt.IsZero()) {
		return fmt.Errorf("post %s: created_at %v, ingested_at %v", p.Key(), p.CreatedAt, p.IngestedAt)
	}
	return nil
}
