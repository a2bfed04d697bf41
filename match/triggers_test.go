package match

import (
	"fmt"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestTriggers checks that a term many rules AND with their own keyword
// wakes none of them, that each rule wakes on its own keyword, and that
// the rules still match as written.
func TestTriggers(t *testing.T) {
	var lists []*Watchlist
	for i := range 5 {
		lists = append(lists, &Watchlist{ID: fmt.Sprintf("w%d", i), Version: 1, Status: "live",
			Rule: fmt.Sprintf(`(brand%d NEAR/5 refund*) OR "brand%d care" -hiring`, i, i)})
	}
	lists = append(lists, &Watchlist{ID: "solo", Version: 1, Status: "live", Rule: `refund* -brand0`})
	e, err := Compile(lists)
	if err != nil {
		t.Fatal(err)
	}
	id := func(display string) uint32 {
		for i, ti := range e.terms {
			if ti.display == display {
				return uint32(i)
			}
		}
		t.Fatalf("no term %q", display)
		return 0
	}
	if got := e.wakes[id("refund*")]; len(got) != 1 || e.lists[got[0]].ID != "solo" {
		t.Errorf("refund* wakes %v, want only the list where it stands alone", got)
	}
	if got := e.wakes[id("hiring")]; len(got) != 0 {
		t.Errorf("an exclusion wakes %v", got)
	}
	for i := range 5 {
		if got := e.wakes[id(fmt.Sprintf("brand%d", i))]; len(got) != 1 || got[0] != uint32(i) {
			t.Errorf("brand%d wakes %v, want [%d]", i, got, i)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"brand3 gave me a refund at last", "[solo w3]"},
		{"refunds everywhere", "[solo]"},
		{"brand0 refunded me", "[w0]"}, // solo excludes brand0
		{"brand2 care team, no money back", "[w2]"},
		{"brand1 care is hiring", "[]"},
	} {
		var ids []string
		for _, m := range e.Match(&post.Post{Text: c.text}) {
			ids = append(ids, m.Watchlist)
		}
		if got := fmt.Sprint(ids); got != c.want && !(c.want == "[]" && len(ids) == 0) {
			t.Errorf("%q matches %s, want %s", c.text, got, c.want)
		}
	}
}
