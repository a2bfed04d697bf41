package post

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// The binary wire item is the compact encoding of an Item that batch
// envelopes of version 2 carry between stages (issue 21: the JSON codec
// was the largest part of a hop's CPU after batching). It is the Protobuf
// wire format of the schema in wire.proto, written and read by the
// hand-written code below (no reflection, no generated code), after one
// byte of schema version:
//
//	<BinaryVersion> <the Item message>
//
// Being Protobuf, fields are tagged: a reader skips fields it does not
// know, so a newer writer can add fields as JSON writers always could;
// a change older readers must not misread takes a new BinaryVersion,
// which they refuse (a dead letter) rather than guess at.
//
// Decoding copies the item's bytes into one string, once, and every
// string field of the item is a substring of it: one allocation for all
// strings, and nothing aliases the record's buffer, which the transport
// may reuse. A string a stage keeps past its batch keeps that item's
// bytes (a few hundred) alive, as a map key of one field would keep its
// own; no stage keeps more than bounded state.

// BinaryVersion is the schema version of the binary items this build
// writes and the newest it reads.
const BinaryVersion = 1

// AppendBinary appends the binary wire form of it to dst. Strings that
// are not valid UTF-8 are written with U+FFFD for the bad bytes, as the
// JSON encoder writes them, so that a reader, which refuses invalid
// UTF-8, gets what a JSON reader would.
func AppendBinary(dst []byte, it *Item) []byte {
	dst = append(dst, BinaryVersion)
	if it.Post != nil {
		dst = appendPost(dst, 1, it.Post)
	}
	for i := range it.Matches {
		dst = appendMatch(dst, 2, &it.Matches[i])
	}
	if it.Enrichment != nil {
		dst = appendEnrichment(dst, 3, it.Enrichment)
	}
	if it.Alert != nil {
		dst = appendAlert(dst, 4, it.Alert)
	}
	if v := it.Volume; v != nil {
		var at int
		dst, at = beginMsg(dst, 5)
		for i := range v.Cells {
			c := &v.Cells[i]
			var ac int
			dst, ac = beginMsg(dst, 1)
			dst = appendTime(dst, 1, c.Minute)
			dst = appendString(dst, 2, c.Platform)
			dst = appendString(dst, 3, c.Lang)
			if len(c.Posts) > 0 {
				dst = protowire.AppendTag(dst, 4, protowire.BytesType)
				dst = protowire.AppendVarint(dst, uint64(8*len(c.Posts)))
				for _, h := range c.Posts {
					dst = protowire.AppendFixed64(dst, h)
				}
			}
			dst = endMsg(dst, ac)
		}
		dst = endMsg(dst, at)
	}
	if s := it.Suppression; s != nil {
		var at int
		dst, at = beginMsg(dst, 6)
		dst = appendString(dst, 1, s.Rule)
		dst = appendString(dst, 2, s.Reason)
		dst = appendTime(dst, 3, s.At)
		dst = endMsg(dst, at)
	}
	return dst
}

func appendPost(b []byte, num protowire.Number, p *Post) []byte {
	b, at := beginMsg(b, num)
	b = appendString(b, 1, p.Kind)
	b = appendString(b, 2, p.Platform)
	b = appendString(b, 3, p.ID)
	a := &p.Author
	var aa int
	b, aa = beginMsg(b, 4)
	b = appendString(b, 1, a.ID)
	b = appendString(b, 2, a.Handle)
	b = appendString(b, 3, a.Name)
	b = appendInt(b, 4, a.Followers)
	b = appendString(b, 5, a.Location)
	b = appendBool(b, 6, a.Verified)
	b = endMsg(b, aa)
	b = appendString(b, 5, p.Text)
	b = appendTime(b, 6, p.CreatedAt)
	b = appendString(b, 7, p.Lang)
	b = appendStrings(b, 8, p.URLs)
	b = appendStrings(b, 9, p.Hashtags)
	b = appendStrings(b, 10, p.Mentions)
	b = appendString(b, 11, p.ReplyTo)
	b = appendString(b, 12, p.RepostOf)
	b = appendString(b, 13, p.QuoteOf)
	if g := p.Geo; g != nil {
		var ag int
		b, ag = beginMsg(b, 14)
		b = appendF64(b, 1, g.Lat)
		b = appendF64(b, 2, g.Lon)
		b = appendString(b, 3, g.Place)
		b = appendString(b, 4, g.Country)
		b = endMsg(b, ag)
	}
	b = appendString(b, 15, p.Country)
	b = appendInt(b, 16, int64(p.Media))
	if e := p.Engagement; e != nil {
		var ae int
		b, ae = beginMsg(b, 17)
		b = appendInt(b, 1, e.Likes)
		b = appendInt(b, 2, e.Reposts)
		b = appendInt(b, 3, e.Replies)
		b = appendInt(b, 4, e.Quotes)
		b = endMsg(b, ae)
	}
	b = appendString(b, 18, p.Source)
	b = appendString(b, 19, p.Community)
	b = appendTime(b, 20, p.IngestedAt)
	return endMsg(b, at)
}

