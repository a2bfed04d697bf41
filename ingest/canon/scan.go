// Package canon holds what every earshot decoder shares: a structural check
// of raw JSON that the fast decoders skip, flexible id and time values, and
// the normalisation and limits of a canonical post.
package canon

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/post"
)

// MaxDepth bounds JSON nesting. Real payloads nest under 10 deep; a bound
// keeps a hostile line from costing stack or time in any decoder.
const MaxDepth = 64

// Scan checks what JSON decoders accept silently but earshot refuses: invalid
// UTF-8 (decoders substitute U+FFFD), escaped lone surrogates (same), duplicate
// keys in an object (decoders keep one, so two readers can disagree on a post),
// nesting deeper than MaxDepth, and anything after the top-level value. It is
// a single pass and allocates only for objects with many keys.
//
// It is a full JSON validator, so the decoders after it meet only
// well-formed input.
func Scan(b []byte) error {
	_, err := ScanKeys(b)
	return err
}

// Keys is the set of well-known names among a JSON object's top-level keys,
// which is how a line's shape is told without decoding it twice.
type Keys uint32

// Top-level keys ScanKeys reports.
const (
	KeyPlatform Keys = 1 << iota
	KeyID
	KeyDID
	KeyTimeUS
	KeyCommit
	KeyData
	KeyErrors
	KeyEvent
	KeyPayload
	KeyAccount
	KeyContent
	KeyAction
	KeyV
	KeyPost
	KeyAuthorID // "author_id": an X tweet at the top level (twarc's flattened export)
	KeyTwarc    // "__twarc": twarc's metadata on each flattened tweet
	KeySubreddit
	KeyKind
)

// keyOf names a top-level key; a switch beats a map lookup on this path.
func keyOf(k []byte) Keys {
	switch string(k) {
	case "platform":
		return KeyPlatform
	case "id":
		return KeyID
	case "did":
		return KeyDID
	case "time_us":
		return KeyTimeUS
	case "commit":
		return KeyCommit
	case "data":
		return KeyData
	case "errors":
		return KeyErrors
	case "event":
		return KeyEvent
	case "payload":
		return KeyPayload
	case "account":
		return KeyAccount
	case "content":
		return KeyContent
	case "action":
		return KeyAction
	case "v":
		return KeyV
	case "post":
		return KeyPost
	case "author_id":
		return KeyAuthorID
	case "__twarc":
		return KeyTwarc
	case "subreddit":
		return KeySubreddit
	case "kind":
		return KeyKind
	}
	return 0
}

// ScanKeys is Scan that also reports which well-known keys the top-level
// object has (none when the value is not an object).
func ScanKeys(b []byte) (Keys, error) {
	if err := post.CheckUTF8(b); err != nil {
		return 0, err
	}
	s := scanner{b: b}
	s.ws()
	if err := s.value(0); err != nil {
		return 0, err
	}
	s.ws()
	if s.i != len(b) {
		return 0, fmt.Errorf("malformed JSON: data after the top-level value at byte %d", s.i)
	}
	return s.keys, nil
}

// ErrDuplicateKey is wrapped by Scan's error for an object with a key twice.
var ErrDuplicateKey = errors.New("duplicate key")

type scanner struct {
	b    []byte
	i    int
	keys Keys
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("malformed JSON at byte %d: "+format, append([]any{s.i}, args...)...)
}

func (s *scanner) value(depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("JSON nested more than %d deep at byte %d", MaxDepth, s.i)
	}
	if s.i >= len(s.b) {
		return s.errf("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			s.ws()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.errf("unexpected end in array")
			}
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if s.b[s.i] != ',' {
				return s.errf("want , or ] in array")
			}
			s.i++
		}
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *scanner) literal(want string) error {
	if len(s.b)-s.i < len(want) || string(s.b[s.i:s.i+len(want)]) != want {
		return s.errf("invalid literal")
	}
	s.i += len(want)
	return nil
}

// number checks JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	first := s.i
	if n := digits(); n == 0 || n > 1 && s.b[first] == '0' {
		s.i = start
		return s.errf("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.errf("invalid number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.errf("invalid number")
		}
	}
	return nil
}

// ErrNotField is wrapped by Scan's error for a key that a decoder would read
// as a field whose name it is not (it differs in case).
var ErrNotField = errors.New("not the field")

