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
