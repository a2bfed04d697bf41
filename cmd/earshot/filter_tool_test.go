package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// earshot filter copies the matching lines unchanged, reports a refused
// line with its number and exits 1 for it, and reads keywords from a file
// of any length (split into watchlists of at most match.MaxKeywords).
func TestFilterTool(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "wl"), 0o755)
	os.WriteFile(filepath.Join(dir, "wl", "a.yaml"), []byte("id: a\nkeywords: [acme]\n"), 0o644)
	var kw strings.Builder
	for i := range 25_000 {
		fmt.Fprintf(&kw, "term%d\n", i)
	}
	kw.WriteString("\n# a comment\nglobex\n")
	os.WriteFile(filepath.Join(dir, "kw.txt"), []byte(kw.String()), 0o644)
	line := func(id, text string) string {
		return `{"platform":"x", "id":"` + id + `","text":"` + text + `","created_at":"2026-11-20T10:00:00Z","extra":{"kept":[1,2]}}`
	}
	body := line("1", "ACME one") + "\n" + line("2", "nothing") + "\n" + line("3", "acme \xff bad") + "\n" + line("4", "globex and acme") + "\n"
	path := filepath.Join(dir, "posts.ndjson")
	os.WriteFile(path, []byte(body), 0o644)

	var out, errb bytes.Buffer
	err := run([]string{"filter", "--watchlists", filepath.Join(dir, "wl"), path}, &out, &errb)
	if exitCode(err) != 1 {
		t.Fatalf("filter with a bad line: %v, want exit 1\n%s", err, errb.String())
	}
	if want := line("1", "ACME one") + "\n" + line("4", "globex and acme") + "\n"; out.String() != want {
		t.Errorf("out:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, w := range []string{"posts.ndjson:3: invalid UTF-8", `"kept":2`, `"dead_letters":1`} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("stderr %q, want %q", errb.String(), w)
		}
	}

	out.Reset()
	errb.Reset()
	os.WriteFile(path, []byte(line("5", "I said term24999")+"\n"+line("6", "globex")+"\n"+line("7", "term")+"\n"), 0o644)
	if err := run([]string{"filter", path, "--keywords", filepath.Join(dir, "kw.txt"), "--workers", "3"}, &out, &errb); err != nil {
		t.Fatalf("filter --keywords: %v\n%s", err, errb.String())
	}
	if got := strings.Count(out.String(), "\n"); got != 2 || !strings.Contains(out.String(), `"5"`) || !strings.Contains(out.String(), `"6"`) {
		t.Errorf("out:\n%s\nwant posts 5 and 6", out.String())
	}

	for _, args := range [][]string{
		{"filter", path},
		{"filter", "--keywords", "kw", "--watchlists", "wl", path},
		{"filter", "--keywords", filepath.Join(dir, "kw.txt"), "--workers", "-1", path},
		{"filter", "--keywords", filepath.Join(dir, "kw.txt")},
	} {
		if err := run(args, &out, &errb); exitCode(err) != 2 {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