func (s *scanner) object(depth int) error {
	s.i++ // {
	// Keys are compared as the decoders read them: unescaped and case
	// folded (see fields.go). Most keys are plain ASCII without escapes,
	// compared in place, ASCII case ignored; past 32 keys, or at a key with
	// an escape or a non-ASCII letter, by their folds in a map.
	var small [16][]byte
	keys := small[:0]
	var many map[string][]byte // fold → the key as sent
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.errf("want a key")
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		name, ascii, lower, escaped := k, true, true, false
		for _, c := range k {
			switch {
			case c == '\\':
				escaped = true
			case c >= utf8.RuneSelf:
				ascii = false
			case 'A' <= c && c <= 'Z':
				lower = false
			}
		}
		if escaped {
			name, ascii, lower = unescape(k), true, true
			for _, c := range name {
				if c >= utf8.RuneSelf {
					ascii = false
				} else if 'A' <= c && c <= 'Z' {
					lower = false
				}
			}
		}
		if depth == 1 {
			s.keys |= keyOf(name)
		}
		if many == nil && (!ascii || len(keys) == 32) { // linear search stops paying; hostile objects have thousands
			many = make(map[string][]byte, 64)
			for _, o := range keys {
				many[string(appendFold(nil, o))] = o
			}
		}
		if many != nil {
			f := string(appendFold(nil, name))
			if o, dup := many[f]; dup {
				return dupErr(k, o)
			}
			many[f] = k
		} else {
			for _, o := range keys {
				if asciiEqualFold(o, name) {
					return dupErr(k, o)
				}
			}
			keys = append(keys, name)
		}
		if field, ok := fieldFor(name, ascii && lower); ok {
			return fmt.Errorf("key %q is %w %q: member names are matched exactly (a JSON decoder would read it as that field)", cut(k), ErrNotField, field)
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.errf("want :")
		}
		s.i++
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errf("unexpected end in object")
		}
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		if s.b[s.i] != ',' {
			return s.errf("want , or } in object")
		}
		s.i++
	}
}

func dupErr(k, first []byte) error {
	if string(k) == string(first) {
		return fmt.Errorf("%w %q in an object", ErrDuplicateKey, cut(k))
	}
	return fmt.Errorf("%w %q in an object: the same name as %q once unescaped and case-folded, as a JSON decoder reads it", ErrDuplicateKey, cut(k), cut(first))
}

// asciiEqualFold reports whether a and b (ASCII) are equal but for case.
func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// unescape returns a string's raw contents (escapes already checked by str)
// as the string they spell.
func unescape(raw []byte) []byte {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var v string
	if err := json.Unmarshal(q, &v); err != nil {
		return raw // str accepted it: cannot happen
	}
	return []byte(v)
}

// str scans a string starting at its quote and returns its raw contents.
func (s *scanner) str() ([]byte, error) {
	s.i++
	start := s.i
	for s.i < len(s.b) {
		// most string bytes are plain: skip them in a tight loop
		for s.i < len(s.b) && !strSpecial[s.b[s.i]] {
			s.i++
		}
		if s.i >= len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], nil
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return nil, s.errf("unexpected end in string")
			}
			if s.b[s.i+1] == 'u' {
				if err := s.escape(); err != nil {
					return nil, err
				}
				continue
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			default:
				return nil, s.errf("bad escape \\%c", s.b[s.i+1])
			}
			s.i += 2
		default: // c < 0x20
			return nil, s.errf("control character %#x in string", c)
		}
	}
	return nil, s.errf("unexpected end in string")
}

// escape checks a \uXXXX escape at s.i, pairing surrogates.
func (s *scanner) escape() error {
	r, ok := hex4(s.b, s.i+2)
	if !ok {
		return s.errf("bad \\u escape")
	}
	s.i += 6
	if r < 0xD800 || r > 0xDFFF {
		return nil
	}
	if r >= 0xDC00 {
		return fmt.Errorf("lone surrogate \\u%04X at byte %d", r, s.i-6)
	}
	if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
		if r2, ok := hex4(s.b, s.i+2); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
			s.i += 6
			return nil
		}
	}
	return fmt.Errorf("lone surrogate \\u%04X at byte %d", r, s.i-6)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func cut(b []byte) string {
	if len(b) <= 64 {
		return string(b)
	}
	n := 64
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

// strSpecial marks the bytes that end a run of plain string bytes.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()
