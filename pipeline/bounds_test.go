package pipeline

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/strictyaml"
)

// TestAbsurdSizesRefused loads every config in testdata/bounds, each with
// one size, count or duration far over what a process can hold (1e12 queue
// slots crashed the runtime), and checks it is refused as a configuration
// error at the line its first comment names ("# want: LINE: key").
func TestAbsurdSizesRefused(t *testing.T) {
	files, err := filepath.Glob("testdata/bounds/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			want := wantLine(t, f)
			_, err := Load(f)
			if !errors.Is(err, strictyaml.ErrInvalid) {
				t.Fatalf("Load: %v, want a configuration error", err)
			}
			if !strings.Contains(err.Error(), f+":"+want) {
				t.Errorf("Load: %v\nwant it to hold %q", err, f+":"+want)
			}
		})
	}
}

func wantLine(t *testing.T, path string) string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Scan()
	want, ok := strings.CutPrefix(sc.Text(), "# want: ")
	if !ok {
		t.Fatalf("%s: the first line should be # want: LINE: key", path)
	}
	return want
}
