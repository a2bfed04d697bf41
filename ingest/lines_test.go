package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

const canonicalLine = `{"platform":"x","id":"1","text":"acme broke","created_at":"2026-11-20T10:00:00Z","author":{"id":"a","handle":"ann"}}`

// Dead-letter reasons name the line as an editor counts it: blank lines
// count too.
func TestDeadLetterLineNumbersCountBlankLines(t *testing.T) {
	_, reasons, _ := decodeString(t, FormatAuto, "\n\n{bad\n  \n{bad2\n")
	if len(reasons) != 2 || !strings.HasPrefix(reasons[0], "in:3:") || !strings.HasPrefix(reasons[1], "in:5:") {
		t.Errorf("reasons %q, want lines 3 and 5", reasons)
	}
}

// A UTF-8 byte-order mark (as Windows tools write) before the first line,
// or before a line of concatenated files, is not part of the record.
func TestByteOrderMarkStripped(t *testing.T) {
	ps, reasons, _ := decodeString(t, FormatAuto, "\ufeff"+canonicalLine+"\n\ufeff"+strings.Replace(canonicalLine, `"id":"1"`, `"id":"2"`, 1)+"\n")
	if len(ps) != 2 || len(reasons) != 0 {
		t.Errorf("posts %d, dead letters %q; want 2 posts and none", len(ps), reasons)
	}
}

// A forced format that does not fit the line dead-letters it instead of
// emitting an empty post.
func TestForcedFormatMismatchDeadLetters(t *testing.T) {
	ps, reasons, _ := decodeString(t, FormatMastodon, canonicalLine+"\n")
	if len(ps) != 0 || len(reasons) != 1 || !strings.Contains(reasons[0], "not a mastodon") {
		t.Errorf("posts %v, dead letters %q; want the line refused as not a mastodon record", ps, reasons)
	}
	for _, f := range []string{FormatBluesky, FormatX} {
		if ps, reasons, _ := decodeString(t, f, canonicalLine+"\n"); len(ps) != 0 || len(reasons) != 1 {
			t.Errorf("--format %s on a canonical post: posts %d, dead letters %q", f, len(ps), reasons)
		}
	}
	// A line that fits is read as forced.
	if ps, reasons, _ := decodeString(t, FormatCanonical, canonicalLine+"\n"); len(ps) != 1 || len(reasons) != 0 {
		t.Errorf("--format canonical: posts %d, dead letters %q", len(ps), reasons)
	}
}

// zstd files made with a long window (zstd --long=27, --ultra -22) are
// read; a larger window is refused with what to do.
func TestZstdLongWindow(t *testing.T) {
	line := []byte(canonicalLine + "\n")
	// A frame whose header asks for a window of 1<<windowLog bytes, as
	// zstd --long writes (an encoder here would shrink it to the input),
	// holding line as one raw block.
	read := func(windowLog int) ([]*post.Post, error) {
		var buf bytes.Buffer
		buf.Write([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, byte(windowLog-10) << 3})
		h := len(line)<<3 | 1 // raw block, the last
		buf.Write([]byte{byte(h), byte(h >> 8), byte(h >> 16)})
		buf.Write(line)
		path := filepath.Join(t.TempDir(), "in.ndjson.zst")
		os.WriteFile(path, buf.Bytes(), 0o644)
		f, err := OpenFile(path, 0, 1<<20)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var ps []*post.Post
		for {
			b, err := f.Next(context.Background(), 10)
			for _, it := range b.Items {
				ps = append(ps, it.Post)
			}
			if errors.Is(err, io.EOF) {
				return ps, nil
			}
			if err != nil {
				return ps, err
			}
		}
	}
	if ps, err := read(27); err != nil || len(ps) != 1 {
		t.Errorf("window 128 MiB: %d posts, %v", len(ps), err)
	}
	if _, err := read(28); err == nil || !strings.Contains(err.Error(), "--long=27") {
		t.Errorf("window 256 MiB: %v, want it refused saying how to recompress", err)
	}
}

// twarc's flattened export is detected as X and read as posts.
func TestTwarcFlattenedDetected(t *testing.T) {
	line := `{"id":"15","text":"hello","created_at":"2026-11-20T10:00:00.000Z","author_id":"7","author":{"id":"7","username":"ann"},"__twarc":{"version":"2.0.0"}}`
	ps, reasons, _ := decodeString(t, FormatAuto, line+"\n")
	if len(ps) != 1 || len(reasons) != 0 || ps[0].Platform != "x" || ps[0].Author.Handle != "ann" {
		t.Errorf("posts %+v, dead letters %q", ps, reasons)
	}
}