func appendMatch(b []byte, num protowire.Number, m *Match) []byte {
	b, at := beginMsg(b, num)
	b = appendString(b, 1, m.Watchlist)
	b = appendInt(b, 2, int64(m.Version))
	b = appendString(b, 3, m.Brand)
	b = appendString(b, 4, m.Team)
	b = appendStrings(b, 5, m.Tags)
	b = appendStrings(b, 6, m.Regions)
	b = appendStrings(b, 7, m.Keywords)
	for i := range m.Spans {
		s := &m.Spans[i]
		var as int
		b, as = beginMsg(b, 8)
		b = appendInt(b, 1, int64(s.Start))
		b = appendInt(b, 2, int64(s.End))
		b = appendString(b, 3, s.Term)
		b = endMsg(b, as)
	}
	return endMsg(b, at)
}

func appendEnrichment(b []byte, num protowire.Number, e *Enrichment) []byte {
	b, at := beginMsg(b, num)
	b = appendString(b, 1, e.Lang)
	b = appendF64(b, 2, e.LangConfidence)
	b = appendF64(b, 3, e.Sentiment)
	b = appendString(b, 4, e.SentimentLabel)
	b = appendF64(b, 5, e.SentimentConfidence)
	if e.SentimentProbs != [3]float32{} {
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendVarint(b, 12)
		for _, f := range e.SentimentProbs {
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	}
	b = appendString(b, 7, e.Emotion)
	b = appendF64(b, 8, e.EmotionConfidence)
	b = appendBool(b, 9, e.Irony)
	b = appendF64(b, 10, e.IronyConfidence)
	b = appendString(b, 11, e.Country)
	b = appendString(b, 12, e.Region)
	b = appendString(b, 13, e.RegionSource)
	b = appendF64(b, 14, e.RegionConfidence)
	b = appendString(b, 15, e.Market)
	b = appendStrings(b, 16, e.Intents)
	b = appendF64(b, 17, e.IntentConfidence)
	b = appendF64(b, 18, e.Influence)
	b = appendString(b, 19, e.ClusterID)
	b = appendInt(b, 20, int64(e.ClusterSize))
	b = appendString(b, 21, e.RedactedText)
	if s := e.IntentScores; s != (IntentScores{}) {
		var as int
		b, as = beginMsg(b, 22)
		for i, f := range [...]float32{s.Complaint, s.Question, s.Praise, s.Feedback, s.Purchase, s.Crisis, s.Job, s.Spam} {
			b = appendF32(b, protowire.Number(i+1), f)
		}
		b = endMsg(b, as)
	}
	return endMsg(b, at)
}

func appendAlert(b []byte, num protowire.Number, a *Alert) []byte {
	b, at := beginMsg(b, num)
	b = appendString(b, 1, a.ID)
	b = appendString(b, 2, a.Queue)
	b = appendString(b, 3, a.Priority)
	b = appendString(b, 4, a.Rule)
	b = appendTime(b, 5, a.CreatedAt)
	b = appendString(b, 6, a.Team)
	b = appendTime(b, 7, a.DueAt)
	b = appendString(b, 8, a.HandedOffFrom)
	b = appendBool(b, 9, a.Unstaffed)
	b = appendString(b, 10, a.Incident)
	b = appendInt(b, 11, int64(a.IncidentSize))
	if s := a.Spike; s != nil {
		var as int
		b, as = beginMsg(b, 12)
		b = appendString(b, 1, s.Watchlist)
		b = appendString(b, 2, s.Region)
		b = appendTime(b, 3, s.WindowStart)
		b = appendString(b, 4, s.Window)
		b = appendInt(b, 5, int64(s.Count))
		b = appendF64(b, 6, s.Baseline)
		b = appendString(b, 7, s.Why)
		b = appendStrings(b, 8, s.TopTerms)
		b = appendStrings(b, 9, s.TopAuthors)
		b = endMsg(b, as)
	}
	b = appendBool(b, 13, a.Retracted)
	b = appendString(b, 14, a.EscalateTo)
	b = appendTime(b, 15, a.EscalateAt)
	b = appendString(b, 16, a.Of)
	b = appendString(b, 17, a.Reason)
	if r := a.Resolved; r != nil {
		var ar int
		b, ar = beginMsg(b, 18)
		b = appendString(b, 1, r.By)
		b = appendString(b, 2, r.Outcome)
		b = appendTime(b, 3, r.At)
		b = endMsg(b, ar)
	}
	return endMsg(b, at)
}

// beginMsg starts an embedded message: its tag and one byte for its
// length, which endMsg fills in (and widens when the message is longer).
func beginMsg(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

func endMsg(b []byte, start int) []byte {
	n := len(b) - start
	if n < 0x80 {
		b[start-1] = byte(n)
		return b
	}
	k := protowire.SizeVarint(uint64(n))
	for range k - 1 {
		b = append(b, 0)
	}
	copy(b[start+k-1:], b[start:start+n])
	protowire.AppendVarint(b[:start-1], uint64(n)) // in place: the room is there
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, num protowire.Number, ss []string) []byte {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		// Empty elements too: a list keeps its length.
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeZigZag(v))
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return append(b, 1)
}

func appendF64(b []byte, num protowire.Number, f float64) []byte {
	u := math.Float64bits(f)
	if u == 0 {
		return b // +0 only: -0 is written
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, u)
}

func appendF32(b []byte, num protowire.Number, f float32) []byte {
	u := math.Float32bits(f)
	if u == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, u)
}

