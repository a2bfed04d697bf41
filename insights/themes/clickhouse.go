package themes

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/insights"
)

// ClickHouse reads posts from an earshot database through the views every
// cookbook query reads: matches_dedup and posts_dedup (one row per post and
// watchlist however often it was delivered, none of a deleted post). It
// works on ClickHouse 18.16 and current releases.
type ClickHouse struct {
	Conn driver.Conn
	DB   string
	// Cluster: the tables are Distributed (sink.cluster is set); the
	// sample's join and IN are then GLOBAL.
	Cluster bool
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// maxScopeValues bounds each list of a Scope.
const maxScopeValues = 1000

// Scan implements Reader. The sample is the max posts of the lowest
// cityHash64 of their keys, chosen on the server: the client reads at most
// max rows of at most maxText bytes of text each, whatever the volume. So
// that the server too works on little more than the sample, posts whose
// hash is above a threshold (set from the count, for about 1.5 × max
// posts) are left out before grouping; in the rare case that leaves fewer
// than max, the read is done again without it.
func (c ClickHouse) Scan(ctx context.Context, sc Scope, from, to time.Time, max, maxText int, fn func(Post) error) (int64, error) {
	where, err := c.where(sc, from, to)
	if err != nil {
		return 0, err
	}
	// Exact up to a collision of 64-bit hashes (about 1 in 10^7 at 10^6
	// posts), in 8 bytes a post instead of the key's 30 or so.
	var total uint64
	if err := c.Conn.QueryRow(ctx, "SELECT uniqExact(cityHash64(post_key)) FROM "+c.DB+".matches_dedup WHERE "+where).Scan(&total); err != nil {
		return 0, fmt.Errorf("counting posts: %w", err)
	}
	if total == 0 {
		return 0, nil
	}
	cut := ""
	if frac := 1.5*float64(max)/float64(total) + 0.001; total > uint64(max) && frac < 1 {
		cut = " AND cityHash64(post_key) < " + strconv.FormatUint(uint64(frac*(1<<63))*2, 10)
	}
	err = c.read(ctx, where+cut, max, maxText, fn, cut != "")
	if errors.Is(err, errShortSample) {
		err = c.read(ctx, where, max, maxText, fn, false)
	}
	if err != nil {
		return 0, err
	}
	return int64(total), nil
}

var errShortSample = errors.New("the threshold left too few posts")

// read reads the sample of the posts matching where; when short is set,
// it returns errShortSample, before calling fn, if there are fewer than max.
// The joined subquery is named: current ClickHouse refuses one without an
// alias (joined_subquery_requires_alias); 18.16 takes either.
func (c ClickHouse) read(ctx context.Context, where string, max, maxText int, fn func(Post) error, short bool) error {
	global := ""
	if c.Cluster {
		global = "GLOBAL "
	}
	q := fmt.Sprintf(`SELECT post_key, substring(text, 1, %[1]d) AS text_cut, theme_sentiment, theme_created, theme_keywords
FROM %[2]s.posts_dedup
%[3]sANY INNER JOIN (
    SELECT post_key, any(sentiment_label) AS theme_sentiment, min(created_at) AS theme_created, groupUniqArrayArray(keywords) AS theme_keywords
    FROM %[2]s.matches_dedup
    WHERE %[4]s
    GROUP BY post_key
    ORDER BY cityHash64(post_key), post_key
    LIMIT %[5]d
) AS sample USING post_key
WHERE post_key %[3]sIN (
    SELECT post_key FROM %[2]s.matches_dedup WHERE %[4]s
)
ORDER BY cityHash64(post_key), post_key`, maxText, c.DB, global, where, max)
	rows, err := c.Conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("reading posts: %w", err)
	}
	defer rows.Close()
	var posts []Post
	for rows.Next() {
		var p Post
		if err := rows.Scan(&p.Key, &p.Text, &p.Sentiment, &p.CreatedAt, &p.Keywords); err != nil {
			return fmt.Errorf("reading a post: %w", err)
		}
		p.Text = strings.ToValidUTF8(trimPartial(p.Text), "\uFFFD")
		if short {
			posts = append(posts, p) // at most max
			continue
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading posts: %w", err)
	}
	if short {
		if len(posts) < max {
			return errShortSample
		}
		for _, p := range posts {
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// trimPartial drops a rune cut in two at the end of s (substring counts
// bytes).
func trimPartial(s string) string {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return s[:i]
			}
			break
		}
	}
	return s
}

// where is the condition on matches_dedup for the scope and window, with
// every value bound as a quoted literal.
func (c ClickHouse) where(sc Scope, from, to time.Time) (string, error) {
	if !identifier.MatchString(c.DB) {
		return "", fmt.Errorf("database %q is not a plain identifier", c.DB)
	}
	if from.Unix() < 0 || to.Unix() > 4_294_967_295 {
		return "", fmt.Errorf("%w: %s to %s is outside ClickHouse's DateTime", ErrInvalid, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	conds := []string{
		"created_at >= toDateTime(" + strconv.FormatInt(from.Unix(), 10) + ")",
		"created_at < toDateTime(" + strconv.FormatInt(to.Unix(), 10) + ")",
	}
	for _, f := range []struct {
		col  string
		vals []string
	}{{"watchlist", sc.Watchlists}, {"team", sc.Teams}, {"region", sc.Regions}, {"market", sc.Markets}} {
		if len(f.vals) == 0 {
			continue
		}
		if len(f.vals) > maxScopeValues {
			return "", fmt.Errorf("%w: %d %ss, at most %d", ErrInvalid, len(f.vals), f.col, maxScopeValues)
		}
		q := make([]string, len(f.vals))
		for i, v := range f.vals {
			if len(v) > insights.MaxStringParam || !utf8.ValidString(v) {
				return "", fmt.Errorf("%w: a %s of %d bytes or not UTF-8", ErrInvalid, f.col, len(v))
			}
			q[i] = insights.QuoteString(v)
		}
		conds = append(conds, f.col+" IN ("+strings.Join(q, ", ")+")")
	}
	return strings.Join(conds, " AND "), nil
}
