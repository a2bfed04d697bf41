package post

import (
	"strings"
	"testing"
)

// TestValidateBoundsPlatformAndLinks: a pushed or filed post's platform is
// the sender's choice, and it becomes the post's key, a ClickHouse column,
// a line of every alert and digest: it must be a short token. Each
// hashtag, mention and URL is bounded too (their count already is). A
// breach is refused with a short reason, never cut, and every decoder
// (JSON, binary) refuses it as Validate does.
func TestValidateBoundsPlatformAndLinks(t *testing.T) {
	for _, ok := range append(append([]string{}, Platforms...), "my-forum.v2", "a", strings.Repeat("z", MaxPlatformBytes)) {
		p := samplePost()
		p.Platform = ok
		if err := p.Validate(); err != nil {
			t.Errorf("platform %q: %v", ok, err)
		}
	}
	huge := strings.Repeat("p", 1<<20)
	for name, mutate := range map[string]func(*Post){
		"1 MiB platform":    func(p *Post) { p.Platform = huge },
		"33-byte platform":  func(p *Post) { p.Platform = strings.Repeat("z", MaxPlatformBytes+1) },
		"upper case":        func(p *Post) { p.Platform = "Bluesky" },
		"space":             func(p *Post) { p.Platform = "blue sky" },
		"colon (key split)": func(p *Post) { p.Platform = "x:push" },
		"look-alike":        func(p *Post) { p.Platform = "bluеsky" }, // Cyrillic е
		"bidi override":     func(p *Post) { p.Platform = "x\u202e" },
		"zero-width":        func(p *Post) { p.Platform = "x\u200b" },
		"newline":           func(p *Post) { p.Platform = "x\nPriority: P1" },
		"huge hashtag":      func(p *Post) { p.Hashtags = []string{"ok", huge} },
		"long hashtag":      func(p *Post) { p.Hashtags = []string{strings.Repeat("h", MaxTagBytes+1)} },
		"long mention":      func(p *Post) { p.Mentions = []string{strings.Repeat("m", MaxTagBytes+1)} },
		"huge URL":          func(p *Post) { p.URLs = []string{"https://a.example/" + huge} },
		"long URL":          func(p *Post) { p.URLs = []string{"https://a.example/" + strings.Repeat("u", MaxURLBytes)} },
	} {
		p := samplePost()
		mutate(p)
		err := p.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: a reason of %d bytes, want a short one", name, len(err.Error()))
		}
		it := &Item{Post: p}
		if b, err := Encode(nil, it); err == nil {
			if _, err := Decode(b); err == nil {
				t.Errorf("%s: the JSON decoder accepts it", name)
			}
		}
		if _, err := DecodeBinary(AppendBinary(nil, it)); err == nil {
			t.Errorf("%s: the binary decoder accepts it", name)
		}
	}
	p := samplePost()
	p.Hashtags = []string{strings.Repeat("h", MaxTagBytes)}
	p.URLs = []string{"https://a.example/" + strings.Repeat("u", MaxURLBytes-len("https://a.example/"))}
	if err := p.Validate(); err != nil {
		t.Errorf("a hashtag and a URL at their limits: %v", err)
	}
}
