package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

func bigAlertItem(i int, text string) *post.Item {
	return &post.Item{
		Post:  &post.Post{Platform: "bluesky", ID: "p" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Text: text, CreatedAt: time.Unix(1e9, 0)},
		Alert: &post.Alert{ID: "a" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Queue: "care", Priority: "P2"},
	}
}

// TestMemAlertsBoundBytes: the 100 alerts of 1 MB posts took 461 MB
// in the in-memory store. Each alert keeps a bounded excerpt of the text
// (saying it was cut, and how long the text was), and the store as a whole
// keeps at most its byte budget, evicting the oldest alerts.
func TestMemAlertsBoundBytes(t *testing.T) {
	m := NewMemAlerts(1000)
	tap := Tap(m, NewHub(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	text := strings.Repeat("acme refund ", 1<<20/12)
	for i := range 100 {
		tap(bigAlertItem(i, text))
	}
	got, _, _ := m.List(context.Background(), "care", 0, 1000)
	if len(got) != 100 {
		t.Fatalf("%d alerts kept, want 100 (they fit once cut)", len(got))
	}
	total := 0
	for _, a := range got {
		total += len(a.Item)
		var it post.Item
		if err := json.Unmarshal(a.Item, &it); err != nil {
			t.Fatal(err)
		}
		if len(it.Post.Text) > AlertTextBytes || !strings.HasPrefix(text, it.Post.Text) {
			t.Fatalf("alert text is %d bytes, want a prefix of at most %d", len(it.Post.Text), AlertTextBytes)
		}
		if !a.TextTruncated || a.TextBytes != len(text) {
			t.Fatalf("truncated %v, text_bytes %d; want true, %d", a.TextTruncated, a.TextBytes, len(text))
		}
	}
	if total > 100*(AlertTextBytes+2048) {
		t.Errorf("100 alerts hold %d bytes of items", total)
	}

	// A small post is kept whole.
	tap(bigAlertItem(500, "acme refund"))
	got, _, _ = m.List(context.Background(), "care", 0, 1)
	if got[0].TextTruncated || !strings.Contains(string(got[0].Item), `"text":"acme refund"`) {
		t.Errorf("small alert: %+v", got[0])
	}

	// The byte budget: a store of 64 KiB keeps the newest alerts that fit.
	small := NewMemAlertsBytes(1000, 64<<10)
	for i := range 100 {
		a, err := AlertFromItem(bigAlertItem(i, text))
		if err != nil {
			t.Fatal(err)
		}
		small.Add(a)
	}
	got, _, _ = small.List(context.Background(), "care", 0, 1000)
	held := 0
	for _, a := range got {
		held += a.size()
	}
	if held > 64<<10 || len(got) == 0 || got[0].ID != bigAlertItem(99, "").Alert.ID {
		t.Errorf("store of 64 KiB holds %d alerts, %d bytes, newest %q", len(got), held, got[0].ID)
	}
}

// TestTokenFileSizeCap: a token file over strictyaml.MaxFileBytes is
// refused with the limit named, not read whole.
func TestTokenFileSizeCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte(`{"tokens":[`+strings.Repeat(" ", strictyaml.MaxFileBytes)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenTokens(path, time.Now)
	if !errors.Is(err, strictyaml.ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenTokens: %v, want too large, naming the file", err)
	}
}

// TestAlertExcerptKeepsGraphemesWhole: the cut text of a long post ends at
// a grapheme cluster boundary, as notify's excerpts do: a family emoji or a
// flag across the cut is dropped whole, never shown as a lone man or half a
// flag, in the text and in its redacted copy.
func TestAlertExcerptKeepsGraphemesWhole(t *testing.T) {
	family, flag := "👨\u200d👩\u200d👧\u200d👦", "🇬🇷"
	for name, tail := range map[string]string{"family": family, "flag": flag} {
		keep := strings.Repeat("a", AlertTextBytes-len(tail)/2-1) // the cut falls inside tail
		it := bigAlertItem(1, keep+tail+strings.Repeat("z", 100))
		it.Enrichment = &post.Enrichment{RedactedText: it.Post.Text}
		a, err := AlertFromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		var got post.Item
		if err := json.Unmarshal(a.Item, &got); err != nil {
			t.Fatal(err)
		}
		if got.Post.Text != keep || got.Enrichment.RedactedText != keep {
			t.Errorf("%s: text ends %q, redacted %q; want it cut before the %s", name, got.Post.Text[len(got.Post.Text)-min(len(got.Post.Text), 12):], got.Enrichment.RedactedText[max(0, len(got.Enrichment.RedactedText)-12):], name)
		}
	}
}
