package ingest

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// SyntheticStory names the story a synthetic post tells: its language, the
// kind of sentence (pos, neg, neu, job) and the sentence's number, as in
// "en.neg.0" ("my {b} {p} is broken again, worst experience ever"),
// whatever the brand, product, filler, emoji, hashtag, mention or link
// around it; a repost tells the story of the post it copies. A post with
// no brand sentence (chatter) tells none: "". It is the ground truth that
// measures of themes (insights/themes) are checked against.
func SyntheticStory(text string) string {
	for _, s := range storyPatterns() {
		if s.re.MatchString(text) {
			return s.name
		}
	}
	return ""
}

type storyPattern struct {
	name string
	re   *regexp.Regexp
}

var storyPatterns = sync.OnceValue(func() []storyPattern {
	var brandAlt []string
	for _, b := range brands {
		brandAlt = append(brandAlt, regexp.QuoteMeta(b.name))
	}
	var out []storyPattern
	for _, l := range languages {
		var prods []string
		for _, p := range l.products {
			prods = append(prods, regexp.QuoteMeta(p))
		}
		for _, k := range []struct {
			kind  string
			tmpls []string
		}{{"pos", l.pos}, {"neg", l.neg}, {"neu", l.neu}, {"job", l.job}} {
			for i, t := range k.tmpls {
				re := regexp.QuoteMeta(t)
				re = strings.ReplaceAll(re, `\{b\}`, "(?:"+strings.Join(brandAlt, "|")+")")
				re = strings.ReplaceAll(re, `\{p\}`, "(?:"+strings.Join(prods, "|")+")")
				// After a filler sentence or at the start; before the end, an
				// emoji, a hashtag, a mention or a link.
				out = append(out, storyPattern{l.code + "." + k.kind + "." + strconv.Itoa(i), regexp.MustCompile(`(?:^|\. )` + re + `(?: |$)`)})
			}
		}
	}
	return out
})
