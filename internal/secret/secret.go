// Package secret reads the secrets a configuration names (passwords,
// tokens) from one of three places, and keeps them out of logs and dumps.
//
// A secret key KEY in a configuration file may be given as
//
//	KEY: the value          inline (allowed, but the file then holds a secret)
//	KEY_file: /run/secrets/x   read from a file (trailing newlines dropped)
//	KEY_env: NAME            read from the environment variable NAME
//
// at most one of the three. The inline form has type String, which prints,
// logs and marshals as "[redacted]".
package secret

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// String is a secret given inline in a configuration file. It prints, logs
// and marshals (JSON, YAML) as Redacted; Value returns it. The value is
// held behind a pointer so that even fmt's paths that skip a field's
// methods (a bad verb on a pointer to a struct holding it) show an address,
// never the secret.
type String struct{ v *string }

// Redacted is what a secret shows in place of its value.
const Redacted = "[redacted]"

// New returns s as a String.
func New(s string) String {
	if s == "" {
		return String{}
	}
	return String{&s}
}

// Value returns the secret.
func (s String) Value() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether no secret is set (and lets omitempty omit it).
func (s String) IsZero() bool { return s.Value() == "" }

func (s String) redacted() string {
	if s.IsZero() {
		return ""
	}
	return Redacted
}

// String implements fmt.Stringer.
func (s String) String() string { return s.redacted() }

// GoString implements fmt.GoStringer (%#v).
func (s String) GoString() string { return fmt.Sprintf("%q", s.redacted()) }

// Format covers every fmt verb, %s %q %v %x included.
func (s String) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		fmt.Fprintf(f, "%q", s.redacted())
		return
	}
	io.WriteString(f, s.redacted())
}

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalText implements encoding.TextMarshaler (JSON and many encoders use it).
func (s String) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// MarshalYAML implements yaml.Marshaler.
func (s String) MarshalYAML() (any, error) { return s.redacted(), nil }

// UnmarshalText implements encoding.TextUnmarshaler: the value as given.
func (s *String) UnmarshalText(b []byte) error { *s = New(string(b)); return nil }

// UnmarshalYAML implements yaml.Unmarshaler: a scalar, the value as given.
func (s *String) UnmarshalYAML(n *yaml.Node) error {
	var v string
	if err := n.Decode(&v); err != nil {
		return err
	}
	*s = New(v)
	return nil
}

// maxBytes bounds a secret file: anything bigger is the wrong file.
const maxBytes = 64 << 10

// Resolve returns the secret KEY given inline, in the file named by file, or
// in the environment variable named by env (looked up with getenv; nil means
// os.Getenv). No source at all gives "" and no error: the secret is
// optional unless the caller says otherwise. Errors name the key, never the
// value.
func Resolve(key string, inline String, file, env string, getenv func(string) string) (string, error) {
	if err := Check(key, inline, file, env); err != nil {
		return "", err
	}
	switch {
	case file != "":
		return readFile(key+"_file", file)
	case env != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s_env: environment variable %s is not set or is empty", key, env)
		}
		return v, nil
	}
	return inline.Value(), nil
}

// Check is Resolve without reading: it checks the configuration's shape
// (at most one source; a variable's name a name) and reads no variable and
// no file. Every process checks the shape of the whole configuration; only
// the process that uses a secret resolves it (docs/deploy.md).
func Check(key string, inline String, file, env string) error {
	var set []string
	for k, on := range map[string]bool{key: !inline.IsZero(), key + "_file": file != "", key + "_env": env != ""} {
		if on {
			set = append(set, k)
		}
	}
	if len(set) > 1 {
		slices.Sort(set)
		return fmt.Errorf("%s: set together; give one", strings.Join(set, ", "))
	}
	if env != "" && !envName.MatchString(env) {
		return fmt.Errorf("%s_env: %.80q is not an environment variable's name (letters, digits, '_', '.' and '-', not first a digit, at most 256)", key, env)
	}
	return nil
}

// CheckRequired is Check for a secret that must be given.
func CheckRequired(key string, inline String, file, env string) error {
	if !Given(inline, file, env) {
		return fmt.Errorf("%s (or %s_file, %s_env): %w", key, key, key, ErrMissing)
	}
	return Check(key, inline, file, env)
}

// envName is a variable's name as Kubernetes allows it (a superset of
// POSIX's): no '=', space or control character, which no environment can
// hold.
var envName = regexp.MustCompile(`^[A-Za-z_.-][A-Za-z0-9_.-]{0,255}$`)

// Given reports whether any of the three sources is set.
func Given(inline String, file, env string) bool {
	return !inline.IsZero() || file != "" || env != ""
}

func readFile(key, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return "", fmt.Errorf("%s: reading %s: %w", key, path, err)
	}
	if len(b) > maxBytes {
		return "", fmt.Errorf("%s: %s is over %d bytes: not a secret", key, path, maxBytes)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", key, path)
	}
	return v, nil
}

// ErrMissing is wrapped by Required when no source is given.
var ErrMissing = errors.New("required")

// Required is Resolve for a secret that must be given.
func Required(key string, inline String, file, env string, getenv func(string) string) (string, error) {
	if !Given(inline, file, env) {
		return "", fmt.Errorf("%s (or %s_file, %s_env): %w", key, key, key, ErrMissing)
	}
	return Resolve(key, inline, file, env, getenv)
}
