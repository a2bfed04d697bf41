package match

import (
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// to:handle holds for posts addressed to the account (mentioning it, as a
// reply does); to:@owned for posts addressed to any of the organisation's
// own accounts on the post's platform.
func TestToOwnedAccounts(t *testing.T) {
	rule := func(id, r string) *Watchlist {
		return &Watchlist{ID: id, Version: 1, Status: "live", Rule: r, file: id + ".yaml"}
	}
	ws := []*Watchlist{rule("to-acme", "to:acme"), rule("replies-to-us", "to:@owned is:reply"), rule("owned", "to:@owned refund*")}
	owned := []Account{{Platform: "x", Handle: "acme"}, {Platform: "x", Handle: "@AcmeSupport"}, {Platform: "bluesky", Handle: "acme.bsky.social"}}
	e, err := CompileWith(ws, Options{Owned: owned})
	if err != nil {
		t.Fatal(err)
	}
	got := func(p *post.Post) []string {
		var ids []string
		for _, m := range e.Match(p) {
			ids = append(ids, m.Watchlist)
		}
		slices.Sort(ids)
		return ids
	}
	for _, c := range []struct {
		p    *post.Post
		want []string
	}{
		{&post.Post{Platform: "x", Text: "@acme hello"}, []string{"to-acme"}},
		{&post.Post{Platform: "x", Text: "acme hello"}, nil},
		{&post.Post{Platform: "x", Text: "@acmesupport where is my refund", ReplyTo: "x:9"}, []string{"owned", "replies-to-us"}},
		{&post.Post{Platform: "x", Text: "@acme_fans refund please", ReplyTo: "x:9"}, nil},
		{&post.Post{Platform: "bluesky", Text: "@acmesupport refunds?", ReplyTo: "bluesky:9"}, nil}, // not our handle there
		{&post.Post{Platform: "bluesky", Text: "@acme.bsky.social refunds?"}, []string{"owned"}},
	} {
		if g := got(c.p); !slices.Equal(g, c.want) {
			t.Errorf("%s %q: %v, want %v", c.p.Platform, c.p.Text, g, c.want)
		}
	}
	if _, err := CompileWith([]*Watchlist{rule("o", "to:@owned")}, Options{}); err == nil || !strings.Contains(err.Error(), "accounts") {
		t.Errorf("to:@owned without owned accounts: %v, want it refused naming org.yaml accounts", err)
	}
}
