package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkDeskAct: a claim and a note on one alert of a queue of 100,000
// open alerts in the in-memory store, against Ack (the baseline action of
// the same store) in the same run.
func BenchmarkDeskAct(b *testing.B) {
	const n = 100_000
	m := NewMemAlertsBytes(n, 1<<40)
	for i := range n {
		m.Add(Alert{ID: fmt.Sprintf("a%d", i), Queue: "care", Priority: "P2", CreatedAt: deskT0, DueAt: deskT0.Add(time.Hour)})
	}
	ctx := context.Background()
	b.Run("ack", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := m.Ack(ctx, "care", fmt.Sprintf("a%d", i%n), "rita", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claim+note", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			id := fmt.Sprintf("a%d", i%n)
			if _, _, err := m.Act(ctx, "care", id, DeskEvent{ID: fmt.Sprintf("c%d", i), Action: ActClaim, Actor: "rita", At: deskT0}, false); err != nil {
				b.Fatal(err)
			}
			if _, _, err := m.Act(ctx, "care", id, DeskEvent{ID: fmt.Sprintf("n%d", i), Action: ActNote, Actor: "rita", At: deskT0, Text: "on it"}, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.List(ctx, "care", 0, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// deskLatency times requests through the API's whole HTTP path (auth,
// JSON, the store, the audit record), one at a time, and reports their
// p50, p99 and worst in milliseconds beside the mean. req gives the i-th
// request. probe, when not nil, is told of each request and reports
// beside the client's times (the server's, on ClickHouse).
func deskLatency(b *testing.B, e *env, caller string, req func(i int) (method, path, body string), probe latencyProbe) {
	b.Helper()
	var took []time.Duration
	b.ReportAllocs()
	if probe != nil {
		probe.start(b)
	}
	for i := 0; b.Loop(); i++ {
		method, path, body := req(i)
		if probe != nil {
			probe.begin(b, i)
		}
		t := time.Now()
		r := e.do(caller, method, path, body, "Idempotency-Key", fmt.Sprintf("k%d-%d", i, time.Now().UnixNano()))
		took = append(took, time.Since(t))
		if r.code != 200 {
			b.Fatalf("%s %s: %d %s", method, path, r.code, r.body)
		}
	}
	unsorted := slices.Clone(took)
	slices.Sort(took)
	q := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	if probe != nil {
		probe.report(b, unsorted)
	}
}

// latencyProbe watches the requests of a latency benchmark: start before
// the first, begin before each (its index), report after the last, with
// each request's time in the order they were sent.
type latencyProbe interface {
	start(b *testing.B)
	begin(b *testing.B, i int)
	report(b *testing.B, took []time.Duration)
}

// deskLatencyRuns are the requests of the latency benchmarks, on a queue
// "care" of n open alerts named <prefix><i>: the acknowledgement (the
// existing action, the baseline), a claim, a note, a resolve, the read of
// one alert and a page of 50.
func deskLatencyRuns(b *testing.B, e *env, prefix string, n int, probe latencyProbe) {
	id := func(i int) string { return fmt.Sprintf("%s%d", prefix, (i*7919+1)%n) }
	alert := func(seg string) func(int) (string, string, string) {
		return func(i int) (string, string, string) {
			return "POST", "/v1/queues/care/alerts/" + id(i+seg2off[seg]) + "/" + strings.TrimSuffix(seg, "-market"), seg2body[seg]
		}
	}
	b.Run("ack", func(b *testing.B) { deskLatency(b, e, "responder-emea", alert("ack"), probe) })
	b.Run("claim", func(b *testing.B) { deskLatency(b, e, "responder-emea", alert("claim"), probe) })
	b.Run("note", func(b *testing.B) { deskLatency(b, e, "responder-emea", alert("notes"), probe) })
	b.Run("resolve", func(b *testing.B) { deskLatency(b, e, "responder-emea", alert("resolve"), probe) })
	// A responder scoped to a market (the alerts are DACH's; the
	// in-memory ones of no market, where these requests are 404 and so
	// are left out).
	if prefix == "b" {
		b.Run("claim-market", func(b *testing.B) { deskLatency(b, e, "responder-dach", alert("claim-market"), probe) })
		b.Run("note-market", func(b *testing.B) { deskLatency(b, e, "responder-dach", alert("notes-market"), probe) })
	}
	b.Run("get", func(b *testing.B) {
		deskLatency(b, e, "responder-emea", func(i int) (string, string, string) { return "GET", "/v1/queues/care/alerts/" + id(i), "" }, probe)
	})
	b.Run("list50", func(b *testing.B) {
		deskLatency(b, e, "responder-emea", func(int) (string, string, string) { return "GET", "/v1/queues/care/alerts?limit=50", "" }, probe)
	})
}

// The alerts each action takes, apart so that a resolve does not meet a
// claimed alert of another run. The market-scoped responder's (another
// person) take alerts of their own: offsets 50,000 and 60,000 apart (mod
// the queue's 100,000) from the others', so that no claim of theirs meets
// rita's.
var (
	seg2off  = map[string]int{"ack": 0, "claim": 1_000_003, "notes": 2_000_003, "resolve": 3_000_017, "claim-market": 50_000, "notes-market": 60_000}
	seg2body = map[string]string{"ack": "", "claim": "", "notes": `{"text":"asked for the order number"}`, "resolve": `{"outcome":"replied"}`,
		"claim-market": "", "notes-market": `{"text":"asked for the order number"}`}
)

// deskLatencyEnv is an API over store with queue "care" (EMEA), no rate
// limit, and a responder of market DACH ("responder-dach").
func deskLatencyEnv(b *testing.B, store AlertStore) *env {
	e := newEnv(b, func(c *Config, d *Deps) {
		c.Rate, c.Burst = 1e9, 1_000_000_000
		d.Alerts = store
		d.Queues = map[string]QueueInfo{"care": {Team: "care-emea", Region: "EMEA"}}
	})
	_, secret, err := e.tokens.Create(NewToken{Name: "maria", Role: Responder, Scope: Scope{Markets: []string{"DACH"}}})
	if err != nil {
		b.Fatal(err)
	}
	e.tok["responder-dach"] = secret
	return e
}

// BenchmarkDeskLatencyMemory: desk actions through the HTTP API on an
// in-memory store of 100,000 open alerts: p50/p99 per action, against an
// acknowledgement through the same path.
func BenchmarkDeskLatencyMemory(b *testing.B) {
	const n = 100_000
	m := NewMemAlertsBytes(n, 1<<40)
	for i := range n {
		m.Add(Alert{ID: fmt.Sprintf("a%d", i), Queue: "care", Priority: "P2", CreatedAt: deskT0, DueAt: deskT0.Add(time.Hour)})
	}
	deskLatencyRuns(b, deskLatencyEnv(b, m), "a", n, nil)
}
