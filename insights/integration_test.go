//go:build integration

package insights

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// These tests run every cookbook query on the ClickHouse 18.16 server
// `make up` starts, over a small data set written the way the pipeline
// writes it (posts and matches through the sink stage, twice, as a
// redelivery would), and check each result row by row against what the
// data set says it must be.

var t0 = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const h = time.Hour

func openCH(t *testing.T, user, password string) driver.Conn {
	t.Helper()
	c := sink.DefaultConfig()
	c.Username, c.Password = user, secret.New(password)
	conn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type seedPost struct {
	platform, id, author string
	followers            int64
	influence            float64
	created              time.Time
	region, lang         string
	sentiment            float64
	label                string
	keywords             map[string][]string // watchlist → keywords
	hashtags, intents    []string
	likes, reposts       int64
	replies              int64
}

var seedPosts = []seedPost{
	{"x", "1", "alice", 1000, 40, at(1 * h), "EMEA", "en", -0.8, "negative", map[string][]string{"acme": {"acme", "refund"}}, []string{"#Acme", "#fail"}, []string{"complaint"}, 100, 10, 5},
	{"x", "2", "bob", 50, 10, at(1*h + 30*time.Minute), "EMEA", "en", 0.6, "positive", map[string][]string{"acme": {"acme"}, "globex": {"globex"}}, []string{"#acme"}, []string{"praise"}, 1, 0, 0},
	{"bluesky", "3", "carol", 1_000_000, 90, at(2 * h), "NA", "es", -0.5, "negative", map[string][]string{"acme": {"acme", "outage"}}, nil, []string{"complaint", "crisis"}, 500, 200, 0},
	{"bluesky", "4", "dave", 10, 5, at(26 * h), "NA", "en", 0, "neutral", map[string][]string{"globex": {"globex"}}, nil, []string{"question"}, 0, 0, 0},
	{"x", "5", "alice", 1000, 40, at(27 * h), "APAC", "en", -0.9, "negative", map[string][]string{"acme": {"acme", "refund"}}, []string{"#ACME"}, []string{"complaint"}, 3, 0, 0},
	// Deleted below: it must not show anywhere.
	{"x", "6", "erin", 5_000_000, 99, at(27 * h), "EMEA", "en", -0.7, "negative", map[string][]string{"acme": {"acme", "refund"}}, []string{"#acme"}, []string{"complaint"}, 10000, 0, 0},
	// The period before [t0, t0+2d).
	{"x", "7", "frank", 20, 8, at(-24 * h), "LATAM", "en", 0.1, "neutral", map[string][]string{"acme": {"acme", "outage"}}, nil, nil, 0, 0, 0},
	{"x", "8", "gina", 20, 8, at(-23 * h), "LATAM", "en", -0.6, "negative", map[string][]string{"acme": {"acme", "outage"}}, nil, []string{"complaint"}, 0, 0, 0},
}

// seedMarkets are the posts' and alerts' markets (org.yaml markets): x:6,
// deleted, and a7, retracted, must not count in any market.
var seedMarkets = map[string]string{"x:1": "DACH", "x:2": "Nordics", "x:5": "ANZ", "x:6": "DACH",
	"a1": "DACH", "a2": "ANZ", "a4": "Nordics", "a6": "DACH", "a7": "Nordics", "a11": "DACH"}

func (s seedPost) item() *post.Item {
	p := &post.Post{Platform: s.platform, ID: s.id, Author: post.Author{ID: s.author, Handle: s.author, Followers: s.followers},
		Text: "a post by " + s.author, CreatedAt: s.created, Hashtags: s.hashtags,
		Engagement: &post.Engagement{Likes: s.likes, Reposts: s.reposts, Replies: s.replies}, IngestedAt: s.created.Add(time.Second)}
	it := &post.Item{Post: p, Enrichment: &post.Enrichment{Lang: s.lang, Sentiment: s.sentiment, SentimentLabel: s.label,
		Region: s.region, Intents: s.intents, Influence: s.influence, Market: seedMarkets[s.platform+":"+s.id]}}
	// emotions for emotions_by_watchlist: the negative posts angry, the
	// positive joyful, x:5 ironic
	switch s.label {
	case "negative":
		it.Enrichment.Emotion, it.Enrichment.EmotionConfidence = "anger", 0.8
	case "positive":
		it.Enrichment.Emotion, it.Enrichment.EmotionConfidence = "joy", 0.7
	}
	if s.id == "5" {
		it.Enrichment.Irony, it.Enrichment.IronyConfidence = true, 0.7
	}
	if s.id == "1" || s.id == "5" { // near-duplicates: digest_posts shows one of them
		it.Enrichment.ClusterID = "c1"
	}
	wls := make([]string, 0, len(s.keywords))
	for wl := range s.keywords {
		wls = append(wls, wl)
	}
	slices.Sort(wls)
	for _, wl := range wls {
		it.Matches = append(it.Matches, post.Match{Watchlist: wl, Version: 1, Brand: wl, Team: "social", Keywords: s.keywords[wl]})
	}
	return it
}

type seedAlert struct {
	id, queue, priority, postKey, region string
	created, due                         time.Time // due zero: no SLA
	incident                             string
	incidentSize                         uint32
	spike, retracted, unstaffed          uint8
	handedOffFrom                        string
}

var seedAlerts = []seedAlert{
	{"a1", "care", "P1", "x:1", "EMEA", at(1 * h), at(1*h + 15*time.Minute), "", 0, 0, 0, 0, ""},
	{"a2", "care", "P2", "x:5", "APAC", at(27 * h), at(28 * h), "inc2", 3, 0, 0, 0, ""},
	{"a3", "care", "P1", "bluesky:3", "NA", at(2 * h), at(2*h + 15*time.Minute), "inc1", 5, 0, 0, 0, "pr"},
	{"a4", "pr", "P2", "x:2", "EMEA", at(1*h + 30*time.Minute), at(49 * h), "inc1", 7, 1, 0, 0, ""},
	{"a5", "legal", "P3", "bluesky:4", "NA", at(26 * h), time.Time{}, "", 0, 0, 0, 1, "care"},
	{"a6", "care", "P1", "x:6", "EMEA", at(27 * h), at(27*h + 15*time.Minute), "inc3", 50, 0, 0, 0, ""}, // deleted post
	{"a7", "care", "P2", "x:2", "EMEA", at(3 * h), at(4 * h), "", 0, 0, 1, 0, ""},                       // retracted
	{"a9", "care", "P3", "bluesky:3", "NA", at(3 * h), at(7 * h), "", 0, 0, 0, 0, ""},                   // resolved, never acknowledged
	{"a11", "pr", "P1", "x:1", "EMEA", at(30 * h), at(30*h + 15*time.Minute), "", 0, 0, 0, 0, ""},
	{"s1", "sales", "P2", "x:2", "LATAM", at(4 * h), time.Time{}, "", 0, 0, 0, 0, ""},
	{"s2", "sales", "P2", "x:2", "LATAM", at(4 * h), time.Time{}, "", 0, 0, 0, 0, ""},
	{"s3", "sales", "P2", "x:2", "LATAM", at(4 * h), time.Time{}, "", 0, 0, 0, 0, ""},
	{"s4", "sales", "P2", "x:2", "LATAM", at(4 * h), time.Time{}, "", 0, 0, 0, 0, ""},
	{"s5", "sales", "P2", "x:2", "LATAM", at(4 * h), time.Time{}, "", 0, 0, 0, 0, ""},
}

type seedEvent struct {
	alert, queue, event, actor string
	at                         time.Time
}

var seedEvents = []seedEvent{
	{"a1", "care", "acknowledged", "ann", at(1*h + 5*time.Minute)},
	{"a1", "care", "acknowledged", "zed", at(1*h + 20*time.Minute)}, // a second acknowledgement: the first counts
	{"a1", "care", "resolved", "ann", at(3 * h)},
	{"a2", "care", "acknowledged", "bo", at(29 * h)},
	{"a3", "care", "escalated", "escalation", at(2*h + 20*time.Minute)},
	{"a5", "legal", "acknowledged", "cy", at(26*h + 10*time.Minute)},
	{"a7", "care", "retracted", "sink", at(3*h + 30*time.Minute)},
	{"a9", "care", "resolved", "ann", at(6 * h)},
	{"s1", "sales", "acknowledged", "sal", at(4*h + 60*time.Second)},
	{"s2", "sales", "acknowledged", "sal", at(4*h + 120*time.Second)},
	{"s3", "sales", "acknowledged", "sal", at(4*h + 180*time.Second)},
	{"s4", "sales", "acknowledged", "sal", at(4*h + 240*time.Second)},
	{"s5", "sales", "acknowledged", "sal", at(4*h + 3000*time.Second)},
}

func seed(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	seedWith(t, conn, sink.Config{Database: db})
}

// seedWith writes the data set where c says (a single server or, with
// c.Cluster, a cluster's Distributed tables).
func seedWith(t *testing.T, conn driver.Conn, c sink.Config) {
	t.Helper()
	ctx := context.Background()
	db := c.Database
	if _, err := c.Schema().Migrate(ctx, conn, nil); err != nil {
		t.Fatal(err)
	}
	stage := sink.NewWith(conn, c, sink.Options{}).Stage()
	var items []*post.Item
	for _, s := range seedPosts {
		items = append(items, s.item())
	}
	// Twice: a redelivered batch must not count twice.
	for range 2 {
		if _, err := stage(ctx, post.Batch{Items: items}); err != nil {
			t.Fatal(err)
		}
	}
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "x", ID: "6", IngestedAt: at(40 * h)}}
	if _, err := stage(ctx, post.Batch{Items: []*post.Item{del}}); err != nil {
		t.Fatal(err)
	}

	cols := sink.InsertColumns()
	batch := func(table string, rows [][]any) {
		t.Helper()
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+"."+table+" ("+cols[table]+")")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := b.Append(r...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
	}
	// alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
	// retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market
	alertRows := func(inserted time.Time, spikeOf func(seedAlert) uint8) [][]any {
		var rows [][]any
		for _, a := range seedAlerts {
			due := a.due
			if due.IsZero() {
				due = time.Unix(0, 0)
			}
			rows = append(rows, []any{a.id, a.queue, a.queue + "-team", a.priority, "rule", a.postKey, []string{"acme"}, a.region,
				a.incident, a.incidentSize, spikeOf(a), a.retracted, a.handedOffFrom, a.unstaffed, a.created.UTC(), due.UTC(), "{}", inserted, seedMarkets[a.id]})
		}
		return rows
	}
	// A first version of every alert, then the latest (a4 becomes a spike alert): only the latest counts.
	batch("alerts", alertRows(at(50*h), func(seedAlert) uint8 { return 0 }))
	batch("alerts", alertRows(at(51*h), func(a seedAlert) uint8 { return a.spike }))
	var events [][]any
	for _, a := range seedAlerts {
		events = append(events, []any{a.id, a.queue, "created", "sink", a.created.UTC(), "", at(50 * h)})
	}
	for _, e := range seedEvents {
		events = append(events, []any{e.alert, e.queue, e.event, e.actor, e.at.UTC(), "", at(50 * h)})
	}
	batch("alert_events", events)
	batch("alert_events", events) // redelivered

	// The desk's events (desk.<action>:<event_id>, seq orders them),
	// written twice as a redelivery would: a1 claimed and resolved, a2
	// claimed then unclaimed, a3 assigned past its deadline, a4 claimed,
	// a5 claimed and resolved in the same second, a9 resolved and
	// reopened, a11 claimed and resolved; a6 (deleted post) and a7
	// (retracted) count nowhere.
	var desk [][]any
	for i, e := range []struct {
		alert, queue, action string
		at                   time.Time
		seqPlus              uint64
	}{
		{"a1", "care", "claim", at(1*h + 10*time.Minute), 0},
		{"a1", "care", "resolve", at(2 * h), 0},
		{"a2", "care", "claim", at(27*h + 30*time.Minute), 0},
		{"a2", "care", "unclaim", at(28 * h), 0},
		{"a3", "care", "assign", at(3 * h), 0},
		{"a4", "pr", "claim", at(47 * h), 0},
		{"a5", "legal", "claim", at(26*h + 5*time.Minute), 0},
		{"a5", "legal", "resolve", at(26*h + 5*time.Minute), 1},
		{"a6", "care", "claim", at(27*h + 5*time.Minute), 0},
		{"a7", "care", "claim", at(3*h + 10*time.Minute), 0},
		{"a9", "care", "resolve", at(6 * h), 0},
		{"a9", "care", "reopen", at(6*h + 30*time.Minute), 0},
		{"a11", "pr", "claim", at(29 * h), 0},
		{"a11", "pr", "resolve", at(31 * h), 0},
	} {
		id := fmt.Sprintf("ev%d", i)
		desk = append(desk, []any{e.alert, e.queue, "desk." + e.action + ":" + id, "ann", e.at.UTC(), "", id, uint64(e.at.UnixNano()) + e.seqPlus,
			"", "", time.Unix(0, 0).UTC(), "", at(50 * h)})
	}
	deskCols := "alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at"
	for range 2 {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".alert_events ("+deskCols+")")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range desk {
			if err := b.Append(r...); err != nil {
				t.Fatalf("desk events: %v", err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatalf("desk events: %v", err)
		}
	}

	// All posts heard: minute, platform, lang, post_hash.
	var vol [][]any
	for i := uint64(1); i <= 10; i++ {
		vol = append(vol, []any{at(1 * h), "x", "en", i})
	}
	vol = append(vol, []any{at(1 * h), "x", "en", uint64(1)}) // heard twice, counted once
	for i := uint64(101); i <= 105; i++ {
		vol = append(vol, []any{at(1 * h), "mastodon", "de", i})
	}
	for i := uint64(201); i <= 204; i++ {
		vol = append(vol, []any{at(25 * h), "bluesky", "", i})
	}
	for i := uint64(301); i <= 303; i++ {
		vol = append(vol, []any{at(-24 * h), "x", "en", i})
	}
	batch("volume_in", vol)
}

