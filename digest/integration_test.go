//go:build integration

package digest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/sink"
)

// bigPeriod is the week the million rows are spread over.
var bigUntil = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// seedMillion fills a fresh database with n matches and their posts over
// the week before bigUntil (and n/10 in the week before it), by INSERT …
// SELECT FROM numbers(), and returns the bound catalogue.
func seedMillion(tb testing.TB, n int) (insights.Bound, driver.Conn) {
	tb.Helper()
	ctx := context.Background()
	conn, err := sink.Open(sink.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	db := fmt.Sprintf("digest_itest_%d", time.Now().UnixNano()%1e9)
	tb.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	if _, err := sink.Migrate(ctx, conn, db); err != nil {
		tb.Fatal(err)
	}
	week := int64(7 * 24 * 3600)
	start := bigUntil.Unix() - week
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO %s.matches (post_key, watchlist, team, keywords, created_at, region, sentiment_label, intents, inserted_at)
			SELECT concat('x:', toString(number)), concat('wl', toString(number %% 20)), if(number %% 3 = 0, 'legal', 'care'),
				[concat('term', toString(number %% 997)), 'acme'], toDateTime(%d + intDiv(number * %d, %d)),
				['EMEA', 'NA', 'APAC', 'LATAM'][number %% 4 + 1], ['positive', 'neutral', 'negative', 'unknown'][number %% 4 + 1],
				if(number %% 5 = 0, ['complaint'], ['other']), now()
			FROM numbers(%d)`, db, start, week, n, n),
		fmt.Sprintf(`INSERT INTO %s.posts (post_key, platform, id, author_handle, text, created_at, influence, likes, sentiment_label, watchlists, inserted_at)
			SELECT concat('x:', toString(number)), 'x', toString(number), concat('user', toString(number %% 5000)),
				concat('post number ', toString(number), ' <b>about acme</b>'), toDateTime(%d + intDiv(number * %d, %d)),
				(number * 7919) %% 1000 / 10, number %% 300, ['positive', 'neutral', 'negative', 'unknown'][number %% 4 + 1],
				[concat('wl', toString(number %% 20))], now()
			FROM numbers(%d)`, db, start, week, n, n),
		// the previous week, a tenth as busy
		fmt.Sprintf(`INSERT INTO %s.matches (post_key, watchlist, team, keywords, created_at, region, sentiment_label, intents, inserted_at)
			SELECT concat('p:', toString(number)), concat('wl', toString(number %% 20)), 'care', ['acme'],
				toDateTime(%d + intDiv(number * %d, %d)), 'EMEA', 'neutral', ['other'], now()
			FROM numbers(%d)`, db, start-week, week, n/10, n/10),
	} {
		if err := conn.Exec(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	cat, err := insights.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return insights.Bound{Catalog: cat, Conn: conn, DB: db}, conn
}

var bigDigest = Digest{Name: "big weekly", Schedule: "0 0 * * MON", Audience: Audience{Emails: []string{"a@example.com"}}}

// A period of a million matches renders the same bounded report: every
// table at its limit, the page small, the totals exact.
func TestMillionRowPeriod(t *testing.T) {
	const n = 1_000_000
	run, _ := seedMillion(t, n)
	start := time.Now()
	r, err := Build(context.Background(), run, nil, bigDigest, bigUntil, bigUntil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render(r, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built and rendered in %v: %d queries, page %d bytes", time.Since(start), len(r.Sources), len(out.HTML))
	if r.This.Mentions != n || r.Prev.Mentions != n/10 || r.This.Posts != n {
		t.Errorf("totals %+v / %+v", r.This, r.Prev)
	}
	if len(r.Volume) != 7 || len(r.Terms) != 10 || len(r.Posts) != 10 || len(r.Spikes) > 10 || len(r.Emerging) > 10 {
		t.Errorf("tables: volume %d, terms %d, posts %d, spikes %d", len(r.Volume), len(r.Terms), len(r.Posts), len(r.Spikes))
	}
	if len(out.HTML) > 200_000 || strings.Contains(out.HTML, "<b>about") {
		t.Errorf("page of %d bytes", len(out.HTML))
	}
	for _, s := range r.Sources {
		if s.Rows > 100 {
			t.Errorf("%s returned %d rows", s.Query, s.Rows)
		}
	}
	// A scope that matches nothing in a full database.
	none := bigDigest
	none.Scope = Scope{Teams: []string{"nobody"}}
	r, err = Build(context.Background(), run, nil, none, bigUntil, bigUntil)
	if err != nil || r.This.Mentions != 0 {
		t.Fatalf("empty scope: %v %+v", err, r)
	}
	if out, _ := Render(r, time.UTC); !strings.Contains(out.HTML, "No posts in this period") {
		t.Errorf("empty scope not said")
	}
}

// BenchmarkDigestMillionRows times a whole digest (every section) over a
// week of a million matches, against one digest_summary query over the
// same rows (the cheapest full pass) in the same run.
func BenchmarkDigestMillionRows(b *testing.B) {
	run, _ := seedMillion(b, 1_000_000)
	ctx := context.Background()
	b.Run("summary-query-baseline", func(b *testing.B) {
		p := Scope{}.Params()
		p["since"], p["until"] = rfc(bigUntil.Add(-7*24*time.Hour)), rfc(bigUntil)
		for b.Loop() {
			if _, err := run.Run(ctx, "digest_summary", p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole-digest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := Build(ctx, run, nil, bigDigest, bigUntil, bigUntil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Render(r, time.UTC); err != nil {
				b.Fatal(err)
			}
		}
	})
}
