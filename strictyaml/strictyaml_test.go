package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type conf struct {
	Name  string        `yaml:"name"`
	Every time.Duration `yaml:"every"`
	Inner struct {
		Size int `yaml:"size"`
	} `yaml:"inner"`
}

func TestDecode(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		var c conf
		err := Decode("c.yaml", []byte(in), &c)
		if len(want) == 0 {
			if err != nil {
				t.Errorf("%q: unexpected error %v", in, err)
			}
			return
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: error %v is not ErrInvalid", in, err)
		}
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %v, want it to contain %q", in, err, w)
			}
		}
	}
	f("name: x\nevery: 5s\ninner:\n  size: 3\n")
	f("")
	f("name: x\ninner:\n  sise: 3\n", `c.yaml:3: unknown key "sise"`)
	// Every problem at once.
	f("nmae: x\ninner:\n  size: big\n", `c.yaml:1: unknown key "nmae"`, "c.yaml:3:")
	f("name: [unclosed\n", "c.yaml:")
	f("every: soon\n", "c.yaml:1:")
}
