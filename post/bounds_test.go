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

// TestValidateBoundsIDsAndKeys: the post's id, its author's id and the
// keys of the posts it replies to, reposts or quotes are the sender's
// choice on the push endpoint, in files and on a Kafka topic any producer
// may write; they end up in keys, columns and reasons. Each is bounded
// like the id ingest checks (a dead letter with a short reason, never cut),
// and so are the ids an item picks up after ingest (alert, incident,
// cluster), which only the decoders see.
func TestValidateBoundsIDsAndKeys(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	key := "x:" + strings.Repeat("9", MaxIDBytes) // the longest key: a long platform and a long id
	long := strings.Repeat("z", MaxPlatformBytes) + ":" + strings.Repeat("9", MaxIDBytes)
	ok := samplePost()
	ok.ID, ok.Author.ID, ok.ReplyTo, ok.RepostOf, ok.QuoteOf = strings.Repeat("9", MaxIDBytes), strings.Repeat("a", MaxIDBytes), key, long, key
	if err := ok.Validate(); err != nil {
		t.Errorf("ids and keys at their limits: %v", err)
	}
	for name, mutate := range map[string]func(*Item){
		"1 MiB id":         func(it *Item) { it.Post.ID = huge },
		"513-byte id":      func(it *Item) { it.Post.ID = strings.Repeat("9", MaxIDBytes+1) },
		"1 MiB author id":  func(it *Item) { it.Post.Author.ID = huge },
		"1 MiB reply_to":   func(it *Item) { it.Post.ReplyTo = "x:" + huge },
		"long reply_to":    func(it *Item) { it.Post.ReplyTo = long + "9" },
		"1 MiB repost_of":  func(it *Item) { it.Post.RepostOf = huge },
		"1 MiB quote_of":   func(it *Item) { it.Post.QuoteOf = huge },
		"1 MiB delete id":  func(it *Item) { it.Post.Kind, it.Post.ID = KindDelete, huge },
		"1 MiB alert id":   func(it *Item) { it.Alert = &Alert{ID: huge, Queue: "care"} },
		"1 MiB alert of":   func(it *Item) { it.Alert = &Alert{ID: "a1", Queue: "care", Of: huge} },
		"1 MiB incident":   func(it *Item) { it.Alert = &Alert{ID: "a1", Queue: "care", Incident: huge} },
		"1 MiB cluster id": func(it *Item) { it.Enrichment = &Enrichment{ClusterID: huge} },
	} {
		it := &Item{Post: samplePost()}
		mutate(it)
		b, err := Encode(nil, it)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: the JSON decoder accepts it", name)
		} else if len(err.Error()) > 300 {
			t.Errorf("%s: a reason of %d bytes, want a short one", name, len(err.Error()))
		}
		if _, err := DecodeBinary(AppendBinary(nil, it)); err == nil {
			t.Errorf("%s: the binary decoder accepts it", name)
		} else if len(err.Error()) > 300 {
			t.Errorf("%s: a reason of %d bytes, want a short one", name, len(err.Error()))
		}
	}
}