// appendTime writes a time as 12 bytes, little-endian: its Unix seconds
// (int64) and nanoseconds (uint32), and 4 more, its zone offset in seconds
// (int32), when that is not 0: what RFC 3339 in JSON keeps (not the zone's
// name nor the monotonic clock), in a form read without a loop. The zero
// time is not written.
func appendTime(b []byte, num protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	_, off := t.Zone()
	b = protowire.AppendTag(b, num, protowire.BytesType)
	if off == 0 {
		b = append(b, 12)
	} else {
		b = append(b, 16)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
	if off != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(off)))
	}
	return b
}

// DecodeBinary parses one binary wire item and checks it as Decode checks
// a JSON one. Hostile input costs at most its own length in work and a
// small multiple of it in memory: every length is checked against the
// bytes left before anything is sized by it.
func DecodeBinary(b []byte) (*Item, error) {
	switch {
	case len(b) == 0:
		return nil, errors.New("decoding binary item: empty")
	case b[0] == 0 || b[0] > BinaryVersion:
		return nil, WithClass(ClassUnknownVersion, fmt.Errorf("decoding binary item: schema version %d, this build reads 1 to %d", b[0], BinaryVersion))
	}
	s := string(b[1:]) // the one copy: every string field is a substring of it
	r := reader{s: s, b: unsafe.Slice(unsafe.StringData(s), len(s)), budget: decodeFactor*len(s) + decodeSlack}
	// The item is allocated at its first well-framed field: a refused item
	// of garbage (a record may carry 10,000 of two bytes each) then costs
	// its bytes and its reason, not an item's worth of memory. Decoding
	// into locals and copying out would cover every refused item, but costs
	// every good one 4-10% more CPU (BENCHMARKS.md).
	var v *struct {
		it Item
		p  Post
	}
	var it *Item
	for pos := 0; pos < len(s) && r.err == nil; {
		f := r.next(&pos, len(s))
		if r.err != nil {
			break
		}
		if v == nil && f.num >= 1 && f.num <= 6 {
			v = new(struct {
				it Item
				p  Post
			})
			it = &v.it
		}
		switch f.num {
		case 1:
			if r.msg(f, "post") {
				it.Post = &v.p
				r.post(it.Post, f.lo, f.hi)
			}
		case 2:
			if r.msg(f, "matches") {
				it.Matches = append(it.Matches, elem(&r, Match{}, sizeMatch))
				r.match(&it.Matches[len(it.Matches)-1], f.lo, f.hi)
			}
		case 3:
			if r.msg(f, "enrichment") {
				if it.Enrichment == nil { // a message given again merges into the first
					it.Enrichment = new(Enrichment)
				}
				r.enrichment(it.Enrichment, f.lo, f.hi)
			}
		case 4:
			if r.msg(f, "alert") {
				if it.Alert == nil { // a message given again merges into the first
					it.Alert = new(Alert)
				}
				r.alert(it.Alert, f.lo, f.hi)
			}
		case 5:
			if r.msg(f, "volume") {
				if it.Volume == nil { // a message given again merges into the first
					it.Volume = new(Volume)
				}
				r.volume(it.Volume, f.lo, f.hi)
			}
		case 6:
			if r.msg(f, "suppression") {
				if it.Suppression == nil { // a message given again merges into the first
					it.Suppression = new(Suppression)
				}
				for pos := f.lo; pos < f.hi && r.err == nil; {
					g := r.next(&pos, f.hi)
					switch g.num {
					case 1:
						it.Suppression.Rule = r.str(g, "suppression.rule")
					case 2:
						it.Suppression.Reason = r.str(g, "suppression.reason")
					case 3:
						it.Suppression.At = r.time(g, "suppression.at")
					}
				}
			}
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("decoding binary item: %w", r.err)
	}
	if it == nil || it.Post == nil {
		return nil, errNoPost
	}
	if err := checkItem(it, WireVersion); err != nil {
		return nil, fmt.Errorf("decoding binary item: %w", WithClass(ClassOf(err, ClassInvalidField), err))
	}
	return it, nil
}

var errNoPost = errors.New("decoding binary item: no post")

// reader reads the fields of the messages in s (b is the same bytes, not
// to be written). The first error stops it; later reads return zeros.
type reader struct {
	s   string
	b   []byte
	err error
	// budget is the memory the elements of repeated fields may still
	// take. A binary item is compact (an empty match is 2 bytes, its Go
	// value 144), so an item of nothing but empty elements would take
	// hundreds of times its size; it is refused instead.
	budget int
}

// Sizes charged to the budget per element of a repeated field.
const (
	sizeString = int(unsafe.Sizeof(""))
	sizeMatch  = int(unsafe.Sizeof(Match{}))
	sizeSpan   = int(unsafe.Sizeof(Span{}))
	sizeCell   = int(unsafe.Sizeof(VolumeCell{}))
)

// Budget is decodeFactor times an item's size, and decodeSlack more.
const (
	decodeFactor = 8
	decodeSlack  = 64 << 10
)

// elem charges size to the budget and returns v.
func elem[T any](r *reader, v T, size int) T {
	r.budget -= size
	if r.budget < 0 && r.err == nil {
		r.err = WithClass(ClassTooBig, fmt.Errorf("its repeated fields would take more than %d× its %d bytes in memory", decodeFactor, len(r.s)))
	}
	return v
}

// field is one field read: its number and type, its value when a number,
// and where its bytes are when length-delimited or fixed.
type field struct {
	num    protowire.Number
	typ    protowire.Type
	u      uint64
	lo, hi int
}

// next reads the field at *pos, which must end by end, and moves past it.
func (r *reader) next(pos *int, end int) field {
	// Fast path: a one-byte tag (fields 1 to 15) and a one-byte length,
	// which is most fields of an item.
	b, p := r.b[:end], *pos
	if p+1 < end && b[p] < 0x80 && b[p] >= 8 {
		num, typ := protowire.Number(b[p]>>3), protowire.Type(b[p]&7)
		switch typ {
		case protowire.BytesType:
			if v := int(b[p+1]); v < 0x80 && v <= end-p-2 {
				*pos = p + 2 + v
				return field{num: num, typ: typ, lo: p + 2, hi: *pos}
			}
		case protowire.VarintType:
			if v, n := protowire.ConsumeVarint(b[p+1:]); n > 0 {
				*pos = p + 1 + n
				return field{num: num, typ: typ, u: v, hi: *pos}
			}
		case protowire.Fixed64Type:
			if end-p-1 >= 8 {
				*pos = p + 9
				return field{num: num, typ: typ, lo: p + 1, hi: *pos}
			}
		case protowire.Fixed32Type:
			if end-p-1 >= 4 {
				*pos = p + 5
				return field{num: num, typ: typ, lo: p + 1, hi: *pos}
			}
		}
	}
	return r.nextSlow(pos, end)
}

func (r *reader) nextSlow(pos *int, end int) field {
	num, typ, n := protowire.ConsumeTag(r.b[*pos:end])
	if n < 0 {
		r.err = fmt.Errorf("at byte %d: bad field tag", *pos+1)
		return field{}
	}
	f := field{num: num, typ: typ}
	p := *pos + n
	switch typ {
	case protowire.VarintType:
		f.u, n = protowire.ConsumeVarint(r.b[p:end])
	case protowire.Fixed64Type:
		f.lo, n = p, 8
		if end-p < 8 {
			n = -1
		}
	case protowire.Fixed32Type:
		f.lo, n = p, 4
		if end-p < 4 {
			n = -1
		}
	case protowire.BytesType:
		var l uint64
		l, n = protowire.ConsumeVarint(r.b[p:end])
		if n >= 0 && l > uint64(end-p-n) {
			r.err = fmt.Errorf("at byte %d: field %d says %d bytes, %d are left", *pos+1, num, l, end-p-n)
			return field{}
		}
		if n >= 0 {
			f.lo = p + n
			n += int(l)
		}
	default:
		r.err = fmt.Errorf("at byte %d: field %d has wire type %d, which no version of this schema writes", *pos+1, num, typ)
		return field{}
	}
	if n < 0 {
		r.err = fmt.Errorf("at byte %d: field %d is cut short", *pos+1, num)
		return field{}
	}
	*pos = p + n
	f.hi = *pos
	return f
}

func (r *reader) want(f field, typ protowire.Type, name string) bool {
	if r.err != nil {
		return false
	}
	if f.typ != typ {
		r.err = fmt.Errorf("%s: wire type %d, want %d", name, f.typ, typ)
		return false
	}
	return true
}

func (r *reader) msg(f field, name string) bool { return r.want(f, protowire.BytesType, name) }

func (r *reader) str(f field, name string) string {
	if !r.want(f, protowire.BytesType, name) {
		return ""
	}
	s := r.s[f.lo:f.hi]
	if !utf8.ValidString(s) {
		r.err = fmt.Errorf("%s: %w", name, ErrInvalidUTF8)
		return ""
	}
	return s
}

func (r *reader) int(f field, name string) int64 {
	if !r.want(f, protowire.VarintType, name) {
		return 0
	}
	return protowire.DecodeZigZag(f.u)
}

// small is an int field that must fit a Go int on every platform.
func (r *reader) small(f field, name string) int {
	v := r.int(f, name)
	if v > math.MaxInt32 || v < math.MinInt32 {
		r.err = fmt.Errorf("%s: %d is out of range", name, v)
		return 0
	}
	return int(v)
}

func (r *reader) boolean(f field, name string) bool {
	return r.want(f, protowire.VarintType, name) && f.u != 0
}

func (r *reader) f64(f field, name string) float64 {
	if !r.want(f, protowire.Fixed64Type, name) {
		return 0
	}
	u, _ := protowire.ConsumeFixed64(r.b[f.lo:])
	return r.finite(math.Float64frombits(u), name)
}

func (r *reader) f32(f field, name string) float32 {
	if !r.want(f, protowire.Fixed32Type, name) {
		return 0
	}
	u, _ := protowire.ConsumeFixed32(r.b[f.lo:])
	return float32(r.finite(float64(math.Float32frombits(u)), name))
}

// finite refuses NaN and the infinities, which JSON cannot write: an item
// carrying one would decode here and then fail every JSON encoding later
// (an alert, a dead letter), and its batch would be retried forever. The
// JSON codec cannot carry them, so both codecs read the same items.
func (r *reader) finite(v float64, name string) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.err = fmt.Errorf("%s: %v is not a finite number", name, v)
		return 0
	}
	return v
}

