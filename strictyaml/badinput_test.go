package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

// TestSecondDocument: yaml reads only the first document of a file, so a
// watchlist or rule set pasted after a "---" would be ignored without a
// word. It is an error naming its line; an empty document after a
// trailing "---" is not.
func TestSecondDocument(t *testing.T) {
	var c conf
	err := Decode("c.yaml", []byte("name: first\n---\nname: second\ninner:\n  sise: 3\n"), &c)
	if !errors.Is(err, ErrInvalid) || err == nil || !strings.Contains(err.Error(), "c.yaml:3: a second YAML document") {
		t.Errorf("error %v, want the second document refused at line 3", err)
	}
	for _, in := range []string{"---\nname: x\n", "name: x\n---\n", "name: x\n...\n", "---\nname: x\n---\n# nothing\n"} {
		if err := Decode("c.yaml", []byte(in), &c); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestFractionIntoInteger: yaml truncates 0.5 into an integer field to 0
// without a word, and a rate of 0 means as fast as possible. A number with
// a fraction for an integer is an error naming the line, wherever it is.
func TestFractionIntoInteger(t *testing.T) {
	type item struct {
		N int `yaml:"n"`
	}
	type inner struct {
		Size int `yaml:"size"`
	}
	type cfg struct {
		Rate   int            `yaml:"rate"`
		Limit  uint64         `yaml:"limit"`
		Share  float64        `yaml:"share"`
		Inner  inner          `yaml:"inner"`
		Items  []item         `yaml:"items"`
		Ptr    *item          `yaml:"ptr"`
		ByName map[string]int `yaml:"by_name"`
		inner  `yaml:",inline"`
	}
	for in, want := range map[string]string{
		"rate: 0.5\n":                   "c.yaml:1: rate: 0.5 is not a whole number",
		"limit: 2.5\n":                  "c.yaml:1: limit: 2.5",
		"inner:\n  size: 1.5\n":         "c.yaml:2: size: 1.5",
		"items:\n- n: 1\n- n: 2.25\n":   "c.yaml:3: n: 2.25",
		"ptr: {n: 0.1}\n":               "c.yaml:1: n: 0.1",
		"by_name: {a: 1, b: 3.5}\n":     "c.yaml:1: b: 3.5",
		"size: 7.5\n":                   "c.yaml:1: size: 7.5",
		"x: &a 1.5\nrate: *a\n":         "", // an unknown key "x" is refused anyway
		"rate: 1e4\nshare: 0.5\n":       "-",
		"rate: 10000.0\nlimit: 3\n":     "-",
		"items:\n- n: 1\nby_name: {}\n": "-",
	} {
		var c cfg
		err := Decode("c.yaml", []byte(in), &c)
		switch {
		case want == "-" && err != nil:
			t.Errorf("%q: %v", in, err)
		case want != "-" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one holding %q", in, err, want)
		}
	}
}

// TestFractionBesideUnknownKey: a fraction for an integer is reported with
// the file's other decode problems, all at once. It was dropped when an
// unknown key or a wrong type came with it: the file was refused for those,
// and only once they were fixed did the 0.5 (read as 0, as fast as
// possible) come out.
func TestFractionBesideUnknownKey(t *testing.T) {
	type cfg struct {
		Rate int    `yaml:"rate"`
		Name string `yaml:"name"`
	}
	var c cfg
	err := Decode("c.yaml", []byte("bogus: 1\nrate: 0.5\nname: [a]\n"), &c)
	for _, want := range []string{`c.yaml:1: unknown key "bogus"`, "c.yaml:2: rate: 0.5 is not a whole number", "c.yaml:3:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one holding %q", err, want)
		}
	}
	if !Partial(err) {
		t.Errorf("%v: not Partial, so the rest of the file goes unchecked", err)
	}
}

// TestInvalidUTF8: a Latin-1 file is refused, naming the file, rather than
// read with U+FFFD in place of its accented letters.
func TestInvalidUTF8(t *testing.T) {
	var c conf
	err := Decode("c.yaml", []byte("name: caf\xe9\n"), &c)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "c.yaml: yaml: ") || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("error %v, want the file named and UTF-8 blamed", err)
	}
}
