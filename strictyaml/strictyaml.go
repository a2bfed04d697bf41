// Package strictyaml decodes YAML configuration strictly: an unknown key is
// an error, and every error names the file and line so a person can fix it.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid wraps every decoding problem, so callers can tell a bad file
// (exit code 2) from an unreadable one.
var ErrInvalid = errors.New("invalid configuration")

// File reads and decodes path into v.
func File(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return Decode(path, data, v)
}

var (
	unknownKey = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (.+)$`)
	lineMsg    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// Decode decodes data, named name in errors, into v. All type errors are
// reported at once.
func Decode(name string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		return secondDocument(name, dec)
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := []error{ErrInvalid}
		for _, e := range te.Errors {
			errs = append(errs, errors.New(format(name, e)))
		}
		return errors.Join(errs...)
	}
	return errors.Join(ErrInvalid, errors.New(format(name, err.Error())))
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
		return errors.Join(ErrInvalid, errors.New(format(name, err.Error())))
	case len(doc.Content) == 0 || doc.Content[0].Tag == "!!null":
		return secondDocument(name, dec)
	}
	return errors.Join(ErrInvalid, fmt.Errorf("%s:%d: a second YAML document; one per file", name, doc.Content[0].Line))
}
