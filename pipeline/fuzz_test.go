package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/earshot-dev/earshot/strictyaml"
)

// FuzzLoad: whatever a configuration file holds, Load returns a
// configuration or a configuration error (exit 2), never panics or hangs;
// a configuration it returns validates.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/pipeline/*.yaml")
	bounds, _ := filepath.Glob("testdata/bounds/*.yaml")
	examples := []string{"../deploy/examples/embedded.yaml", "../deploy/examples/distributed.yaml"}
	for _, file := range append(append(files, bounds...), examples...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 8<<10 {
			continue // the deep-nesting file, checked by TestConfigCorpus: the fuzzer would spend its time minimising it
		}
		f.Add(data)
	}
	if len(files) == 0 {
		f.Fatal("no seeds in testdata/config/pipeline")
	}
	path := filepath.Join(f.TempDir(), "earshot.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			if !errors.Is(err, strictyaml.ErrInvalid) {
				t.Fatalf("not a configuration error: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a loaded configuration does not validate: %v", err)
		}
	})
}