// minSeconds and maxSeconds bound a time's seconds to years 1 to 9999,
// what RFC 3339 (and so the JSON encoding) can write.
const (
	minSeconds = -62135596800
	maxSeconds = 253402300799
)

func (r *reader) time(f field, name string) time.Time {
	if !r.msg(f, name) {
		return time.Time{}
	}
	t := r.b[f.lo:f.hi]
	if len(t) != 12 && len(t) != 16 {
		r.err = fmt.Errorf("%s: %d bytes, want 12 or 16", name, len(t))
		return time.Time{}
	}
	sec := int64(binary.LittleEndian.Uint64(t))
	ns := binary.LittleEndian.Uint32(t[8:])
	var off int32
	if len(t) == 16 {
		off = int32(binary.LittleEndian.Uint32(t[12:]))
	}
	switch {
	case sec < minSeconds || sec > maxSeconds || ns >= 1e9 || off <= -86400 || off >= 86400:
		r.err = fmt.Errorf("%s: time out of range (%d s, %d ns, offset %d s)", name, sec, ns, off)
		return time.Time{}
	case off == 0:
		return time.Unix(sec, int64(ns)).UTC()
	}
	return time.Unix(sec, int64(ns)).In(time.FixedZone("", int(off)))
}

func (r *reader) post(p *Post, lo, hi int) {
	for pos := lo; pos < hi && r.err == nil; {
		f := r.next(&pos, hi)
		switch f.num {
		case 1:
			p.Kind = r.str(f, "post.kind")
		case 2:
			p.Platform = r.str(f, "post.platform")
		case 3:
			p.ID = r.str(f, "post.id")
		case 4:
			if r.msg(f, "post.author") {
				r.author(&p.Author, f.lo, f.hi)
			}
		case 5:
			p.Text = r.str(f, "post.text")
		case 6:
			p.CreatedAt = r.time(f, "post.created_at")
		case 7:
			p.Lang = r.str(f, "post.lang")
		case 8:
			p.URLs = append(p.URLs, elem(r, r.str(f, "post.urls"), sizeString))
		case 9:
			p.Hashtags = append(p.Hashtags, elem(r, r.str(f, "post.hashtags"), sizeString))
		case 10:
			p.Mentions = append(p.Mentions, elem(r, r.str(f, "post.mentions"), sizeString))
		case 11:
			p.ReplyTo = r.str(f, "post.reply_to")
		case 12:
			p.RepostOf = r.str(f, "post.repost_of")
		case 13:
			p.QuoteOf = r.str(f, "post.quote_of")
		case 14:
			if r.msg(f, "post.geo") {
				if p.Geo == nil { // a message given again merges into the first
					p.Geo = new(Geo)
				}
				g := p.Geo
				for pos := f.lo; pos < f.hi && r.err == nil; {
					h := r.next(&pos, f.hi)
					switch h.num {
					case 1:
						g.Lat = r.f64(h, "geo.lat")
					case 2:
						g.Lon = r.f64(h, "geo.lon")
					case 3:
						g.Place = r.str(h, "geo.place")
					case 4:
						g.Country = r.str(h, "geo.country")
					}
				}
			}
		case 15:
			p.Country = r.str(f, "post.country")
		case 16:
			p.Media = r.small(f, "post.media")
		case 17:
			if r.msg(f, "post.engagement") {
				if p.Engagement == nil { // a message given again merges into the first
					p.Engagement = new(Engagement)
				}
				e := p.Engagement
				for pos := f.lo; pos < f.hi && r.err == nil; {
					h := r.next(&pos, f.hi)
					switch h.num {
					case 1:
						e.Likes = r.int(h, "engagement.likes")
					case 2:
						e.Reposts = r.int(h, "engagement.reposts")
					case 3:
						e.Replies = r.int(h, "engagement.replies")
					case 4:
						e.Quotes = r.int(h, "engagement.quotes")
					}
				}
			}
		case 18:
			p.Source = r.str(f, "post.source")
		case 19:
			p.Community = r.str(f, "post.community")
		case 20:
			p.IngestedAt = r.time(f, "post.ingested_at")
		}
	}
}

