package digest

import (
	"strings"
	"testing"
)

// A digest cuts a post's excerpt, its platform and its author's handle at a
// grapheme cluster boundary, as notify's messages do: a family emoji or a
// flag across a cut is dropped whole. The query reads one character more
// than the excerpt shows, so a cut is seen and marked "…" (a text of
// exactly the excerpt's length is shown whole).
func TestPostCutsKeepGraphemesWhole(t *testing.T) {
	family, flag := "👨\u200d👩\u200d👧\u200d👦", "🇬🇷"
	mk := func(handle, excerpt string) Post {
		return row{cols: []string{"post_key", "platform", "author_handle", "excerpt"}, vals: []any{"x:1", "x", handle, excerpt}}.post()
	}
	handle := strings.Repeat("h", handleChars-3) + family + "tail"
	if got, want := mk(handle, "").Author, strings.Repeat("h", handleChars-3)+"…"; got != want {
		t.Errorf("handle cut to %q, want %q", got, want)
	}
	// What digest_posts.sql gives: up to excerptChars+1 characters.
	long := strings.Repeat("a", excerptChars-2) + flag + "b"
	if got, want := mk("h", long).Excerpt, strings.Repeat("a", excerptChars-2)+"…"; got != want {
		t.Errorf("excerpt cut to …%q, want …%q", got[len(got)-10:], want[len(want)-10:])
	}
	whole := strings.Repeat("a", excerptChars-2) + flag
	if got := mk("h", whole).Excerpt; got != whole {
		t.Errorf("an excerpt of %d characters was cut: …%q", excerptChars, got[len(got)-10:])
	}
}
