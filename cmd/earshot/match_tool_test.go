package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// earshot match --posts reads posts as ingest does: a line over
// max_post_bytes or with invalid UTF-8 is reported and skipped, and the
// posts after it are still matched.
func TestMatchToolUsesTheIngestDecoder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "wl"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "wl", "a.yaml"), []byte("id: a\nkeywords: [acme]\n"), 0o644)
	post := func(id, text string) string {
		return `{"platform":"x","id":"` + id + `","text":"` + text + `","created_at":"2026-11-20T10:00:00Z"}` + "\n"
	}
	body := post("1", "acme one") + post("2", strings.Repeat("acme ", 4<<20)) + post("3", "acme \xff bad") + post("4", "acme four")
	path := filepath.Join(dir, "posts.ndjson")
	os.WriteFile(path, []byte(body), 0o644)
	var out, errb bytes.Buffer
	if err := run([]string{"match", "--watchlists", filepath.Join(dir, "wl"), "--posts", path}, &out, &errb); err != nil {
		t.Fatalf("match: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), `"x:1"`) || !strings.Contains(out.String(), `"x:4"`) || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("matches:\n%s\nwant posts 1 and 4", out.String())
	}
	for _, want := range []string{"posts.ndjson:2: line is", "posts.ndjson:3: invalid UTF-8", "2 posts, 2 matches, 2 unreadable lines"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr %q, want %q", errb.String(), want)
		}
	}
}
