package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/strictyaml"
)

// TestOversizedFilesRefused: --config /dev/zero, a watchlist of 100 MB's
// kind (here just over the limit) and an oversized routing policy are each
// refused at start, as configuration errors naming the limit, without
// reading the whole file.
func TestOversizedFilesRefused(t *testing.T) {
	ex := examples(t)
	dir := t.TempDir()
	big := func(name string) string {
		p := filepath.Join(dir, name)
		var b strings.Builder
		b.WriteString("id: huge\nkeywords:\n")
		for b.Len() <= strictyaml.MaxFileBytes {
			b.WriteString("  - acme\n")
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wl := filepath.Join(dir, "watchlists")
	if err := os.Mkdir(wl, 0o755); err != nil {
		t.Fatal(err)
	}
	big("watchlists/huge.yaml")
	policy := big("routing.yaml")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		"/dev/zero": "/dev/zero",
		"watchlist": write("wl.yaml", "match: {watchlists: "+wl+"}\nroute: {policy: "+filepath.Join(ex, "routing.yaml")+"}\n"),
		"policy":    write("pol.yaml", "match: {watchlists: "+filepath.Join(ex, "watchlists")+"}\nroute: {policy: "+policy+"}\n"),
	}
	for name, cfg := range cases {
		var out, errb bytes.Buffer
		err := run([]string{"run", "--config", cfg}, &out, &errb)
		if !errors.Is(err, strictyaml.ErrTooLarge) || exitCode(err) != 2 || !strings.Contains(err.Error(), fmt.Sprint(strictyaml.MaxFileBytes)) {
			t.Errorf("%s: %v (exit %d), want a configuration error naming the limit", name, err, exitCode(err))
		}
	}
}

// TestPrintableCapsErrors: thousands of problems print as the first
// MaxErrors lines and a count; a huge line is cut.
func TestPrintableCapsErrors(t *testing.T) {
	var lines []string
	for i := range 10_000 {
		lines = append(lines, fmt.Sprintf("w.yaml:%d: bad", i))
	}
	lines[0] = strings.Repeat("é", 100_000)
	got := strictyaml.Bound(strings.Join(lines, "\n"))
	if len(got) > 10_000 {
		t.Errorf("printed %d bytes", len(got))
	}
	if !strings.HasSuffix(got, fmt.Sprintf("and %d more lines", 10_000-strictyaml.MaxErrors)) {
		t.Errorf("no count at the end: %q", got[max(0, len(got)-100):])
	}
	if strings.Contains(got, "\uFFFD") {
		t.Error("a character was cut in half")
	}
}
