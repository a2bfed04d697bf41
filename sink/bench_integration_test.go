//go:build integration

package sink

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// benchItems returns n realistic enriched items: posts of about 140
// characters with their author, tags and engagement, one or two matches
// with spans, the second on every secondEvery-th item.
func benchItems(n, seed, secondEvery int) []*post.Item {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	words := []string{"acme", "outage", "again", "support", "is", "the", "app", "down", "for", "me", "since", "this", "morning", "refund", "please", "great", "new", "phone", "love", "it"}
	regions := []string{"EMEA", "APAC", "NA", "LATAM", "unknown"}
	labels := []string{"negative", "neutral", "positive"}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	items := make([]*post.Item, n)
	for i := range items {
		text := ""
		for len(text) < 140 {
			text += words[r.IntN(len(words))] + " "
		}
		created := at.Add(time.Duration(r.IntN(3600)) * time.Second)
		it := &post.Item{
			Post: &post.Post{Platform: "x", ID: fmt.Sprintf("%d-%d", seed, i), Author: post.Author{ID: fmt.Sprint(r.IntN(1e6)), Handle: fmt.Sprintf("user%d", r.IntN(1e6)), Followers: int64(r.IntN(1e5)), Location: "Athens"},
				Text: text, CreatedAt: created, Lang: "en", Hashtags: []string{"acme"}, Mentions: []string{"acme_support"}, Country: "GR",
				Engagement: &post.Engagement{Likes: int64(r.IntN(100))}, Source: "synthetic", IngestedAt: created.Add(time.Second)},
			Matches: []post.Match{{Watchlist: "acme", Version: 3, Brand: "Acme", Team: "care", Keywords: []string{"acme", "outage"}, Tags: []string{"brand"},
				Spans: []post.Span{{Start: 0, End: 4, Term: "acme"}}}},
			Enrichment: &post.Enrichment{Lang: "en", LangConfidence: 0.9, Sentiment: -0.4, SentimentLabel: labels[r.IntN(3)], SentimentConfidence: 0.7,
				Country: "GR", Region: regions[r.IntN(len(regions))], RegionSource: "place", RegionConfidence: 0.9, Intents: []string{"complaint"}, Influence: 12},
		}
		if i%secondEvery == 0 {
			it.Matches = append(it.Matches, post.Match{Watchlist: "acme-exec", Version: 1, Keywords: []string{"outage"}})
		}
		items[i] = it
	}
	return items
}