// cell renders a value the way the expectations are written.
func cell(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.DateTime)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case []string:
		return "[" + strings.Join(x, " ") + "]"
	case nil:
		return "NULL"
	}
	return fmt.Sprint(v)
}

func render(t *Table, skip ...string) []string {
	var out []string
	for _, r := range t.Rows {
		var cells []string
		for i, v := range r {
			if slices.Contains(skip, t.Columns[i]) {
				continue
			}
			cells = append(cells, cell(v))
		}
		out = append(out, strings.Join(cells, " | "))
	}
	return out
}

// window is [t0, t0+2d), with deadlines judged at its end.
var window = map[string]string{"since": "2026-11-10T00:00:00Z", "until": "2026-11-12T00:00:00Z"}

func with(extra map[string]string, keys ...string) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		m[k] = window[k]
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestCookbookOn1816(t *testing.T) {
	conn := openCH(t, "default", "")
	db := fmt.Sprintf("insights_itest_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
	})
	seed(t, conn, db)
	runCookbook(t, conn, db)
}

type cookbookCase struct {
	query  string
	params map[string]string
	skip   []string // columns not compared
	want   []string
}

// runCookbook runs every cookbook query on the seeded database db and checks
// each result row by row.
func runCookbook(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return at(48 * h) }
	tested := map[string]bool{}
	ctx := context.Background()
	for _, tc := range cookbookCases() {
		tested[tc.query] = true
		got, err := c.Run(ctx, conn, db, tc.query, tc.params)
		if err != nil {
			t.Errorf("%s %v: %v", tc.query, tc.params, err)
			continue
		}
		rows := render(got, tc.skip...)
		if !slices.Equal(rows, tc.want) {
			t.Errorf("%s %v:\n got %q\nwant %q", tc.query, tc.params, rows, tc.want)
		}
		if len(got.Types) != len(got.Columns) {
			t.Errorf("%s: %d types for %d columns", tc.query, len(got.Types), len(got.Columns))
		}
	}
	for _, q := range c.List() {
		if !tested[q.Name] {
			t.Errorf("query %s has no test case here", q.Name)
		}
	}

	// Every query also runs with its defaults (relative windows back from
	// now; nothing is that recent, but the SQL must run).
	c.Now = nil
	for _, q := range c.List() {
		params := map[string]string{}
		for _, p := range q.Params {
			if p.Required {
				params[p.Name] = "acme"
			}
		}
		if _, err := c.Run(ctx, conn, db, q.Name, params); err != nil {
			t.Errorf("%s with defaults: %v", q.Name, err)
		}
	}
}

