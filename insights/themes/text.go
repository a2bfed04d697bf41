package themes

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/earshot-dev/earshot/internal/termtext"
)

// WriteText writes themes for a terminal: one line each with its posts,
// the period before, growth and sentiment, then its most typical post.
func WriteText(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "theme\tposts\tbefore\tgrowth\tneg/neu/pos\ta typical post")
	for _, t := range res.Themes {
		growth := "new"
		if t.Growth != nil {
			growth = fmt.Sprintf("%+.0f%%", 100**t.Growth)
		}
		posts := fmt.Sprint(t.Posts)
		if t.Sampled {
			posts = "~" + posts
		}
		ex := ""
		if len(t.Representative) > 0 {
			ex = oneLine(t.Representative[0].Text, 80)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d/%d/%d\t%s\n", oneLine(t.Label, 60), posts, t.Previous, growth, t.Sentiment.Negative, t.Sentiment.Neutral, t.Sentiment.Positive, ex)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d themes; %d posts in scope, %d read, %.0f%% of them in a theme\n", len(res.Themes), res.Posts, res.Read, 100*res.Themed)
	return err
}

// oneLine is s on one line, cut at n runes with "…": terminal controls
// shown escaped by termtext.Line (a post's ESC or C1 control would start an
// escape sequence, a bidi override reorder the line), the remaining
// invisible format characters (zero-width space, joiners) dropped so that
// a label reads as its words, runs of spaces as one.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, termtext.Line(s))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
