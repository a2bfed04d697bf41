package canon

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/post"
)

func TestScan(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{`{"a":1,"b":[true,null,"x\"y\\u00e9"]}`, ""},
		{`"\ud83d\ude00"`, ""},
		{`{"a":1,"a":2}`, `duplicate key "a"`},
		{`{"o":{"k":1},"p":{"k":1}}`, ""}, // same key in sibling objects is fine
		{`{"a":"\ud83d"}`, "lone surrogate"},
		{`{"a":"\ude00\ud83d"}`, "lone surrogate"},
		{`{"a":1}x`, "after the top-level value"},
		{`{"a":1`, "unexpected end"},
		{`{"a"1}`, "want :"},
		{"\"a\x01\"", "control character"},
		{strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2), "nested more than"},
		{strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), ""},
	} {
		err := Scan([]byte(c.in))
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Scan(%.40q) = %v, want %q", c.in, err, c.err)
		}
	}
	// an object with many keys switches to a map; duplicates are still found
	var b strings.Builder
	b.WriteString("{")
	for i := range 5000 {
		b.WriteString(`"k` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `":1,`)
	}
	b.WriteString(`"ka":2}`)
	if err := Scan([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("5000 keys with a duplicate: %v", err)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               "plain",
		"tab\tnew\nline":      "tab\tnew\nline",
		"crlf\r\n":            "crlf\n",
		"nul\x00x":            "nulx",
		"bell\x07 del\x7f":    "bell del",
		"c1\u0085x":           "c1x",
		"\u202eexe.txt":       "exe.txt",
		"iso\u2066late\u2069": "isolate",
		"Ελληνικά 😡 ok":       "Ελληνικά 😡 ok",
		"zwj 👩\u200d💻 stays":  "zwj 👩\u200d💻 stays",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFinishLimits(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	n := &Normalizer{Limits: DefaultLimits(), Now: func() time.Time { return now }}
	f := func(mod func(*post.Post), want string) {
		t.Helper()
		p := &post.Post{Platform: "f", ID: "1", CreatedAt: now}
		mod(p)
		err := n.Finish(p)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("Finish = %v, want %q", err, want)
		}
	}
	f(func(p *post.Post) {}, "")
	f(func(p *post.Post) { p.CreatedAt = now.Add(9 * time.Minute) }, "")
	f(func(p *post.Post) { p.CreatedAt = now.Add(11 * time.Minute) }, "in the future")
	f(func(p *post.Post) { p.Kind, p.CreatedAt = post.KindDelete, time.Time{} }, "")
	f(func(p *post.Post) { p.Text = strings.Repeat("x", 1<<20+1) }, "over the limit")
	f(func(p *post.Post) { p.Mentions = make([]string, 257) }, "257 mentions")
	f(func(p *post.Post) { p.ID = strings.Repeat("9", 513) }, "over the limit 512")
}

func TestUnixAuto(t *testing.T) {
	want := time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, f := range []float64{1763719200, 1763719200000, 1763719200000000, 1763719200000000000} {
		if got, err := UnixAuto(f); err != nil || !got.Equal(want) {
			t.Errorf("UnixAuto(%v) = %v, %v", f, got, err)
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"\u00e9"}]}`, `{"a":1,"a":2}`, `"\ud83d\ude00"`, `[[[]]]`, `{"x":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Scan(b) == nil && !json.Valid(b) {
			t.Errorf("Scan accepted invalid JSON %q", b)
		}
	})
}

func FuzzClean(f *testing.F) {
	f.Add("a\x00b\u202ec\r\nd")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		c := Clean(s)
		for _, r := range c {
			if r < 0x20 && r != '\t' && r != '\n' || unwanted(r) {
				t.Errorf("Clean(%q) = %q keeps %U", s, c, r)
			}
		}
		if Clean(c) != c {
			t.Errorf("Clean is not idempotent on %q", s)
		}
	})
}