// cookbookCases are the expected results of every cookbook query on the
// seeded data set.
func cookbookCases() []cookbookCase {
	both := []string{"since", "until"}
	return []cookbookCase{
		{"mentions_by_watchlist", with(nil, both...), nil, []string{
			"acme | 4 | 1 | 0 | 3 | -0.4",
			"globex | 2 | 1 | 1 | 0 | 0.3",
		}},
		{"share_of_voice_by_region", with(nil, both...), nil, []string{
			"APAC | acme | 1 | 1 | 1",
			"EMEA | acme | 2 | 3 | 0.6667",
			"EMEA | globex | 1 | 3 | 0.3333",
			"NA | acme | 1 | 2 | 0.5",
			"NA | globex | 1 | 2 | 0.5",
		}},
		{"share_of_voice_by_platform", with(map[string]string{"watchlist": "acme"}, both...), nil, []string{
			"x | 3 | 10 | 0.3",
			"mastodon | 0 | 5 | 0",
			"bluesky | 1 | 4 | 0.25",
		}},
		{"sentiment_trend", with(map[string]string{"watchlist": "acme", "bucket": "1d"}, both...), nil, []string{
			"2026-11-10 00:00:00 | 3 | 1 | 0 | 2 | -0.233 | -0.333",
			"2026-11-11 00:00:00 | 1 | 0 | 0 | 1 | -0.9 | -1",
		}},
		{"sentiment_trend", with(map[string]string{"watchlist": "acme", "bucket": "12h", "until": "2026-11-10T12:00:00Z"}, "since"), nil, []string{
			"2026-11-10 00:00:00 | 3 | 1 | 0 | 2 | -0.233 | -0.333",
		}},
		// "a post by NAME": "post" is in every post, as before (no lift);
		// alice wrote 2 of the 4 posts of the period and none before (lift
		// (2/4) / ((0+1)/(2+1)) = 1.5); bob and carol 1 each (0.75).
		{"significant_words", map[string]string{"watchlist": "acme", "until": "2026-11-12T00:00:00Z", "period": "2d", "baseline": "1", "min_posts": "1"}, nil, []string{
			"alice | 2 | 0 | 1.5 | 0.81",
		}},
		{"top_terms_vs_previous", map[string]string{"until": "2026-11-12T00:00:00Z", "period": "2d", "top": "10"}, nil, []string{
			"acme | 4 | 2 | 2",
			"globex | 2 | 0 | 2",
			"refund | 2 | 0 | 2",
			"outage | 1 | 2 | -1",
		}},
		{"top_terms_vs_previous", map[string]string{"watchlist": "globex", "until": "2026-11-12T00:00:00Z", "period": "2d"}, nil, []string{
			"globex | 2 | 0 | 2",
		}},
		{"top_influencers", with(map[string]string{"watchlist": "acme"}, both...), nil, []string{
			"bluesky | carol | 1 | 1000000 | 90 | 700 | -0.5",
			"x | alice | 2 | 1000 | 40 | 118 | -0.85",
			"x | bob | 1 | 50 | 10 | 1 | 0.6",
		}},
		{"top_influencers", with(map[string]string{"watchlist": "acme", "top": "1"}, both...), nil, []string{
			"bluesky | carol | 1 | 1000000 | 90 | 700 | -0.5",
		}},
		{"top_hashtags", with(map[string]string{"watchlist": "acme"}, both...), nil, []string{
			"#acme | 3 | 2",
			"#fail | 1 | 1",
		}},
		{"mention_spikes", with(map[string]string{"min_mentions": "2", "factor": "3"}, both...), nil, []string{
			"acme | 2026-11-10 01:00:00 | 2 | 0.08 | 24",
		}},
		{"mention_spikes", with(map[string]string{"min_mentions": "2", "factor": "25"}, both...), nil, nil},
		{"most_engaged_negative", with(map[string]string{"watchlist": "acme"}, both...), []string{"excerpt"}, []string{
			"bluesky:3 | carol | 2026-11-10 02:00:00 | NA | 700 | -0.5",
			"x:1 | alice | 2026-11-10 01:00:00 | EMEA | 115 | -0.8",
			"x:5 | alice | 2026-11-11 03:00:00 | APAC | 3 | -0.9",
		}},
		{"intents_by_watchlist", with(nil, both...), nil, []string{
			"acme | complaint | 3",
			"acme | crisis | 1",
			"acme | praise | 1",
			"globex | praise | 1",
			"globex | question | 1",
		}},
		{"emotions_by_watchlist", with(nil, both...), nil, []string{
			"acme | anger | 3 | 1",
			"acme | joy | 1 | 0",
			"globex | joy | 1 | 0",
			"globex | none | 1 | 0",
		}},
		{"language_mix", with(map[string]string{"watchlist": "acme"}, both...), nil, []string{
			"en | 3 | 0.75",
			"es | 1 | 0.25",
		}},
		// The roll-ups count distinct post keys and subtract deleted posts'
		// (x:6: acme, EMEA, negative, refund, on the 11th); a redelivered
		// post does not count twice.
		{"mentions_by_region_sentiment", with(nil, both...), nil, []string{
			"acme | APAC | negative | 1",
			"acme | EMEA | negative | 1",
			"acme | EMEA | positive | 1",
			"acme | NA | negative | 1",
			"globex | EMEA | positive | 1",
			"globex | NA | neutral | 1",
		}},
		{"mentions_over_time", with(map[string]string{"bucket": "1d"}, both...), nil, []string{
			"2026-11-10 00:00:00 | acme | EMEA | 2",
			"2026-11-10 00:00:00 | acme | NA | 1",
			"2026-11-10 00:00:00 | globex | EMEA | 1",
			"2026-11-11 00:00:00 | acme | APAC | 1",
			"2026-11-11 00:00:00 | globex | NA | 1",
		}},
		{"mentions_over_time", with(map[string]string{"bucket": "1d", "watchlist": "globex"}, both...), nil, []string{
			"2026-11-10 00:00:00 | globex | EMEA | 1",
			"2026-11-11 00:00:00 | globex | NA | 1",
		}},
		{"top_terms_daily", map[string]string{"watchlist": "acme", "since": "2026-11-10T00:00:00Z", "until": "2026-11-11T23:59:59Z"}, nil, []string{
			"acme | 4 | 2",
			"refund | 2 | 2",
			"outage | 1 | 1",
		}},
		{"volume_by_platform", with(map[string]string{"bucket": "1d"}, both...), nil, []string{
			"2026-11-10 00:00:00 | mastodon | 5",
			"2026-11-10 00:00:00 | x | 10",
			"2026-11-11 00:00:00 | bluesky | 4",
		}},
		{"alert_volume", with(nil, both...), nil, []string{
			"care | APAC | P2 | 1 | 0 | 0 | 0",
			"care | EMEA | P1 | 1 | 0 | 0 | 0",
			"care | NA | P1 | 1 | 0 | 1 | 0",
			"care | NA | P3 | 1 | 0 | 0 | 0",
			"legal | NA | P3 | 1 | 0 | 1 | 1",
			"pr | EMEA | P1 | 1 | 0 | 0 | 0",
			"pr | EMEA | P2 | 1 | 1 | 0 | 0",
			"sales | LATAM | P2 | 5 | 0 | 0 | 0",
		}},
		// The digests' queries. Window [t0, t0+2d): matches x:1 acme EMEA
		// neg, x:2 acme+globex EMEA pos, bluesky:3 acme NA neg, bluesky:4
		// globex NA neu, x:5 acme APAC neg (x:6 deleted); the two days
		// before: x:7, x:8 acme LATAM. Every team is "social".
		{"digest_summary", with(nil, both...), nil, []string{"6 | 5 | 2 | 1 | 3 | -0.167"}},
		{"digest_summary", with(map[string]string{"watchlists": "acme", "intents": "complaint"}, both...), nil, []string{"3 | 3 | 0 | 0 | 3 | -1"}},
		{"digest_summary", with(map[string]string{"regions": "EMEA,NA", "teams": "social"}, both...), nil, []string{"5 | 4 | 2 | 1 | 2 | 0"}},
		{"digest_summary", with(map[string]string{"teams": "nobody"}, both...), nil, []string{"0 | 0 | 0 | 0 | 0 | 0"}},
		{"digest_volume", with(map[string]string{"watchlists": "acme", "bucket": "1d"}, both...), nil, []string{
			"2026-11-10 00:00:00 | 3 | 1 | 0 | 2",
			"2026-11-11 00:00:00 | 1 | 0 | 0 | 1",
		}},
		// Buckets start at the window's start, not at midnight UTC.
		{"digest_volume", map[string]string{"since": "2026-11-10T01:30:00Z", "until": "2026-11-12T00:00:00Z", "bucket": "1d"}, nil, []string{
			"2026-11-10 01:30:00 | 3 | 2 | 0 | 1",
			"2026-11-11 01:30:00 | 2 | 0 | 1 | 1",
		}},
		{"digest_terms", with(nil, both...), nil, []string{
			"acme | 4 | 2 | 2",
			"globex | 2 | 0 | 2",
			"refund | 2 | 0 | 2",
			"outage | 1 | 2 | -1",
		}},
		{"digest_terms", with(map[string]string{"emerging": "1", "min_mentions": "1"}, both...), nil, []string{
			"acme | 4 | 2 | 2",
			"globex | 2 | 0 | 2",
			"refund | 2 | 0 | 2",
		}},
		{"digest_terms", with(map[string]string{"emerging": "1", "min_mentions": "3"}, both...), nil, []string{"acme | 4 | 2 | 2"}},
		{"digest_spikes", with(map[string]string{"min_mentions": "2"}, both...), nil, []string{
			"acme | 2026-11-10 01:00:00 | 2 | 0.08 | 24",
		}},
		{"digest_spikes", with(map[string]string{"min_mentions": "2", "regions": "NA"}, both...), nil, nil},
		{"digest_posts", with(map[string]string{"watchlists": "acme", "top": "3"}, both...), nil, []string{
			"bluesky:3 | bluesky | carol | 2026-11-10 02:00:00 | 90 | 700 | negative | a post by carol",
			"x:1 | x | alice | 2026-11-10 01:00:00 | 40 | 115 | negative | a post by alice",
			// x:5 is in x:1's cluster
			"x:2 | x | bob | 2026-11-10 01:30:00 | 10 | 1 | positive | a post by bob",
		}},
		{"digest_alerts", with(map[string]string{"as_of": "2026-11-12T00:00:00Z"}, both...), nil, []string{
			"sales | 5 | 0 | 0 | 0 | 0 | 0 | 1",
			"care | 4 | 0 | 4 | 3 | 1 | 0 | 0.75",
			"pr | 2 | 1 | 2 | 2 | 0 | 0 | 1",
			"legal | 1 | 0 | 0 | 0 | 0 | 0 | 1",
		}},
		{"digest_alerts", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "teams": "care-team", "regions": "EMEA"}, both...), nil, []string{
			"care | 1 | 0 | 1 | 1 | 0 | 0 | 1",
		}},
		{"digest_alerts", with(map[string]string{"watchlists": "globex"}, both...), nil, nil},
		{"digest_freshness", with(nil, "until"), []string{"latest_write"}, []string{"2026-11-11 03:00:00"}},
		// The desk's SLA (queue | alerts | open | claimed | resolved |
		// with_sla | first_response_breached | resolve_breached), the
		// first response being the first claim, assignment, resolve or
		// acknowledgement: care's a3 answered past its deadline; open
		// alerts past the 4h resolve target are breaches, as is a resolve
		// after it.
		{"desk_sla", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "resolve_within": "4h"}, both...), nil, []string{
			"care | 4 | 2 | 1 | 1 | 4 | 1 | 3",
			"legal | 1 | 0 | 0 | 1 | 0 | 0 | 0",
			"pr | 2 | 0 | 1 | 1 | 2 | 0 | 1",
			"sales | 5 | 5 | 0 | 0 | 0 | 0 | 5",
		}},
		// As of t0+6h15m, before a9's reopen and past a3's 4h.
		{"desk_sla", map[string]string{"since": "2026-11-10T00:00:00Z", "until": "2026-11-10T06:15:00Z", "as_of": "2026-11-10T06:15:00Z", "queue": "care", "resolve_within": "4h"}, nil, []string{
			"care | 3 | 0 | 1 | 2 | 3 | 1 | 1",
		}},
		{"desk_sla", with(map[string]string{"queue": "nobody"}, both...), nil, nil},

		// Markets (seedMarkets): x:1 DACH, x:2 Nordics (acme and globex),
		// x:5 ANZ; the deleted x:6 (DACH) and its alert a6 nowhere, the
		// retracted a7 (Nordics) neither.
		{"digest_summary", with(map[string]string{"markets": "DACH,Nordics"}, both...), nil, []string{"3 | 2 | 2 | 0 | 1 | 0.333"}},
		{"digest_summary", with(map[string]string{"markets": "DACH", "watchlists": "globex"}, both...), nil, []string{"0 | 0 | 0 | 0 | 0 | 0"}},
		{"digest_volume", with(map[string]string{"markets": "Nordics", "bucket": "1d"}, both...), nil, []string{
			"2026-11-10 00:00:00 | 2 | 2 | 0 | 0",
		}},
		{"digest_terms", with(map[string]string{"markets": "DACH"}, both...), nil, []string{
			"acme | 1 | 0 | 1",
			"refund | 1 | 0 | 1",
		}},
		{"digest_spikes", with(map[string]string{"min_mentions": "2", "markets": "DACH,Nordics"}, both...), nil, []string{
			"acme | 2026-11-10 01:00:00 | 2 | 0.04 | 48",
		}},
		{"digest_spikes", with(map[string]string{"min_mentions": "2", "markets": "DACH"}, both...), nil, nil},
		{"digest_posts", with(map[string]string{"watchlists": "acme", "markets": "ANZ", "top": "3"}, both...), nil, []string{
			"x:5 | x | alice | 2026-11-11 03:00:00 | 40 | 3 | negative | a post by alice",
		}},
		{"digest_alerts", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "markets": "DACH"}, both...), nil, []string{
			"care | 1 | 0 | 1 | 1 | 0 | 0 | 1",
			"pr | 1 | 0 | 1 | 1 | 0 | 0 | 1",
		}},
		{"digest_alerts", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "markets": "Nordics"}, both...), nil, []string{
			"pr | 1 | 1 | 1 | 1 | 0 | 0 | 1",
		}},

		// The first response is the first claim, assignment, resolve or
		// acknowledgement, as desk_sla counts it: a2 claimed in time
		// (acknowledged late), a9 resolved in time (never acknowledged), a4
		// claimed before the deadline and as_of, a11 claimed in time are
		// met; a3, assigned late, is care's one breach, as in desk_sla.
		{"sla_compliance", with(map[string]string{"as_of": "2026-11-12T00:00:00Z"}, both...), nil, []string{
			"care | APAC | 1 | 1 | 0 | 0 | 1",
			"care | EMEA | 1 | 1 | 0 | 0 | 1",
			"care | NA | 2 | 1 | 1 | 0 | 0.5",
			"pr | EMEA | 2 | 2 | 0 | 0 | 1",
		}},
		// Judged earlier (t0+30h), a4's claim (t0+47h) is not seen yet and
		// its deadline (t0+49h) is ahead: pending.
		{"sla_compliance", with(map[string]string{"as_of": "2026-11-11T06:00:00Z"}, both...), nil, []string{
			"care | APAC | 1 | 1 | 0 | 0 | 1",
			"care | EMEA | 1 | 1 | 0 | 0 | 1",
			"care | NA | 2 | 1 | 1 | 0 | 0.5",
			"pr | EMEA | 2 | 1 | 0 | 1 | 1",
		}},
		{"response_time_percentiles", with(nil, both...), []string{"q"}, []string{
			"care | P1 | 1 | 1 | 300 | 300 | 300 | 300",
			"care | P2 | 1 | 0 | 7200 | 7200 | 7200 | 7200",
			"care | P3 | 0 | 1 | 0 | 0 | 0 | 0",
			"legal | P3 | 1 | 0 | 600 | 600 | 600 | 600",
			"pr | P1 | 0 | 1 | 0 | 0 | 0 | 0",
			"pr | P2 | 0 | 1 | 0 | 0 | 0 | 0",
			"sales | P2 | 5 | 0 | 180 | 3000 | 3000 | 3000",
		}},
		// Unanswered past the deadline: by t0+48h every alert with one has
		// been answered (a3 assigned late, a11 claimed, never
		// acknowledged); at t0+2h30m a3 (due t0+2h15m, assigned at t0+3h)
		// is still waiting.
		{"overdue_alerts", map[string]string{"as_of": "2026-11-12T00:00:00Z"}, nil, nil},
		{"overdue_alerts", map[string]string{"as_of": "2026-11-10T02:30:00Z"}, nil, []string{
			"a3 | care | care-team | P1 | NA | 2026-11-10 02:00:00 | 2026-11-10 02:15:00 | 900",
		}},
		{"overdue_alerts", map[string]string{"as_of": "2026-11-10T02:30:00Z", "queue": "pr"}, nil, nil},
		{"overdue_alerts", map[string]string{"as_of": "2026-11-10T02:30:00Z", "since": "2026-11-10T02:00:01Z"}, nil, nil},
		// Resolved: care's a1 and a9 (old resolved events, and resolved on
		// the desk), legal's a5 and pr's a11 (resolved on the desk only).
		{"alert_events_by_queue", with(nil, both...), nil, []string{
			"care | 5 | 2 | 1 | 1 | 2",
			"legal | 1 | 1 | 0 | 0 | 1",
			"pr | 2 | 0 | 0 | 0 | 1",
			"sales | 5 | 5 | 0 | 0 | 0",
		}},
		{"handoffs", with(nil, both...), nil, []string{
			"care | legal | 1 | 1",
			"pr | care | 1 | 0",
		}},
		// Markets: local → regional → global. Redelivered posts count once,
		// the deleted x:6 (DACH) and its alert a6 nowhere.
		{"markets_volume_sentiment", with(nil, both...), nil, []string{
			"APAC | ANZ | 1 | 0 | 0 | 1 | -1",
			"EMEA | DACH | 1 | 0 | 0 | 1 | -1",
			"EMEA | Nordics | 1 | 1 | 0 | 0 | 1",
			"NA |  | 2 | 0 | 1 | 1 | -0.5",
		}},
		{"markets_volume_sentiment", with(map[string]string{"level": "region"}, both...), nil, []string{
			"APAC |  | 1 | 0 | 0 | 1 | -1",
			"EMEA |  | 2 | 1 | 0 | 1 | 0",
			"NA |  | 2 | 0 | 1 | 1 | -0.5",
		}},
		{"markets_volume_sentiment", with(map[string]string{"level": "global"}, both...), nil, []string{
			" |  | 5 | 1 | 1 | 3 | -0.4",
		}},
		{"markets_volume_sentiment", with(map[string]string{"level": "region", "market": "DACH"}, both...), nil, []string{
			"EMEA |  | 1 | 0 | 0 | 1 | -1",
		}},
		{"markets_volume_sentiment", with(map[string]string{"region": "EMEA", "watchlist": "globex"}, both...), nil, []string{
			"EMEA | Nordics | 1 | 1 | 0 | 0 | 1",
		}},
		{"markets_share_of_voice", with(nil, both...), nil, []string{
			"APAC | ANZ | acme | 1 | 1 | 1",
			"EMEA | DACH | acme | 1 | 1 | 1",
			"EMEA | Nordics | acme | 1 | 2 | 0.5",
			"EMEA | Nordics | globex | 1 | 2 | 0.5",
			"NA |  | acme | 1 | 2 | 0.5",
			"NA |  | globex | 1 | 2 | 0.5",
		}},
		{"markets_share_of_voice", with(map[string]string{"level": "region", "region": "EMEA"}, both...), nil, []string{
			"EMEA |  | acme | 2 | 3 | 0.6667",
			"EMEA |  | globex | 1 | 3 | 0.3333",
		}},
		{"markets_share_of_voice", with(map[string]string{"level": "global"}, both...), nil, []string{
			" |  | acme | 4 | 6 | 0.6667",
			" |  | globex | 2 | 6 | 0.3333",
		}},
		{"markets_alerts_sla", with(map[string]string{"as_of": "2026-11-12T00:00:00Z"}, both...), nil, []string{
			"APAC | ANZ | 1 | 1 | 1 | 0 | 0 | 1",
			"EMEA | DACH | 2 | 2 | 2 | 0 | 0 | 1",
			"EMEA | Nordics | 1 | 1 | 1 | 0 | 0 | 1",
			"LATAM |  | 5 | 0 | 0 | 0 | 0 | 1",
			"NA |  | 3 | 2 | 1 | 1 | 0 | 0.5",
		}},
		{"markets_alerts_sla", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "level": "region"}, both...), nil, []string{
			"APAC |  | 1 | 1 | 1 | 0 | 0 | 1",
			"EMEA |  | 3 | 3 | 3 | 0 | 0 | 1",
			"LATAM |  | 5 | 0 | 0 | 0 | 0 | 1",
			"NA |  | 3 | 2 | 1 | 1 | 0 | 0.5",
		}},
		{"markets_alerts_sla", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "level": "global"}, both...), nil, []string{
			" |  | 12 | 6 | 5 | 1 | 0 | 0.8333",
		}},
		{"markets_alerts_sla", with(map[string]string{"as_of": "2026-11-12T00:00:00Z", "market": "DACH"}, both...), nil, []string{
			"EMEA | DACH | 2 | 2 | 2 | 0 | 0 | 1",
		}},
		{"biggest_incidents", with(nil, both...), nil, []string{
			"inc1 | 7 | 2 | [care pr] | 2026-11-10 01:30:00",
			"inc2 | 3 | 1 | [care] | 2026-11-11 03:00:00",
		}},
	}
}

