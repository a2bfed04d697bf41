// Package strictyaml decodes YAML configuration strictly: an unknown key is
// an error, and every error names the file and line so a person can fix it.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid wraps every decoding problem, so callers can tell a bad file
// (exit code 2) from an unreadable one.
var ErrInvalid = errors.New("invalid configuration")

// MaxFileBytes bounds every configuration file earshot reads: the
// configuration, watchlists, routing policy, organisation and token files.
// The largest real ones are a few hundred kilobytes (a watchlist holds at
// most 10,000 keywords); a bigger file is a mistake (a log, /dev/zero) and
// is refused before it is read in full.
const MaxFileBytes = 4 << 20

// MaxErrors is how many problems Decode reports before it counts the rest.
const MaxErrors = 50

// ErrTooLarge says a file is over MaxFileBytes; the errors that wrap it
// wrap ErrInvalid too.
var ErrTooLarge = errors.New("file too large")

// File reads and decodes path into v.
func File(path string, v any) error {
	data, err := ReadFile(path)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return err
		}
		// a missing or unreadable configuration file is a configuration problem
		return errors.Join(ErrInvalid, err)
	}
	return Decode(path, data, v)
}

// ReadFile reads path, refusing a file over MaxFileBytes with an error that
// wraps ErrTooLarge and names the limit. It never holds more than the limit
// (and a byte) in memory, so a device that never ends (/dev/zero) is refused
// too.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(name string) error {
	return errors.Join(ErrInvalid, fmt.Errorf("%s: %w: over the limit of %d bytes (%d MiB) for a configuration file; is it the right file?", name, ErrTooLarge, MaxFileBytes, MaxFileBytes>>20))
}

// Cap keeps the first MaxErrors of errs and counts the others, so that a
// file with a million problems yields a message a person can read. The
// errors left out still answer errors.Is and errors.As.
func Cap(errs []error) []error {
	if len(errs) <= MaxErrors {
		return errs
	}
	return append(errs[:MaxErrors:MaxErrors], moreErrors(errs[MaxErrors:]))
}

// moreErrors are the problems Cap leaves out of the message.
type moreErrors []error

func (m moreErrors) Error() string   { return fmt.Sprintf("… and %d more problems", len(m)) }
func (m moreErrors) Unwrap() []error { return m }

