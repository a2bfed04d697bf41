package sink

import (
	"strings"
	"testing"
)

func TestInListsStayUnderTheBound(t *testing.T) {
	if got := inLists(nil); len(got) != 0 {
		t.Errorf("no values: %q", got)
	}
	var values []string
	for range 20_000 {
		values = append(values, "('legal', '0123456789abcdef0123456789abcdef')")
	}
	huge := "'" + strings.Repeat("x", maxInList+10) + "'"
	values = append(values, huge, "'last'")
	lists := inLists(values)
	n := 0
	for i, l := range lists {
		n += strings.Count(l, ", ('legal'") + strings.Count(l, "'last'")
		if strings.HasPrefix(l, "('legal'") {
			n++
		}
		if len(l) > maxInList && l != huge {
			t.Errorf("list %d holds %d bytes, over %d", i, len(l), maxInList)
		}
	}
	if n != 20_001 || !strings.Contains(strings.Join(lists, "|"), huge) {
		t.Errorf("%d of the 20,001 short values kept, or the long one lost", n)
	}
}
