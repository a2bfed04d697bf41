package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestDamagedCompressedFile: a gzip or zstd export cut short or with a bad
// byte must end the replay with an error that names the file and the line
// reached, after the posts read before the damage; finishing as if the file
// had ended would lose the rest without a word.
func TestDamagedCompressedFile(t *testing.T) {
	var plain bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&plain, `{"platform":"f","id":"%d","text":"post number %d about Acme","created_at":"2026-11-01T10:00:00Z"}`+"\n", i, i*7919)
	}
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain.Bytes())
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain.Bytes())
	zw.Close()
	flip := func(b []byte, at int) []byte {
		b = bytes.Clone(b)
		b[at] ^= 0xff
		return b
	}
	for _, c := range []struct {
		name string
		data []byte
		want string // in the error
		all  bool   // every line is intact: only the trailer is damaged
	}{
		{"gzip cut in half", gz.Bytes()[:gz.Len()/2], "unexpected EOF", false},
		{"gzip without its trailer", gz.Bytes()[:gz.Len()-4], "unexpected EOF", true},
		{"gzip with a bad byte", flip(gz.Bytes(), gz.Len()/2), "", false},
		{"gzip with a bad checksum", flip(gz.Bytes(), gz.Len()-6), "checksum", true},
		{"gzip header only", gz.Bytes()[:10], "unexpected EOF", false},
		{"zstd cut in half", zs.Bytes()[:zs.Len()/2], "", false},
		{"zstd without its checksum", zs.Bytes()[:zs.Len()-2], "", false},
		{"zstd with a bad byte", flip(zs.Bytes(), zs.Len()/2), "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := strings.ReplaceAll(c.name, " ", "_") + ".ndjson"
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			n, err := replay(t, path)
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("%d of 20000 posts, then the end without an error", n)
			}
			if !strings.Contains(err.Error(), name+" at line ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want the file, the line and %q", err, c.want)
			}
			if (n == 20000) != c.all {
				t.Errorf("%d of 20000 posts; all intact lines read: %v", n, c.all)
			}
			t.Logf("%d posts, then: %v", n, err)
		})
	}
}

// replay reads path to its end and returns the posts read and the error
// that ended it; io.EOF is reported as nil.
func replay(t *testing.T, path string) (int, error) {
	t.Helper()
	f, err := OpenFile(path, 0, 1<<20)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for {
		b, err := f.Next(context.Background(), 500)
		n += len(b.Items)
		if len(b.Rejected) > 0 {
			// a damaged byte inside a line is a bad line at worst; that is reported too
			t.Logf("dead letter: %s", b.Rejected[0].Reason)
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// TestInvalidUTF8EveryShape: a byte that is not UTF-8 in a Jetstream event,
// a Mastodon status or an X tweet is refused with its offset, in each
// platform's format and in auto, as it is in the canonical shape; no shape
// lets a decoder swap it for U+FFFD.
func TestInvalidUTF8EveryShape(t *testing.T) {
	for format, line := range map[string]string{
		FormatBluesky:  "{\"did\":\"did:plc:a\",\"time_us\":1763719200000000,\"kind\":\"commit\",\"commit\":{\"rev\":\"r\",\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"k\",\"record\":{\"text\":\"caf\xe9\",\"createdAt\":\"2026-11-01T10:00:00Z\"},\"cid\":\"c\"}}",
		FormatMastodon: "{\"event\":\"update\",\"payload\":{\"id\":\"5\",\"content\":\"<p>caf\xe9</p>\",\"created_at\":\"2026-11-01T10:00:00Z\"}}",
		FormatX:        "{\"data\":{\"id\":\"1\",\"text\":\"caf\xe9\",\"created_at\":\"2026-11-01T10:00:00Z\"}}",
	} {
		for _, f := range []string{format, FormatAuto} {
			ps, reasons, _ := decodeString(t, f, line+"\n")
			if len(ps) != 0 || len(reasons) != 1 || !strings.Contains(reasons[0], "invalid UTF-8 at byte") {
				t.Errorf("%s as %s: %d posts, dead letters %q; want one for the invalid UTF-8", format, f, len(ps), reasons)
			}
		}
	}
}
