package canon

import (
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Values no platform sends are refused, and a reason never echoes a huge
// id whole.
func TestFinishRefusesImpossibleValues(t *testing.T) {
	n := NewNormalizer()
	n.Now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	base := func() *post.Post { return &post.Post{Platform: "x", ID: "1", Text: "t", CreatedAt: at} }
	for _, c := range []struct {
		name string
		mod  func(*post.Post)
		says string
	}{
		{"empty hashtag", func(p *post.Post) { p.Hashtags = []string{"ok", ""} }, "hashtags[1] is empty"},
		{"empty mention", func(p *post.Post) { p.Mentions = []string{" "} }, "mentions[0] is empty"},
		{"latitude", func(p *post.Post) { p.Geo = &post.Geo{Lat: 999, Lon: 1} }, "latitude 999"},
		{"longitude", func(p *post.Post) { p.Geo = &post.Geo{Lat: 1, Lon: -181} }, "longitude -181"},
		{"followers", func(p *post.Post) { p.Author.Followers = -1 }, "author.followers -1"},
		{"likes", func(p *post.Post) { p.Engagement = &post.Engagement{Likes: -3} }, "engagement"},
		{"media", func(p *post.Post) { p.Media = -1 }, "media -1"},
	} {
		p := base()
		c.mod(p)
		if err := n.Finish(p); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %q", c.name, err, c.says)
		}
	}
	p := base()
	p.ID = strings.Repeat("9", 100_000)
	err := n.Finish(p)
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("a 100,000-byte id: error of %d bytes, want it refused with the id cut", len(err.Error()))
	}
}