func (r *reader) author(a *Author, lo, hi int) {
	for pos := lo; pos < hi && r.err == nil; {
		f := r.next(&pos, hi)
		switch f.num {
		case 1:
			a.ID = r.str(f, "author.id")
		case 2:
			a.Handle = r.str(f, "author.handle")
		case 3:
			a.Name = r.str(f, "author.name")
		case 4:
			a.Followers = r.int(f, "author.followers")
		case 5:
			a.Location = r.str(f, "author.location")
		case 6:
			a.Verified = r.boolean(f, "author.verified")
		}
	}
}

func (r *reader) match(m *Match, lo, hi int) {
	for pos := lo; pos < hi && r.err == nil; {
		f := r.next(&pos, hi)
		switch f.num {
		case 1:
			m.Watchlist = r.str(f, "match.watchlist")
		case 2:
			m.Version = r.small(f, "match.version")
		case 3:
			m.Brand = r.str(f, "match.brand")
		case 4:
			m.Team = r.str(f, "match.team")
		case 5:
			m.Tags = append(m.Tags, elem(r, r.str(f, "match.tags"), sizeString))
		case 6:
			m.Regions = append(m.Regions, elem(r, r.str(f, "match.regions"), sizeString))
		case 7:
			m.Keywords = append(m.Keywords, elem(r, r.str(f, "match.keywords"), sizeString))
		case 8:
			if r.msg(f, "match.spans") {
				m.Spans = append(m.Spans, elem(r, Span{}, sizeSpan))
				s := &m.Spans[len(m.Spans)-1]
				for pos := f.lo; pos < f.hi && r.err == nil; {
					g := r.next(&pos, f.hi)
					switch g.num {
					case 1:
						s.Start = r.small(g, "span.start")
					case 2:
						s.End = r.small(g, "span.end")
					case 3:
						s.Term = r.str(g, "span.term")
					}
				}
			}
		}
	}
}

