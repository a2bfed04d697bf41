package search

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// word is the i-th of many distinct letters-only words (no number, which
// the analyzers would keep whole anyway, and no stop word).
func word(i int) string {
	var b strings.Builder
	b.WriteString("zq")
	for ; i > 0 || b.Len() == 2; i /= 26 {
		b.WriteByte(byte('a' + i%26))
	}
	return b.String()
}

// wordsIndex holds posts of n distinct words in all (50 a post) on each
// of days days up to testNow, each with "refund" too.
func wordsIndex(tb testing.TB, c Config, n, days int) *Index {
	tb.Helper()
	now := testNow
	x := openTest(tb, c, &now)
	var items []*post.Item
	for d := range days {
		for p := 0; p*50 < n; p++ {
			var text strings.Builder
			text.WriteString("refund")
			for i := p * 50; i < min(n, (p+1)*50); i++ {
				text.WriteString(" " + word(i))
			}
			items = append(items, doc{fmt.Sprintf("%d-%d", d, p), text.String(), "en", "EMEA", "negative",
				time.Duration(d)*24*time.Hour + time.Minute, []string{"acme"}}.item())
		}
	}
	if err := x.Index(items); err != nil {
		tb.Fatal(err)
	}
	return x
}

// TestPatternTermsBounded: a pattern that matches more words of a day than
// search.max_pattern_words is a bad query that names the setting, the
// pattern and the day, before any of its posts is read (each word it
// matches costs a term reader of some kilobytes). Under the limit, the
// search runs as before, over every day.
func TestPatternTermsBounded(t *testing.T) {
	c := testConfig(t)
	c.MaxPatternWords = 1000
	x := wordsIndex(t, c, 3000, 3)
	for _, q := range []string{"/.*/", "zq*", "/zq.*/ refund", "text:zq*", "refund -zq*"} {
		_, err := x.Search(context.Background(), Query{Text: q})
		if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), "search.max_pattern_words") || !strings.Contains(err.Error(), "1000") {
			t.Errorf("%s: %v; want a bad query naming search.max_pattern_words (1000)", q, err)
		}
	}
	// A fuzzy term counts the words within its edits: zqa~2 is within two
	// edits of every zq word of two letters more (676), zqa~1 of about 80.
	c5 := testConfig(t)
	c5.MaxPatternWords = 300
	x5 := wordsIndex(t, c5, 3000, 1)
	for _, q := range []string{"zqa~2", "text:zqa~2", "refund -zqa~2"} {
		_, err := x5.Search(context.Background(), Query{Text: q})
		if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), "zqa~2 match more than 300 words") {
			t.Errorf("%s: %v; want a bad query naming search.max_pattern_words (300)", q, err)
		}
	}
	if r := search1(t, x5, Query{Text: "zqa~1 refund~1"}); r.Total == 0 {
		t.Error("zqa~1 refund~1: no hits")
	}
	// 26 words start zqa: under the limit, on every day.
	if r := search1(t, x, Query{Text: "zqa*"}); r.Total == 0 || r.Partial {
		t.Errorf("zqa*: %d hits, partial %v", r.Total, r.Partial)
	}
	// The limit is per day: 3 days of 700 words each are fine at 1000, and
	// the days are searched one at a time when together they are over it.
	c2 := testConfig(t)
	c2.MaxPatternWords = 1000
	x2 := wordsIndex(t, c2, 700, 3)
	c3 := testConfig(t)
	c3.MaxPatternWords = 0
	x3 := wordsIndex(t, c3, 700, 3)
	keys := func(r *Result) []string {
		var ks []string
		for _, h := range r.Hits {
			ks = append(ks, h.Key)
		}
		slices.Sort(ks)
		return ks
	}
	for _, q := range []Query{{Text: "/zq.*/", Size: 100}, {Text: "/zq.*/", Size: 100, Exhaustive: true}, {Text: "/zq.*/", From: 5, Size: 3}} {
		r, want := search1(t, x2, q), search1(t, x3, q)
		if r.Total != 42 || r.Total != want.Total || r.Partial || len(r.Hits) != len(want.Hits) || q.Size == 100 && !slices.Equal(keys(r), keys(want)) ||
			!reflect.DeepEqual(r.Facets, want.Facets) {
			t.Errorf("%+v: %d hits %v (partial %v), want %d hits %v as without the limit", q, r.Total, keys(r), r.Partial, want.Total, keys(want))
		}
	}
	// 0 is no limit.
	c4 := testConfig(t)
	c4.MaxPatternWords = 0
	if r := search1(t, wordsIndex(t, c4, 3000, 1), Query{Text: "/.*/"}); r.Total == 0 {
		t.Error("no limit: no hits")
	}
}

// BenchmarkPatternQuery measures what a pattern over a day of 30,000
// distinct words allocates, without the bound (as before it) and with the
// default search.max_pattern_words (10,000): /.*/ matches them all (and is
// refused with the bound), /zq[a-c].*/ some 3,500, and refund is one word,
// for the baseline.
func BenchmarkPatternQuery(b *testing.B) {
	for _, limit := range []int{0, DefaultConfig().MaxPatternWords} {
		c := testConfig(b)
		c.MaxPatternWords = limit
		x := wordsIndex(b, c, 30_000, 1)
		for _, q := range []string{"refund", "/zq[a-c].*/", "/.*/"} {
			b.Run(fmt.Sprintf("limit=%d/%s", limit, q), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					_, err := x.Search(context.Background(), Query{Text: q})
					if err != nil && !(limit > 0 && q == "/.*/" && errors.Is(err, ErrBadQuery)) {
						b.Fatal(err)
					}
				}
			})
		}
		x.Close()
	}
}
