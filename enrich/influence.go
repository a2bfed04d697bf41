package enrich

import (
	"math"

	"github.com/earshot-dev/earshot/post"
)

// platformReach scales a platform's counts to X's: the same follower count
// means more reach on a smaller network. Rough, documented in
// docs/enrichment.md; unknown platforms count as X.
var platformReach = map[string]float64{"x": 1, "twitter": 1, "bluesky": 3, "mastodon": 5}

// influence scores the author and the post on 0–100: up to 60 for
// followers (log scale, 10 million X-equivalent followers is the top), up
// to 30 for engagement on this post (100,000 weighted interactions is the
// top), and 10 for a verified account.
func influence(p *post.Post) float64 {
	scale, ok := platformReach[p.Platform]
	if !ok {
		scale = 1
	}
	f := math.Max(0, float64(p.Author.Followers)) * scale
	score := 60 * math.Min(1, math.Log10(1+f)/7)
	if g := p.Engagement; g != nil {
		// reposts and quotes spread a post further than likes and replies;
		// summed as floats: counts near the int64 limit (ingest takes any
		// count that is not negative) overflowed the integer sum to a
		// negative one, and the score to NaN, which JSON cannot write
		count := func(n int64) float64 { return float64(max(0, n)) }
		inter := (count(g.Likes) + 2*count(g.Reposts) + count(g.Replies) + 2*count(g.Quotes)) * scale
		score += 30 * math.Min(1, math.Log10(1+inter)/5)
	}
	if p.Author.Verified {
		score += 10
	}
	return math.Round(score*10) / 10
}