func (r *reader) enrichment(e *Enrichment, lo, hi int) {
	for pos := lo; pos < hi && r.err == nil; {
		f := r.next(&pos, hi)
		switch f.num {
		case 1:
			e.Lang = r.str(f, "enrichment.lang")
		case 2:
			e.LangConfidence = r.f64(f, "enrichment.lang_confidence")
		case 3:
			e.Sentiment = r.f64(f, "enrichment.sentiment")
		case 4:
			e.SentimentLabel = r.str(f, "enrichment.sentiment_label")
		case 5:
			e.SentimentConfidence = r.f64(f, "enrichment.sentiment_confidence")
		case 6:
			if r.msg(f, "enrichment.sentiment_probs") {
				if f.hi-f.lo != 12 {
					r.err = fmt.Errorf("enrichment.sentiment_probs: %d bytes, want 12", f.hi-f.lo)
					break
				}
				for i := range e.SentimentProbs {
					u, _ := protowire.ConsumeFixed32(r.b[f.lo+4*i:])
					e.SentimentProbs[i] = float32(r.finite(float64(math.Float32frombits(u)), "enrichment.sentiment_probs"))
				}
			}
		case 7:
			e.Emotion = r.str(f, "enrichment.emotion")
		case 8:
			e.EmotionConfidence = r.f64(f, "enrichment.emotion_confidence")
		case 9:
			e.Irony = r.boolean(f, "enrichment.irony")
		case 10:
			e.IronyConfidence = r.f64(f, "enrichment.irony_confidence")
		case 11:
			e.Country = r.str(f, "enrichment.country")
		case 12:
			e.Region = r.str(f, "enrichment.region")
		case 13:
			e.RegionSource = r.str(f, "enrichment.region_source")
		case 14:
			e.RegionConfidence = r.f64(f, "enrichment.region_confidence")
		case 15:
			e.Market = r.str(f, "enrichment.market")
		case 16:
			e.Intents = append(e.Intents, elem(r, r.str(f, "enrichment.intents"), sizeString))
		case 17:
			e.IntentConfidence = r.f64(f, "enrichment.intent_confidence")
		case 18:
			e.Influence = r.f64(f, "enrichment.influence")
		case 19:
			e.ClusterID = r.str(f, "enrichment.cluster_id")
		case 20:
			e.ClusterSize = r.small(f, "enrichment.cluster_size")
		case 21:
			e.RedactedText = r.str(f, "enrichment.redacted_text")
		case 22:
			if r.msg(f, "enrichment.intent_scores") {
				s := &e.IntentScores
				dst := [...]*float32{&s.Complaint, &s.Question, &s.Praise, &s.Feedback, &s.Purchase, &s.Crisis, &s.Job, &s.Spam}
				for pos := f.lo; pos < f.hi && r.err == nil; {
					g := r.next(&pos, f.hi)
					if g.num >= 1 && int(g.num) <= len(dst) {
						*dst[g.num-1] = r.f32(g, "enrichment.intent_scores")
					}
				}
			}
		}
	}
}

