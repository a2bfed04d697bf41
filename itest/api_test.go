//go:build integration

package itest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/watchlist"
)

// TestAPIOnClickHouse serves the API over a freshly migrated database on
// the real server: a responder lists a queue's alerts (stored by the sink)
// and acknowledges one, which lands in alert_events and alerts_latest; a
// gatherer's watchlist change is in the audit log, shipped to audit_log —
// including records written while ClickHouse was unreachable, once it is
// back, and none twice.
func TestAPIOnClickHouse(t *testing.T) {
	_, db := names(t)
	ctx := context.Background()
	conn := migratedDB(t, db)

	// Two alerts through the router and the sink, as the pipeline stores them.
	path := filepath.Join(t.TempDir(), "routing.yaml")
	os.WriteFile(path, []byte("queues: [care, pr]\nrules:\n  - name: care\n    when: {sentiment: [negative]}\n    queue: care\n    priority: P2\n"), 0o644)
	policy, err := route.LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var in []*post.Item
	for _, id := range []string{"a1", "a2"} {
		in = append(in, &post.Item{
			Post:       &post.Post{Platform: "x", ID: id, Text: "acme is down", CreatedAt: t0},
			Matches:    []post.Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}},
			Enrichment: &post.Enrichment{SentimentLabel: "negative", Region: "EMEA"},
		})
	}
	alerts, err := policy.Stage(func() time.Time { return t0 })(ctx, post.Batch{Items: in})
	if err != nil || len(alerts.Items) != 2 {
		t.Fatalf("route: %v, %d alerts", err, len(alerts.Items))
	}
	if out, err := sink.New(conn, db).AlertStage()(ctx, alerts); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing alerts: %v %+v", err, out.Rejected)
	}

	dir := t.TempDir()
	cfg := api.DefaultConfig()
	cfg.Addr, cfg.StateDir = "127.0.0.1:0", dir
	tokens, _ := api.OpenTokens(cfg.Tokens(), nil)
	audit, err := api.OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	store, err := watchlist.Open(filepath.Join(dir, "watchlists"), watchlist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := api.New(cfg, api.Deps{Tokens: tokens, Audit: audit, Watchlists: store, Alerts: &api.CHAlerts{Table: &sink.AlertTables{Conn: conn, DB: db}},
		Queues:     map[string]api.QueueInfo{"care": {Team: "care-emea", Region: "EMEA"}, "pr": {Team: "pr", Region: "EMEA"}},
		Ready:      map[string]func(context.Context) error{"clickhouse": func(ctx context.Context) error { return conn.Ping(ctx) }},
		Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	_, rita, _ := tokens.Create(api.NewToken{Name: "rita", Role: api.Responder, Scope: api.Scope{Regions: []string{"EMEA"}}})
	_, gina, _ := tokens.Create(api.NewToken{Name: "gina", Role: api.Gatherer, Scope: api.Scope{Teams: []string{"greece"}}})
	call := func(tok, method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-Id", "it-"+strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}

	if code, body := call("", "GET", "/readyz", ""); code != 200 {
		t.Fatalf("readyz: %d %s", code, body)
	}
	code, body := call(rita, "GET", "/v1/queues/care/alerts", "")
	var page api.Page[api.Alert]
	if err := json.Unmarshal(body, &page); err != nil || code != 200 || len(page.Items) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	if !page.Items[0].AcknowledgedAt.IsZero() || page.Items[0].PostKey == "" || len(page.Items[0].Item) == 0 {
		t.Fatalf("listed alert: %+v", page.Items[0])
	}
	id := page.Items[0].ID
	if code, body := call(rita, "POST", "/v1/queues/care/alerts/"+id+"/ack", `{"note":"on it"}`); code != 200 || !strings.Contains(string(body), `"acknowledged_by":"rita"`) {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, _ := call(rita, "POST", "/v1/queues/care/alerts/nope/ack", ""); code != 404 {
		t.Errorf("ack of an unknown alert: %d", code)
	}
	var actor, note string
	if err := conn.QueryRow(ctx, "SELECT actor, note FROM "+db+".alert_events FINAL WHERE alert_id = ? AND event = 'acknowledged'", id).Scan(&actor, &note); err != nil || actor != "rita" || note != "on it" {
		t.Fatalf("alert_events: %q %q %v", actor, note, err)
	}
	if err := conn.QueryRow(ctx, "SELECT acknowledged_by FROM "+db+".alerts_latest WHERE alert_id = ?", id).Scan(&actor); err != nil || actor != "rita" {
		t.Fatalf("alerts_latest: %q %v", actor, err)
	}
	code, body = call(rita, "GET", "/v1/queues/care/alerts", "")
	json.Unmarshal(body, &page)
	acked := 0
	for _, a := range page.Items {
		if a.AcknowledgedBy == "rita" && !a.AcknowledgedAt.IsZero() {
			acked++
		}
	}
	if acked != 1 {
		t.Fatalf("after the ack: %s", body)
	}

	// Audit: one change shipped, then two while ClickHouse is unreachable.
	if code, body := call(gina, "POST", "/v1/watchlists", `{"id":"acme-gr","team":"greece","keywords":["acme"]}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	shipper := &api.Shipper{Table: &sink.AuditTable{Conn: conn, DB: db}, Path: audit.Path(), Interval: time.Second, Log: apiTestLogger()}
	if n, err := shipper.ShipOnce(ctx); err != nil || n != 1 {
		t.Fatalf("shipping: %d %v", n, err)
	}
	var before, after, role, reqID string
	if err := conn.QueryRow(ctx, "SELECT before, after, role, request_id FROM "+db+".audit_log FINAL WHERE object_type = 'watchlist' AND object_id = 'acme-gr' AND action = 'watchlist.create'").Scan(&before, &after, &role, &reqID); err != nil {
		t.Fatal(err)
	}
	if before != "" || !strings.Contains(after, `"keywords":["acme"]`) || role != "gatherer" || reqID != "it-v1-watchlists" {
		t.Fatalf("audit_log row: before %q after %q role %q request %q", before, after, role, reqID)
	}

	px := newProxy(t, clickhouseAddr) // down: ClickHouse unreachable
	c := sink.DefaultConfig()
	c.Addr, c.DialTimeout = []string{px.addr}, time.Second
	downConn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer downConn.Close()
	call(gina, "PUT", "/v1/watchlists/acme-gr", `{"if_version":1,"spec":{"id":"acme-gr","team":"greece","keywords":["acme","acme hellas"]}}`)
	call(gina, "POST", "/v1/watchlists/acme-gr/submit", "")
	down := &api.Shipper{Table: &sink.AuditTable{Conn: downConn, DB: db}, Path: audit.Path(), Interval: time.Second, Log: apiTestLogger()}
	offBefore, _ := down.Offset()
	if _, err := down.ShipOnce(ctx); err == nil {
		t.Fatal("shipping to an unreachable ClickHouse succeeded")
	}
	if off, _ := down.Offset(); off != offBefore {
		t.Fatalf("the checkpoint moved from %d to %d although nothing was shipped", offBefore, off)
	}
	px.up(t)
	if n, err := down.ShipOnce(ctx); err != nil || n != 2 {
		t.Fatalf("once ClickHouse is back: %d %v", n, err)
	}
	if n, err := shipper.ShipOnce(ctx); err != nil || n != 0 {
		t.Fatalf("shipping again: %d %v", n, err)
	}
	if n := count(t, conn, "SELECT count() FROM "+db+".audit_log FINAL WHERE object_id = 'acme-gr'"); n != 3 {
		t.Fatalf("%d audit rows for 3 changes", n)
	}
	if n := count(t, conn, "SELECT count() FROM "+db+".audit_log"); n != 3 {
		t.Fatalf("%d audit rows in all (a record shipped twice?)", n)
	}
}

func apiTestLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
