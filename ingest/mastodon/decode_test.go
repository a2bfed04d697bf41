package mastodon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
)

func testDecoder() *Decoder {
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	return &Decoder{N: n, Server: "example.social"}
}

func seeds(f *testing.F, paths ...string) {
	for _, path := range paths {
		fh, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
}

func check(t *testing.T, ev canon.Event, err error, in []byte) {
	if err != nil {
		return
	}
	if ev.Post == nil && ev.Skip == "" {
		t.Fatalf("no post and no skip kind for %q", in)
	}
	if ev.Post != nil {
		if err := canon.Invariant(ev.Post); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.Post.ID, "example.social/") {
			t.Fatalf("id %q not qualified by the server", ev.Post.ID)
		}
	}
}

func FuzzLine(f *testing.F) {
	seeds(f, "../testdata/mastodon/events.ndjson", "../testdata/mastodon/tootkit_public_timeline.ndjson")
	d := testDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := d.Line(b)
		check(t, ev, err, b)
	})
}

func FuzzEvent(f *testing.F) {
	f.Add("update", []byte(`{"id":"1","created_at":"2026-11-01T00:00:00Z","content":"<p>a<br>b</p>"}`))
	f.Add("delete", []byte("108914430312582020"))
	f.Add("status.update", []byte(`{"id":"1","created_at":"2026-11-01T00:00:00Z","content":"<a href=\"x\">y"}`))
	d := testDecoder()
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		ev, err := d.Event(name, b)
		check(t, ev, err, b)
	})
}

func FuzzHTML(f *testing.F) {
	f.Add(`<p>a &amp; <a href="https://x.example/?a=1&amp;b" class="">x</a><br/>b</p><p>c`)
	f.Fuzz(func(t *testing.T, s string) {
		text, links := htmlText(s, nil)
		if !strings.ContainsRune(s, '<') && !strings.ContainsRune(s, '&') && text != s {
			t.Errorf("plain %q became %q", s, text)
		}
		_ = links
	})
}

func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		"<p>one</p><p>two</p>":                          "one\n\ntwo",
		"a<br>b<br/>c<br />d":                           "a\nb\nc\nd",
		"&lt;script&gt; &quot;q&quot; &#39;s&#39;":      `<script> "q" 's'`,
		`<a href="https://e.x/" class="mention">@b</a>`: "@b",
		"2 < 3 unclosed <b":                             "2 < 3 unclosed <b",
	} {
		if got, _ := htmlText(in, nil); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSSE(f *testing.F) {
	if b, err := os.ReadFile("../testdata/mastodon/events.sse.txt"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("event: update\ndata: {}\ndata: x\n\n:thump\n\nevent: delete\r\ndata:12\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		const max = 256
		lines := live.NewLines(bytes.NewReader(b), max)
		err := readSSE(lines, max, func() {}, func(event string, data []byte, tooBig bool) error {
			if len(data) > max {
				t.Fatalf("event %q kept %d bytes of data, over %d", event, len(data), max)
			}
			return nil
		})
		if !errors.Is(err, io.EOF) {
			t.Fatalf("readSSE = %v, want io.EOF at the end of input", err)
		}
	})
}

func TestReadSSE(t *testing.T) {
	in := ":)\n\nevent: update\ndata: {\"a\":\ndata: 1}\n\n:thump\n\nevent: delete\r\ndata:123\r\n\r\nevent: update\ndata: " + strings.Repeat("x", 300) + "\n\n"
	var got []string
	err := readSSE(live.NewLines(strings.NewReader(in), 256), 256, func() {}, func(event string, data []byte, tooBig bool) error {
		got = append(got, fmt.Sprintf("%s|%s|%v", event, data, tooBig))
		return nil
	})
	want := []string{"update|{\"a\":\n1}|false", "delete|123|false", "update||true"}
	if !errors.Is(err, io.EOF) || strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("readSSE = %q, %v; want %q", got, err, want)
	}
}
