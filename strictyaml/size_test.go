package strictyaml

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileSizeCap: a file over MaxFileBytes is refused before it is read in
// full, with an error naming the limit, and so is a device that never ends.
func TestFileSizeCap(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte("name: "+strings.Repeat("x", MaxFileBytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{big}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, p := range paths {
		var c conf
		err := File(p, &c)
		if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprint(MaxFileBytes)) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want too large, naming the file and the limit", p, err)
		}
	}
	if err := Decode("d.yaml", make([]byte, MaxFileBytes+1), new(conf)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Decode of %d bytes: %v, want ErrTooLarge", MaxFileBytes+1, err)
	}
	// A file at the limit is read.
	ok := filepath.Join(t.TempDir(), "ok.yaml")
	if err := os.WriteFile(ok, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := File(ok, new(conf)); err != nil {
		t.Error(err)
	}
}

// TestErrorsCapped: a file with thousands of type errors reports the first
// MaxErrors and counts the rest.
func TestErrorsCapped(t *testing.T) {
	type list struct {
		Sizes []int `yaml:"sizes"`
	}
	var b strings.Builder
	b.WriteString("sizes:\n")
	for range 10_000 {
		b.WriteString("  - notanumber\n")
	}
	err := Decode("l.yaml", []byte(b.String()), new(list))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if n := strings.Count(msg, "\n"); n > MaxErrors+2 {
		t.Errorf("%d lines of errors, want at most %d", n, MaxErrors+2)
	}
	if !strings.Contains(msg, fmt.Sprintf("and %d more problems", 10_000-MaxErrors)) {
		t.Errorf("no count of the problems left out: ...%s", msg[max(0, len(msg)-200):])
	}
}

// TestCapKeepsWhatErrorsIs: the problems Cap leaves out of the message
// still answer errors.Is.
func TestCapKeepsWhatErrorsIs(t *testing.T) {
	var errs []error
	for range MaxErrors {
		errs = append(errs, errors.New("plain"))
	}
	errs = append(errs, fmt.Errorf("%w: late", ErrInvalid))
	err := errors.Join(Cap(errs)...)
	if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "late") || !strings.Contains(err.Error(), "and 1 more problems") {
		t.Errorf("%v: want ErrInvalid found, the late problem counted, not shown", err)
	}
}