func (r *reader) alert(a *Alert, lo, hi int) {
	for pos := lo; pos < hi && r.err == nil; {
		f := r.next(&pos, hi)
		switch f.num {
		case 1:
			a.ID = r.str(f, "alert.id")
		case 2:
			a.Queue = r.str(f, "alert.queue")
		case 3:
			a.Priority = r.str(f, "alert.priority")
		case 4:
			a.Rule = r.str(f, "alert.rule")
		case 5:
			a.CreatedAt = r.time(f, "alert.created_at")
		case 6:
			a.Team = r.str(f, "alert.team")
		case 7:
			a.DueAt = r.time(f, "alert.due_at")
		case 8:
			a.HandedOffFrom = r.str(f, "alert.handed_off_from")
		case 9:
			a.Unstaffed = r.boolean(f, "alert.unstaffed")
		case 10:
			a.Incident = r.str(f, "alert.incident")
		case 11:
			a.IncidentSize = r.small(f, "alert.incident_size")
		case 12:
			if r.msg(f, "alert.spike") {
				if a.Spike == nil { // a message given again merges into the first
					a.Spike = new(Spike)
				}
				s := a.Spike
				for pos := f.lo; pos < f.hi && r.err == nil; {
					g := r.next(&pos, f.hi)
					switch g.num {
					case 1:
						s.Watchlist = r.str(g, "spike.watchlist")
					case 2:
						s.Region = r.str(g, "spike.region")
					case 3:
						s.WindowStart = r.time(g, "spike.window_start")
					case 4:
						s.Window = r.str(g, "spike.window")
					case 5:
						s.Count = r.small(g, "spike.count")
					case 6:
						s.Baseline = r.f64(g, "spike.baseline")
					case 7:
						s.Why = r.str(g, "spike.why")
					case 8:
						s.TopTerms = append(s.TopTerms, elem(r, r.str(g, "spike.top_terms"), sizeString))
					case 9:
						s.TopAuthors = append(s.TopAuthors, elem(r, r.str(g, "spike.top_authors"), sizeString))
					}
				}
			}
		case 13:
			a.Retracted = r.boolean(f, "alert.retracted")
		case 14:
			a.EscalateTo = r.str(f, "alert.escalate_to")
		case 15:
			a.EscalateAt = r.time(f, "alert.escalate_at")
		case 16:
			a.Of = r.str(f, "alert.of")
		case 17:
			a.Reason = r.str(f, "alert.reason")
		case 18:
			if r.msg(f, "alert.resolved") {
				if a.Resolved == nil { // a message given again merges into the first
					a.Resolved = new(Resolution)
				}
				res := a.Resolved
				for pos := f.lo; pos < f.hi && r.err == nil; {
					g := r.next(&pos, f.hi)
					switch g.num {
					case 1:
						res.By = r.str(g, "resolved.by")
					case 2:
						res.Outcome = r.str(g, "resolved.outcome")
					case 3:
						res.At = r.time(g, "resolved.at")
					}
				}
			}
		}
	}
}

