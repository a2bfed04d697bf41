package match

import (
	"strings"
	"testing"
)

func TestImportRule(t *testing.T) {
	f := func(syntax, in, want string) {
		t.Helper()
		got, err := ImportRule(syntax, in)
		if err != nil {
			t.Errorf("%s %q: %v", syntax, in, err)
			return
		}
		if got != want {
			t.Errorf("%s %q\n got %q\nwant %q", syntax, in, got, want)
		}
	}
	f("powertrack", `(nike OR adidas) "running shoes" -is:retweet lang:en has:links`, `(nike OR adidas) "running shoes" -is:repost lang:en has:link`)
	f("powertrack", `#nike @nike place_country:GR (from:alice OR from:bob)`, `#nike @nike country:GR (from:alice OR from:bob)`)
	f("powertrack", `nike followers_count:1000..50000 has:images`, `nike followers:>=1000 followers:<=50000 has:media`)
	f("powertrack", `"nike shoes"~5 url_contains:nike.com`, `"nike shoes"~5 url:nike.com`)
	f("brandwatch", `(nike OR adidas) AND (shoe* NEAR/3 running) NOT fake`, `(nike OR adidas) AND (shoe* NEAR/3 running) NOT fake`)
	f("brandwatch", `nike author:alice language:el site:nike.com`, `nike from:alice lang:el url:nike.com`)

	g := func(syntax, in, want string) {
		t.Helper()
		_, err := ImportRule(syntax, in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s %q: error %v, want %q", syntax, in, err, want)
		}
	}
	g("powertrack", `nike bio:runner point_radius:[2.3 48.8 10km]`, "bio: has no equivalent")
	g("brandwatch", `colo?r nike`, "single-letter wildcard")
	g("powertrack", `nike AND`, "does not parse")
	g("lucene", `nike`, "unknown rule syntax")
	g("brandwatch", `site:a(0000`, "does not parse") // an unclosed ( in a value panicked (FuzzImportRule)
}