var (
	unknownKey = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (.+)$`)
	lineMsg    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// Decode decodes data, named name in errors, into v. All type errors are
// reported at once.
func Decode(name string, data []byte, v any) error {
	if len(data) > MaxFileBytes {
		return tooLarge(name)
	}
	data, unitless := bareDurations(data, v)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		errs := fractions(name, data, v)
		if err := secondDocument(name, dec); err != nil {
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return nil
		}
		return errors.Join(append([]error{ErrInvalid}, Cap(errs)...)...)
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, e := range te.Errors {
			if msg, ok := unitlessError(name, e, unitless); ok {
				errs = append(errs, errors.New(msg))
				continue
			}
			errs = append(errs, errors.New(format(name, e)))
		}
		// The fractions the file holds too, which the decoder truncated
		// without a word: all the file's problems at once.
		errs = append(errs, fractions(name, data, v)...)
		// The decoder went on past these: v holds the rest of the file,
		// which a caller may still validate (Partial).
		return partial{errors.Join(append([]error{ErrInvalid}, Cap(errs)...)...)}
	}
	return errors.Join(ErrInvalid, errors.New(format(name, err.Error())))
}

// partial marks decode errors (unknown keys, wrong types) after which the
// value holds everything else the file says.
type partial struct{ error }

func (p partial) Unwrap() error { return p.error }

// Partial reports whether err, from Decode or File, left the value decoded
// but for the keys it names: the caller can validate the rest and report
// every problem of the file at once.
func Partial(err error) bool {
	var p partial
	return errors.As(err, &p)
}

func format(name, msg string) string {
	if m := unknownKey.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: unknown key %q", name, m[1], m[2])
	}
	if m := lineMsg.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: %s", name, m[1], m[2])
	}
	return name + ": " + msg
}

// secondDocument refuses a document after the first, which Decode would
// otherwise ignore without a word: a watchlist pasted after a "---" would
// never be matched. An empty one, after a trailing "---", is fine.
func secondDocument(name string, dec *yaml.Decoder) error {
	var doc yaml.Node
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return errors.New(format(name, err.Error()))
	case len(doc.Content) == 0 || doc.Content[0].Tag == "!!null":
		return secondDocument(name, dec)
	}
	return fmt.Errorf("%s:%d: a second YAML document; one per file", name, doc.Content[0].Line)
}

// fractions refuses a number with a fraction where v holds an integer:
// yaml truncates 0.5 to 0 without a word, and a rate of 0 means as fast as
// possible; and a float that is not a number (.nan). data has been decoded
// into v, so its shape fits v's.
func fractions(name string, data []byte, v any) []error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	var errs []error
	walkFractions(name, "", &doc, reflect.TypeOf(v), &errs)
	return errs
}

var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

func walkFractions(name, key string, n *yaml.Node, t reflect.Type, errs *[]error) {
	walk(key, n, t, func(key string, n *yaml.Node, t reflect.Type) {
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			var f float64
			if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && n.Decode(&f) == nil && f != math.Trunc(f) {
				*errs = append(*errs, fmt.Errorf("%s:%d: %s: %s is not a whole number", name, n.Line, key, n.Value))
			}
		case reflect.Float32, reflect.Float64:
			// NaN passes every range check (each comparison is false), so a
			// rate of .nan would be no limit at all.
			var f float64
			if n.Kind == yaml.ScalarNode && n.Decode(&f) == nil && math.IsNaN(f) {
				*errs = append(*errs, fmt.Errorf("%s:%d: %s: %s is not a number", name, n.Line, key, n.Value))
			}
		}
	})
}

// walk calls leaf with each node of the document n that holds a value of
// type t that is neither a list, a map nor a struct (which it descends
// into), with the key the value is under. It skips types that read their
// own node (yaml.Unmarshaler) and nodes whose shape does not fit t.
func walk(key string, n *yaml.Node, t reflect.Type, leaf func(key string, n *yaml.Node, t reflect.Type)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return // the type reads its own node
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				walk(key, c, t.Elem(), leaf)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i].Value, n.Content[i+1], t.Elem(), leaf)
			}
		}
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			fields := yamlFields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if ft, ok := fields[n.Content[i].Value]; ok {
					walk(n.Content[i].Value, n.Content[i+1], ft, leaf)
				}
			}
		}
	default:
		leaf(key, n, t)
	}
}

// yamlFields maps the YAML keys of struct t to their types, inlined
// structs included, as yaml names them.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case tag == "-":
		case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
			for k, ft := range yamlFields(f.Type) {
				out[k] = ft
			}
		case !f.IsExported():
		case tag != "":
			out[tag] = f.Type
		default:
			out[strings.ToLower(f.Name)] = f.Type
		}
	}
	return out
}

// keyPath is the dotted key an error message begins with, as Validate
// methods write them: "transport.queue_size: …", "ingest.push.tenants[2]: …".
var keyPath = regexp.MustCompile(`^([a-z_][a-z0-9_]*(?:(?:\.[A-Za-z0-9_-]+)|\[\d+\])*)[:,]`)

// Locate prefixes each problem in err (a tree of errors.Join) with name and,
// where the problem begins with the dotted key it concerns and data holds
// that key, the key's line: "config.yaml:12: transport.queue_size: …". It
// keeps the first MaxErrors problems (see Cap) and wraps ErrInvalid.
func Locate(name string, data []byte, err error) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		root = yaml.Node{}
	}
	var errs []error
	for _, leaf := range leaves(err) {
		msg := leaf.Error()
		line := 0
		if m := keyPath.FindStringSubmatch(msg); m != nil {
			line = keyLine(&root, m[1])
		}
		if line > 0 {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, leaf))
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", name, leaf))
		}
	}
	return errors.Join(append([]error{ErrInvalid}, Cap(errs)...)...)
}

// leaves flattens a tree of joined errors into its problems.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if m, ok := err.(moreErrors); ok {
		return []error{m} // counted, not listed
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

var pathPart = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// keyLine is the line of the dotted key path in a decoded document, or of
// the deepest part of it present; 0 when even its first key is absent.
func keyLine(n *yaml.Node, path string) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range pathPart.FindAllString(path, -1) {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		var next *yaml.Node
		switch {
		case strings.HasPrefix(part, "["):
			var i int
			fmt.Sscanf(part, "[%d]", &i)
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		case n.Kind == yaml.MappingNode:
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == part {
					next = n.Content[k+1]
					line = n.Content[k].Line
					break
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