func (r *reader) volume(v *Volume, lo, hi int) {
	for pos := lo; pos < hi && r.err == nil; {
		f := r.next(&pos, hi)
		if f.num != 1 || !r.msg(f, "volume.cells") {
			continue
		}
		v.Cells = append(v.Cells, elem(r, VolumeCell{}, sizeCell))
		c := &v.Cells[len(v.Cells)-1]
		for pos := f.lo; pos < f.hi && r.err == nil; {
			g := r.next(&pos, f.hi)
			switch g.num {
			case 1:
				c.Minute = r.time(g, "volume.minute")
			case 2:
				c.Platform = r.str(g, "volume.platform")
			case 3:
				c.Lang = r.str(g, "volume.lang")
			case 4:
				if !r.msg(g, "volume.posts") {
					break
				}
				n := g.hi - g.lo
				if n%8 != 0 {
					r.err = fmt.Errorf("volume.posts: %d bytes, not a whole number of hashes", n)
					break
				}
				elem(r, 0, n)                       // a hash for its 8 bytes
				c.Posts = slices.Grow(c.Posts, n/8) // sized by bytes that are there
				for i := range n / 8 {
					h, _ := protowire.ConsumeFixed64(r.b[g.lo+8*i:])
					c.Posts = append(c.Posts, h)
				}
			}
		}
	}
}
