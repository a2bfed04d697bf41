package strictyaml

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

var durationType = reflect.TypeFor[time.Duration]()

// bareDurations reads data as v would and finds the durations written as a
// bare number. A bare 0 is zero, as a person writing "linger: 0" means, but
// the decoder refuses it (it wants a unit): zeroed is data with each such 0
// written 0s, on the same line. unitless maps the line of any other bare
// number (5, 1.5: seconds? milliseconds?) to its key, for the error.
func bareDurations(data []byte, v any) (zeroed []byte, unitless map[int]string) {
	var doc yaml.Node
	if !holdsDuration(reflect.TypeOf(v), map[reflect.Type]bool{}) || yaml.Unmarshal(data, &doc) != nil {
		return data, nil // most files (watchlists) hold no duration: not parsed twice
	}
	var zeros []int // byte offsets of the 0s
	var lines []int // offset of each line, when a 0 is found
	walk("", &doc, reflect.TypeOf(v), func(key string, n *yaml.Node, t reflect.Type) {
		if t != durationType || n.Kind != yaml.ScalarNode || n.Style != 0 {
			return
		}
		switch tag := n.ShortTag(); {
		case n.Value == "0" && tag == "!!int":
			if lines == nil {
				lines = lineStarts(data)
			}
			if at := offset(data, lines, n.Line, n.Column); bareZeroAt(data, at) {
				zeros = append(zeros, at)
			}
		case tag == "!!int" || tag == "!!float":
			if unitless == nil {
				unitless = map[int]string{}
			}
			unitless[n.Line] = key
		}
	})
	if len(zeros) == 0 {
		return data, unitless
	}
	slices.Sort(zeros)
	zeroed = make([]byte, 0, len(data)+len(zeros))
	last := 0
	for _, at := range zeros {
		zeroed = append(append(zeroed, data[last:at+1]...), 's')
		last = at + 1
	}
	return append(zeroed, data[last:]...), unitless
}

// holdsDuration says a value of type t may hold a time.Duration that the
// decoder reads (not one inside a yaml.Unmarshaler, which reads its own).
func holdsDuration(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || seen[t] || reflect.PointerTo(t).Implements(unmarshaler) {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return holdsDuration(t.Elem(), seen)
	case reflect.Struct:
		for f := range t.Fields() {
			if holdsDuration(f.Type, seen) {
				return true
			}
		}
	}
	return t == durationType
}

// lineStarts are the offsets at which data's lines begin, counted at \n
// only; the parser also breaks lines at a lone \r and a few Unicode breaks,
// so a caller of offset checks what it finds there.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// offset is the byte offset of 1-based line and column (in characters, as
// the YAML parser counts them) in data, whose lines begin at lines; -1
// when there is no such place.
func offset(data []byte, lines []int, line, col int) int {
	if line < 1 || line > len(lines) {
		return -1
	}
	at := lines[line-1]
	for range col - 1 {
		if at >= len(data) || data[at] == '\n' {
			return -1
		}
		_, w := utf8.DecodeRune(data[at:])
		at += w
	}
	return at
}

// bareZeroAt says data holds a plain scalar 0 at offset at, alone.
func bareZeroAt(data []byte, at int) bool {
	if at < 0 || at >= len(data) || data[at] != '0' {
		return false
	}
	return at+1 == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}#"), data[at+1]) >= 0
}

var unitlessMsg = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(?:int|float) `([^`]*)` into time.Duration$")

// unitlessError rewrites the decoder's refusal of a bare number for a
// duration into one that names the key and the fix; ok is false for any
// other message.
func unitlessError(name, msg string, unitless map[int]string) (string, bool) {
	m := unitlessMsg.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	var line int
	fmt.Sscan(m[1], &line)
	key := unitless[line]
	if key == "" {
		key = "duration"
	}
	return fmt.Sprintf("%s:%s: %s: %s has no unit: write a duration with one, such as %[4]ss or %[4]sms (only 0 may go without)", name, m[1], key, m[2]), true
}