// BenchmarkSinkStage is the sink stage writing batches of enriched items
// (a posts row and one or two matches rows each) into the local server,
// appending column by column (as it runs) and row by row (for comparison),
// with one batch in flight or two (runner.workers: 2), over each wire
// compression, in one block or blocks of so many items:
//
//	go test -tags integration -run '^$' -bench BenchmarkSink -benchtime 8x ./sink/
//
// rows/s counts posts and matches rows; send-share is the part of the time
// spent in Send, i.e. waiting for the server; client-µs/row and
// server-µs/row are the CPU time of this process and of the local server
// (all its threads, merges included) per row.
func BenchmarkSinkStage(b *testing.B) {
	for _, tc := range []struct {
		append      string
		size        int
		workers     int
		compression string
		block       int // items per block within an insert; 0 for one
	}{
		{"rows", 10_000, 1, "lz4", 0}, {"columns", 10_000, 1, "lz4", 0}, {"columns", 10_000, 1, "lz4", 2048}, {"columns", 10_000, 1, "lz4", 8192},
		{"columns-sequential", 50_000, 1, "lz4", 2048},
		{"columns", 50_000, 1, "lz4", 0}, {"columns", 50_000, 1, "lz4", 2048}, {"columns", 50_000, 1, "lz4", 8192},
		{"columns", 50_000, 1, "none", 2048}, {"columns", 50_000, 1, "zstd", 2048},
		{"columns", 100_000, 1, "lz4", 2048}, {"columns", 100_000, 1, "none", 2048},
		{"columns", 50_000, 2, "lz4", 2048}, {"columns", 50_000, 2, "none", 2048}, {"columns", 100_000, 2, "none", 2048},
	} {
		b.Run(fmt.Sprintf("append=%s/batch=%d/workers=%d/compression=%s/block=%d", tc.append, tc.size, tc.workers, tc.compression, tc.block), func(b *testing.B) {
			s, reg := openBench(b, tc.compression)
			s.blockRows = tc.block
			s.rowWise = tc.append == "rows"
			s.sequential = tc.append != "columns" // posts, then matches
			// Distinct batches, generated before the clock starts.
			batches := make([][]*post.Item, 4)
			rowsPer, bytesPer := 0, 0
			for i := range batches {
				batches[i] = benchItems(tc.size, i, 3)
			}
			for _, it := range batches[0] {
				rowsPer += 1 + len(it.Matches)
				bytesPer += len(it.Post.Text) + 200
			}
			stage := s.Stage()
			b.SetBytes(int64(bytesPer))
			b.ReportAllocs()
			m := startMeter(b, s)
			var next atomic.Int64
			var wg sync.WaitGroup
			for range tc.workers {
				wg.Go(func() {
					for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
						out, err := stage(m.ctx, post.Batch{Items: batches[i%int64(len(batches))]})
						if err != nil || len(out.Rejected) > 0 {
							b.Error(err, out.Rejected)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := m.stop(b, rowsPer*b.N)
			b.ReportMetric(float64(rowsPer*b.N)/elapsed, "rows/s")
			b.ReportMetric(sendSeconds(reg)/elapsed/float64(tc.workers), "send-share")
		})
	}
}

// BenchmarkSinkMix is the sink as the pipeline drives it: per post heard
// one volume_in row (the volume stage), and for the 12.6 % of posts that
// match (earshot run's example configuration) one posts row and 1.2
// matches rows on average (the sink stage), both stages running at once as
// the sink process consumes both topics. Each round is 100,000 posts heard.
// rows/s counts every row; wide-rows/s only the posts and matches rows.
func BenchmarkSinkMix(b *testing.B) {
	const heard, matchedShare = 100_000, 0.126
	for _, tc := range []struct {
		compression string
		block       int
	}{{"lz4", 0}, {"lz4", 2048}, {"none", 2048}} {
		b.Run(fmt.Sprintf("compression=%s/block=%d", tc.compression, tc.block), func(b *testing.B) {
			s, _ := openBench(b, tc.compression)
			s.blockRows = tc.block
			type round struct{ matched, volume []*post.Item }
			rounds := make([]round, 4)
			wide := 0
			for i := range rounds {
				all := benchItems(heard, 20+i, 5) // a second match on every fifth: 1.2 a post
				matched := all[:int(heard*matchedShare)]
				rounds[i] = round{matched, post.CountVolume(all)}
				if i == 0 {
					for _, it := range matched {
						wide += 1 + len(it.Matches)
					}
				}
			}
			stage, volume := s.Stage(), s.VolumeStage()
			m := startMeter(b, s)
			for i := 0; i < b.N; i++ {
				r := rounds[i%len(rounds)]
				var wg sync.WaitGroup
				wg.Go(func() {
					if out, err := stage(m.ctx, post.Batch{Items: r.matched}); err != nil || len(out.Rejected) > 0 {
						b.Error(err, out.Rejected)
					}
				})
				if out, err := volume(m.ctx, post.Batch{Items: r.volume}); err != nil || len(out.Rejected) > 0 {
					b.Error(err, out.Rejected)
				}
				wg.Wait()
			}
			total := (heard + wide) * b.N
			elapsed := m.stop(b, total)
			b.ReportMetric(float64(total)/elapsed, "rows/s")
			b.ReportMetric(float64(wide*b.N)/elapsed, "wide-rows/s")
		})
	}
}

// BenchmarkSinkVolume is the volume stage: one narrow volume_in row per
// post heard.
func BenchmarkSinkVolume(b *testing.B) {
	s, _ := openBench(b, "lz4")
	const size = 100_000
	batches := make([][]*post.Item, 4)
	for i := range batches {
		batches[i] = post.CountVolume(benchItems(size, 10+i, 3))
	}
	stage := s.VolumeStage()
	b.SetBytes(size * 8)
	b.ReportAllocs()
	m := startMeter(b, s)
	for i := 0; i < b.N; i++ {
		if out, err := stage(m.ctx, post.Batch{Items: batches[i%len(batches)]}); err != nil || len(out.Rejected) > 0 {
			b.Fatal(err, out.Rejected)
		}
	}
	elapsed := m.stop(b, size*b.N)
	b.ReportMetric(float64(size*b.N)/elapsed, "rows/s")
}

// openBench returns a sink over its own connection with the given wire
// compression, writing into a new database that is dropped at the end.
func openBench(b *testing.B, compression string) (*Sink, *prometheus.Registry) {
	b.Helper()
	c := DefaultConfig()
	c.Compression = compression
	c.Database = fmt.Sprintf("sinkc_bench_%d", time.Now().UnixNano()%1e9)
	conn, err := Open(c)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.Database)
		conn.Close()
	})
	reg := prometheus.NewRegistry()
	s := NewWith(conn, c, Options{Registerer: reg})
	if err := s.migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s, reg
}

// meter measures wall-clock time and the CPU time of this process and of
// the local ClickHouse server over a benchmark's timed part: the server
// process's (all its threads, merges included, and whatever else it ran
// meanwhile) and its inserts' own threads (from system.query_log).
type meter struct {
	s              *Sink
	ctx            context.Context // the stages' context: it logs their queries
	start          time.Time
	client, server time.Duration
	serverPID      int
}

func startMeter(b *testing.B, s *Sink) *meter {
	m := &meter{s: s, serverPID: localServerPID()}
	m.ctx = clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
	m.client, m.server = selfCPU(), processCPU(m.serverPID)
	b.ResetTimer()
	m.start = time.Now()
	return m
}

// stop reports the CPU time per row and returns the seconds elapsed.
func (m *meter) stop(b *testing.B, rows int) float64 {
	elapsed := time.Since(m.start).Seconds()
	b.StopTimer()
	client, server := selfCPU()-m.client, processCPU(m.serverPID)-m.server
	b.ReportMetric(float64(client.Microseconds())/float64(rows), "client-µs/row")
	if m.serverPID > 0 {
		b.ReportMetric(float64(server.Microseconds())/float64(rows), "server-µs/row")
	}
	ctx := context.Background()
	var queryCPU uint64
	err := m.s.conn.Exec(ctx, "SYSTEM FLUSH LOGS")
	if err == nil {
		err = m.s.conn.QueryRow(ctx, `SELECT sum(arraySum(arrayFilter((v, n) -> n IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds'), ProfileEvents.Values, ProfileEvents.Names)))
			FROM system.query_log WHERE type = 2 AND query LIKE 'INSERT INTO `+m.s.db+`.%' AND event_time >= toDateTime(`+strconv.FormatInt(m.start.Unix()-1, 10)+`)`).Scan(&queryCPU)
	}
	if err != nil {
		b.Logf("reading the inserts' CPU time from system.query_log: %v", err)
	} else {
		b.ReportMetric(float64(queryCPU)/float64(rows), "insert-µs/row")
	}
	return elapsed
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// localServerPID is the pid of the server make up starts, or 0.
func localServerPID() int {
	data, err := os.ReadFile("../.local/clickhouse/clickhouse.pid")
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// processCPU is the user and system time of a process, from /proc (Linux);
// 0 where it cannot be read.
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command, which is in parentheses and may hold spaces.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

func sendSeconds(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == "earshot_sink_flush_duration_seconds" {
			for _, m := range mf.GetMetric() {
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return sum
}

// BenchmarkDeskEventsSince is the live feed's read (api.DeskFeed, every 2 s
// per API replica while a feed is open) on an alert_events of a month of
// desk events: 1,000,000 events over 30 days on 20 queues, the feed of 2
// queues reading the last 30 s. "queue IN (subquery)" (as it runs: the
// primary key) against "has(array, queue)" (18.16 uses no index for it).
// It reports the rows ClickHouse read per call; "select-1" is the round
// trip of a query that reads nothing, the baseline.
func BenchmarkDeskEventsSince(b *testing.B) {
	conn, db := openTest(b)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	const n = 1_000_000
	// INSERT ... SELECT: 18.16 hangs on an INSERT ... VALUES through Exec.
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.alert_events (alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at)
		SELECT concat('a', toString(number %% 50000)), concat('q', toString(number %% 20)), concat('desk.note:e', toString(number)), 'rita',
			toDateTime(%d - intDiv(number * 2592000, %d)), 'n', concat('e', toString(number)), number, '', '', toDateTime(0), '', now()
		FROM system.numbers LIMIT %d`, db, now.Unix(), n, n)); err != nil {
		b.Fatal(err)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+db+".alert_events FINAL"); err != nil {
		b.Fatal(err)
	}
	tab := &AlertTables{Conn: conn, DB: db}
	queues := []string{"q3", "q7"}
	since := now.Add(-30 * time.Second)
	for _, c := range []struct {
		name string
		run  func(ctx context.Context) (int, error)
	}{
		{"in-subquery", func(ctx context.Context) (int, error) {
			refs, err := tab.DeskEventsSince(ctx, queues, since, 2000)
			return len(refs), err
		}},
		{"select-1", func(ctx context.Context) (int, error) { // the round trip alone
			var one uint8
			return int(one) + 1, conn.QueryRow(ctx, "SELECT 1").Scan(&one)
		}},
		{"has", func(ctx context.Context) (int, error) {
			rows, err := conn.Query(ctx, "SELECT queue, alert_id, event_id, at FROM "+db+".alert_events WHERE has(?, queue) AND at >= ? AND event LIKE 'desk.%' ORDER BY at, queue, alert_id, event_id LIMIT 2000", queues, since)
			if err != nil {
				return 0, err
			}
			k := 0
			for rows.Next() {
				k++
			}
			rows.Close()
			return k, rows.Err()
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var read uint64
			pctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read += p.Rows }))
			for b.Loop() {
				got, err := c.run(pctx)
				if err != nil || got == 0 {
					b.Fatalf("%d events, %v", got, err)
				}
			}
			b.ReportMetric(float64(read)/float64(b.N), "rows-read/op")
		})
	}
}

// BenchmarkDeskCounts is the breach metrics' read (every 30 s per API
// replica on ClickHouse) over 100,000 alerts created in the last 7 days on
// 10 queues, a third claimed, a third resolved: without resolve targets
// (three queries: states, first-response breaches, near-breach) and with
// one per queue and priority (a fourth: the resolve clocks).
func BenchmarkDeskCounts(b *testing.B) {
	conn, db := openTest(b)
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, db); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	const n = 100_000
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO %s.alerts (alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at)
			SELECT concat('a', toString(number)), concat('q', toString(number %% 10)), 't', concat('P', toString(1 + number %% 4)), 'r', concat('p:', toString(number)), ['acme'], 'EMEA', '', 1, 0, 0, '', 0,
				toDateTime(%d - intDiv(number * 600000, %d)), toDateTime(%d - intDiv(number * 600000, %d) + 3600), '{}', now()
			FROM system.numbers LIMIT %d`, db, now.Unix(), n, now.Unix(), n, n),
		fmt.Sprintf(`INSERT INTO %s.alert_events (alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at)
			SELECT concat('a', toString(number)), concat('q', toString(number %% 10)), if(number %% 3 = 0, 'desk.claim:c', 'desk.resolve:r'), 'rita',
				toDateTime(%d - intDiv(number * 600000, %d) + 1800 * (number %% 3)), '', if(number %% 3 = 0, 'c', 'r'), 1, 'rita', if(number %% 3 = 0, '', 'replied'), toDateTime(0), '', now()
			FROM system.numbers WHERE number %% 3 != 2 LIMIT %d`, db, now.Unix(), n, n*2/3),
	} {
		if err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	tab := &AlertTables{Conn: conn, DB: db}
	targets := map[string]map[string]time.Duration{}
	for i := range 10 {
		targets[fmt.Sprint("q", i)] = map[string]time.Duration{"P1": time.Hour, "P2": 4 * time.Hour, "P3": 24 * time.Hour, "P4": 72 * time.Hour}
	}
	for _, c := range []struct {
		name    string
		targets map[string]map[string]time.Duration
	}{{"no-resolve-targets", nil}, {"resolve-targets", targets}} {
		b.Run(c.name, func(b *testing.B) {
			var read uint64
			pctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read += p.Rows }))
			var got DeskCounts
			for b.Loop() {
				var err error
				got, err = tab.DeskCounts(pctx, DeskQuery{Since: now.Add(-7 * 24 * time.Hour), Now: now, MaxBreached: 100_000, ResolveTargets: c.targets})
				if err != nil || len(got.Open) != 10 {
					b.Fatalf("%+v %v", got.Open, err)
				}
			}
			b.ReportMetric(float64(read)/float64(b.N), "rows-read/op")
			b.ReportMetric(float64(len(got.Breached)), "breached")
			b.ReportMetric(float64(len(got.Resolving)), "resolving")
		})
	}
}