// TestInjectionOn1816 puts SQL fragments into every string parameter of
// every query: none may fail to parse, read anything it should not, or
// change the database.
func TestInjectionOn1816(t *testing.T) {
	conn := openCH(t, "default", "")
	db := fmt.Sprintf("insights_inject_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
	})
	seed(t, conn, db)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tables := func() uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = '"+db+"'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tables()
	payloads := []string{
		`acme' OR 1=1 --`,
		`'; DROP TABLE ` + db + `.posts; --`,
		`acme\' OR 1=1 --`,
		`acme' UNION ALL SELECT name FROM system.tables --`,
		"acme'\n OR 1=1",
		`acme\`,
	}
	runs := 0
	for _, q := range c.List() {
		for _, p := range q.Params {
			if p.Type != TypeString {
				continue
			}
			for _, v := range payloads {
				params := map[string]string{"since": "2020-01-01T00:00:00Z"}
				if !slices.ContainsFunc(q.Params, func(p Param) bool { return p.Name == "since" }) {
					delete(params, "since")
				}
				for _, o := range q.Params {
					if o.Type == TypeString {
						params[o.Name] = "acme"
					}
				}
				params[p.Name] = v
				got, err := c.Run(ctx, conn, db, q.Name, params)
				if err != nil {
					t.Errorf("%s %s=%q: %v", q.Name, p.Name, v, err)
					continue
				}
				runs++
				// No watchlist or queue has such a name: a value read as
				// a literal matches nothing. (share_of_voice_by_platform
				// lists every platform's volume whatever the watchlist.)
				if q.Name == "share_of_voice_by_platform" {
					for _, r := range got.Rows {
						if r[1] != uint64(0) {
							t.Errorf("%s %s=%q matched posts: %v", q.Name, p.Name, v, r)
						}
					}
					continue
				}
				// digest_summary is one row of totals whatever matched:
				// all of them must be zero.
				if q.Name == "digest_summary" {
					for _, r := range got.Rows {
						for _, cell := range r {
							if !zeroCell(cell) {
								t.Errorf("%s %s=%q matched posts: %v", q.Name, p.Name, v, r)
								break
							}
						}
					}
					continue
				}
				if len(got.Rows) != 0 {
					t.Errorf("%s %s=%q returned %d rows, want none: %v", q.Name, p.Name, v, len(got.Rows), got.Rows)
				}
			}
		}
	}
	if runs < 30 {
		t.Errorf("only %d injection runs", runs)
	}
	if got := tables(); got != before {
		t.Errorf("%d tables after the injections, %d before", got, before)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".posts_dedup").Scan(&n); err != nil || n != 7 {
		t.Errorf("posts_dedup: %d rows, %v; want 7 still", n, err)
	}
	// The database name is an identifier, checked, never quoted in.
	if _, err := c.Run(ctx, conn, db+".posts; DROP TABLE x", "mentions_by_watchlist", nil); err == nil {
		t.Error("a database name with SQL in it ran")
	}
}

// TestAnalystUser runs the cookbook as the read-only analyst user, who may
// not change settings (readonly=1): Run must not try to.
func TestAnalystUser(t *testing.T) {
	admin := openCH(t, "default", "")
	db := fmt.Sprintf("insights_analyst_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if !t.Failed() {
			admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
	})
	seed(t, admin, db)
	conn := openCH(t, "analyst", "analyst")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Run(context.Background(), conn, db, "mentions_by_watchlist", window)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"acme | 4 | 1 | 0 | 3 | -0.4", "globex | 2 | 1 | 1 | 0 | 0.3"}; !slices.Equal(render(got), want) {
		t.Errorf("as analyst: %q, want %q", render(got), want)
	}
	// And the analyst cannot write, whatever it tries.
	if err := conn.Exec(context.Background(), "DROP TABLE "+db+".posts"); err == nil {
		t.Error("the analyst user dropped a table")
	}
}

// TestBadQueriesAndLimits: a query with a syntax error fails with the
// server's message and the query's name; a query running past the time
// limit is stopped; a result past the row limit is cut and says so.
func TestBadQueriesAndLimits(t *testing.T) {
	conn := openCH(t, "default", "")
	db := fmt.Sprintf("insights_limits_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
	})
	seed(t, conn, db)
	parse := func(name, sql string) Query {
		q, err := Parse(name, "-- title: t\n-- description: d\n-- param n int = 1000 [1, 100000000000]: n\n"+sql)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	c, err := New(
		parse("broken", "SELEC count() FROM {db}.posts_dedup WHERE {n} > 0"),
		parse("slow", "SELECT count() FROM numbers({n}) WHERE sipHash64(number) % 7 = 8 AND number NOT IN (SELECT toUInt64(0) FROM {db}.posts_dedup)"),
		parse("many", "SELECT number FROM numbers({n}) WHERE number NOT IN (SELECT toUInt64(1) FROM {db}.posts_dedup)"),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Run(ctx, conn, db, "broken", nil)
	if err == nil || !strings.Contains(err.Error(), "query broken") || !strings.Contains(err.Error(), "Syntax error") {
		t.Errorf("broken: %v, want the query's name and the server's syntax error", err)
	}
	c.Limits = Config{MaxRows: 100, Timeout: 2 * time.Second}
	started := time.Now()
	_, err = c.Run(ctx, conn, db, "slow", map[string]string{"n": "10000000000"})
	if err == nil {
		t.Error("slow: no error past the time limit")
	}
	if d := time.Since(started); d > 15*time.Second {
		t.Errorf("slow: stopped after %v, want about 2s", d)
	}
	t.Logf("slow: %v after %v", err, time.Since(started).Round(time.Millisecond))
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 159 {
		t.Errorf("slow: %v, want the server's 159 (timeout exceeded)", err)
	}
	got, err := c.Run(ctx, conn, db, "many", map[string]string{"n": "5000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 100 || !got.Truncated {
		t.Errorf("many: %d rows, truncated %v; want 100, true", len(got.Rows), got.Truncated)
	} else if got.Rows[0][0] != uint64(0) || got.Rows[99][0] != uint64(100) {
		t.Errorf("many: rows %v … %v, want 0 … 100 (1 is left out)", got.Rows[0], got.Rows[99])
	}
	// The connection is still good after a cut result and a timeout.
	if _, err := c.Run(ctx, conn, db, "many", map[string]string{"n": "3"}); err != nil {
		t.Errorf("after the limits: %v", err)
	}
}

// zeroCell reports whether a result cell is a number equal to zero.
func zeroCell(v any) bool {
	switch x := v.(type) {
	case uint64:
		return x == 0
	case int64:
		return x == 0
	case uint32:
		return x == 0
	case int32:
		return x == 0
	case float64:
		return x == 0
	case float32:
		return x == 0
	}
	return false
}
