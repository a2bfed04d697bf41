package canon

import (
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestFinishPlatform: a platform is lower-cased (ASCII letters only, so
// the Kelvin sign does not become a "k"), then must be a short token; a
// 1 MiB platform with an over-long id is refused with a short reason (the
// id check names the post before Validate runs).
func TestFinishPlatform(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	n := &Normalizer{Limits: DefaultLimits(), Now: func() time.Time { return now }}
	for in, want := range map[string]string{"Bluesky": "bluesky", "X": "x", "my-Forum.v2": "my-forum.v2"} {
		p := &post.Post{Platform: in, ID: "1", CreatedAt: now}
		if err := n.Finish(p); err != nil || p.Platform != want {
			t.Errorf("platform %q: %v, %q, want %q", in, err, p.Platform, want)
		}
	}
	for _, bad := range []string{"\u212Aick", "blue sky", strings.Repeat("P", 1<<20), "x:1"} {
		for _, id := range []string{"1", strings.Repeat("9", 1<<10)} {
			p := &post.Post{Platform: bad, ID: id, CreatedAt: now}
			err := n.Finish(p)
			if err == nil || len(err.Error()) > 300 {
				t.Errorf("platform %.40q, id of %d bytes: %.300v (%d bytes), want a short refusal", bad, len(id), err, len(err.Error()))
			}
		}
	}
}
