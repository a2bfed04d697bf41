package canon

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The JSON decoders match an object's member names to struct fields
// case-insensitively (as encoding/json does): "TEXT", "Text" and "tExt" all
// fill Text. A key is therefore only as good as its spelling after
// unescaping and case folding. Scan refuses an object with two keys that
// fold to one name (a duplicate a decoder would resolve silently), and a
// key that folds to the name of a field some decoder reads without being
// that name exactly ("TEXT" is not the field "text").
//
// The field names are those of the decoders' struct types, registered by
// each decoder package when it is initialised (RegisterFields); the table
// is written only then and read concurrently after.
var (
	fieldsMu   sync.Mutex
	fields     = map[string]string{} // folded → the name exactly
	camel      = map[string]string{} // the same, for names that are not all lower-case ASCII
	camelLens  uint64                // bit n: some camel name is n bytes long (n < 64)
	camelLong  bool                  // some camel name is 64 bytes or longer
	registered = map[reflect.Type]bool{}
)

// RegisterFields records the JSON member names of the struct types of vs
// (and of the structs they hold), as the decoders read them. Call it from
// an init function: Scan reads the table without a lock.
func RegisterFields(vs ...any) {
	fieldsMu.Lock()
	defer fieldsMu.Unlock()
	for _, v := range vs {
		walkFields(reflect.TypeOf(v))
	}
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func walkFields(t reflect.Type) {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || registered[t] {
		return
	}
	registered[t] = true
	if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		return // decodes itself: its fields are not member names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			walkFields(f.Type) // promoted fields
			continue
		}
		if !f.IsExported() {
			continue
		}
		name := tag
		if name == "" {
			name = f.Name
		}
		addField(name)
		walkFields(f.Type)
	}
}

func addField(name string) {
	f := string(appendFold(nil, []byte(name)))
	fields[f] = name
	if name != strings.ToLower(name) || !isASCII(name) {
		camel[f] = name
		if len(name) < 64 {
			camelLens |= 1 << len(name)
		} else {
			camelLong = true
		}
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendFold appends the case fold of name as the decoders compare names:
// ASCII letters upper-cased, every other rune the smallest of its Unicode
// fold orbit (so the Kelvin sign is K, and ſ is S).
func appendFold(out, name []byte) []byte {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// fieldFor returns the field name that key (unescaped) folds to, when it
// is not key itself: key is read as that field by a decoder but is not it.
// plain says key is lower-case ASCII, which only a camel name can fold to.
func fieldFor(key []byte, plain bool) (string, bool) {
	table := fields
	if plain {
		if len(key) < 64 && camelLens&(1<<len(key)) == 0 || len(key) >= 64 && !camelLong {
			return "", false
		}
		table = camel
	}
	var buf [64]byte
	f := appendFold(buf[:0], key)
	name, ok := table[string(f)]
	if !ok || name == string(key) {
		return "", false
	}
	return name, true
}
