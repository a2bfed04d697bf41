//go:build integration

package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// reqConn tags every query it sends with log_queries=1 and a query id
// naming the request it serves (<tag>-<request>-<k>), so that what the
// server itself took for each query of a request is read back from
// system.query_log beside what the client waited. Requests are timed one
// at a time, so the request a query serves is the one begun last.
type reqConn struct {
	driver.Conn
	mu   sync.Mutex
	tag  string
	req  int
	k    int
	seen int // queries sent since the last begin
}

// begin names the requests' queries from now on: tag and request i.
func (c *reqConn) begin(tag string, i int) {
	c.mu.Lock()
	c.tag, c.req, c.k = tag, i, 0
	c.mu.Unlock()
}

func (c *reqConn) ctx(ctx context.Context) context.Context {
	c.mu.Lock()
	c.k++
	id := fmt.Sprintf("%s-%d-%d", c.tag, c.req, c.k)
	c.mu.Unlock()
	return clickhouse.Context(ctx, clickhouse.WithQueryID(id), clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
}

func (c *reqConn) Query(ctx context.Context, q string, args ...any) (driver.Rows, error) {
	return c.Conn.Query(c.ctx(ctx), q, args...)
}

func (c *reqConn) QueryRow(ctx context.Context, q string, args ...any) driver.Row {
	return c.Conn.QueryRow(c.ctx(ctx), q, args...)
}

func (c *reqConn) Exec(ctx context.Context, q string, args ...any) error {
	return c.Conn.Exec(c.ctx(ctx), q, args...)
}

func (c *reqConn) PrepareBatch(ctx context.Context, q string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	return c.Conn.PrepareBatch(c.ctx(ctx), q, opts...)
}

// serverQuery is one query of a request as the server logged it.
type serverQuery struct {
	kind   string // the query's first words
	ms     uint64 // query_duration_ms
	rows   uint64 // read_rows (written_rows for an insert)
	cpuMS  float64
	waitMS float64 // OSCPUWaitMicroseconds: ready to run, no core free
}

// serverTimes reads from system.query_log what the server took for each
// query tagged tag: by request, its queries in the order sent.
func serverTimes(tb testing.TB, conn driver.Conn, tag string) map[int][]serverQuery {
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		tb.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT query_id, substring(replaceRegexpAll(query, '\\s+', ' '), 1, 40), query_duration_ms, read_rows + written_rows,
			ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')],
			ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUWaitMicroseconds')]
		FROM system.query_log WHERE type = 2 AND startsWith(query_id, ?) ORDER BY event_time`, tag+"-")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	type tagged struct {
		k int
		q serverQuery
	}
	byReq := map[int][]tagged{}
	for rows.Next() {
		var id, kind string
		var ms, n, cpu, wait uint64
		if err := rows.Scan(&id, &kind, &ms, &n, &cpu, &wait); err != nil {
			tb.Fatal(err)
		}
		var req, k int
		if _, err := fmt.Sscanf(id[len(tag)+1:], "%d-%d", &req, &k); err != nil {
			tb.Fatalf("query id %q: %v", id, err)
		}
		byReq[req] = append(byReq[req], tagged{k, serverQuery{kind: kind, ms: ms, rows: n, cpuMS: float64(cpu) / 1000, waitMS: float64(wait) / 1000}})
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	out := map[int][]serverQuery{}
	for req, qs := range byReq {
		slices.SortFunc(qs, func(a, b tagged) int { return a.k - b.k })
		for _, q := range qs {
			out[req] = append(out[req], q.q)
		}
	}
	return out
}

// activeParts is the number of active parts of each table of db.
func activeParts(tb testing.TB, conn driver.Conn, db string) string {
	rows, err := conn.Query(context.Background(), "SELECT table, count() FROM system.parts WHERE database = ? AND active GROUP BY table ORDER BY table", db)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		var n uint64
		if err := rows.Scan(&t, &n); err != nil {
			tb.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", t, n))
	}
	return strings.Join(out, " ")
}

// deskProbe is what the latency benchmark on ClickHouse reports beside the
// client's times: the server's (system.query_log) for the same requests,
// the queries per request, and the parts of the tables before and after.
type deskProbe struct {
	conn   *reqConn
	db     string
	run    string // names this process's tags apart from earlier runs'
	round  int    // names each call of a benchmark's function apart
	before string
}

func (p *deskProbe) tag(b *testing.B) string {
	return fmt.Sprintf("%s-%s-%d", p.run, b.Name(), p.round)
}

func (p *deskProbe) begin(b *testing.B, i int) { p.conn.begin(p.tag(b), i) }

func (p *deskProbe) start(b *testing.B) {
	p.round++
	p.before = activeParts(b, p.conn.Conn, p.db)
}

// report adds the server's p50/p99 per request (the sum of its queries'
// durations), the queries per request, and logs the slowest requests
// query by query, client time beside server time.
func (p *deskProbe) report(b *testing.B, took []time.Duration) {
	tag := p.tag(b)
	srv := serverTimes(b, p.conn.Conn, tag)
	sums := make([]float64, len(took)) // the server's wall time, its queries' durations added
	cpu := make([]float64, len(took))  // the server's CPU time, which the machine's load inflates far less
	gaps := make([]float64, len(took)) // the client's time outside the server's: HTTP, audit, driver, waiting for a core
	queries := 0
	for i := range took {
		for _, q := range srv[i] {
			sums[i] += float64(q.ms)
			cpu[i] += q.cpuMS
		}
		gaps[i] = float64(took[i].Microseconds())/1000 - sums[i]
		queries += len(srv[i])
	}
	q := func(xs []float64, p float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return xs[min(len(xs)-1, int(p*float64(len(xs))))]
	}
	b.ReportMetric(q(sums, 0.50), "srv-p50-ms")
	b.ReportMetric(q(sums, 0.99), "srv-p99-ms")
	b.ReportMetric(q(cpu, 0.50), "srv-cpu-p50-ms")
	b.ReportMetric(q(gaps, 0.50), "gap-p50-ms")
	b.ReportMetric(q(gaps, 0.99), "gap-p99-ms")
	b.ReportMetric(float64(queries)/float64(len(took)), "queries/op")
	order := make([]int, len(took))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return int(took[y] - took[x]) })
	var lines []string
	for _, i := range order[:min(3, len(order))] {
		var parts []string
		for _, q := range srv[i] {
			parts = append(parts, fmt.Sprintf("[%s: %d ms, cpu %.1f, wait %.1f, %d rows]", q.kind, q.ms, q.cpuMS, q.waitMS, q.rows))
		}
		lines = append(lines, fmt.Sprintf("request %d: client %.1f ms, server %.0f ms: %s", i, float64(took[i].Microseconds())/1000, sums[i], strings.Join(parts, " ")))
	}
	b.Logf("parts before %s; after %s; pool %+v\n%s", p.before, activeParts(b, p.conn.Conn, p.db), p.conn.Stats(), strings.Join(lines, "\n"))
}
