package match

import (
	"slices"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// matchOne compiles lists and reports which match text.
func matchOne(t *testing.T, ws []*Watchlist, text string) []string {
	t.Helper()
	m, err := New(ws)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range m.Match(&post.Post{Text: text}) {
		got = append(got, x.Watchlist)
	}
	slices.Sort(got)
	return got
}

// A handle is one token: @acme is not @acme_support, #acme not #acme_fail.
func TestHandleIsOneToken(t *testing.T) {
	rule := func(id, r string) *Watchlist { return &Watchlist{ID: id, Version: 1, Status: "live", Rule: r} }
	ws := []*Watchlist{rule("acme", "@acme"), rule("support", "@acme_support"), rule("tag", "#acme"), rule("stem", "@acme*")}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"thanks @acme_support for nothing", []string{"stem", "support"}},
		{"thanks @acme!", []string{"acme", "stem"}},
		{"@Acme, why", []string{"acme", "stem"}},
		{"#acme_fail again", nil},
		{"#acme again", []string{"tag"}},
	} {
		if got := matchOne(t, ws, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%q matched %v, want %v", c.text, got, c.want)
		}
	}
}
