//go:build integration

package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/watchlist"
)

// TestScopesOnClickHouse runs the scope and injection checks against the
// real ClickHouse (127.0.0.1:9000) the distributed API reads: alerts a post
// of two teams' watchlists raised, listed by a scoped responder; insight
// parameters and path ids carrying SQL; the audit log as a scoped admin.
func TestScopesOnClickHouse(t *testing.T) {
	ctx := context.Background()
	conn, db := scratchDB(t, "i_sec")

	path := filepath.Join(t.TempDir(), "routing.yaml")
	os.WriteFile(path, []byte("queues: [care]\nrules:\n  - name: care\n    when: {sentiment: [negative]}\n    queue: care\n    priority: P2\n"), 0o644)
	policy, err := route.LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	in := []*post.Item{{
		Post: &post.Post{Platform: "x", ID: "s1", Text: "acme and apac are down", CreatedAt: t0},
		Matches: []post.Match{{Watchlist: "acme-gr", Version: 1, Team: "greece", Keywords: []string{"acme"}},
			{Watchlist: "apac-list", Version: 1, Team: "apac", Keywords: []string{"secret-apac-term"}}},
		Enrichment: &post.Enrichment{SentimentLabel: "negative", Region: "EMEA"},
	}}
	alerts, err := policy.Stage(func() time.Time { return t0 })(ctx, post.Batch{Items: in})
	if err != nil || len(alerts.Items) != 1 {
		t.Fatalf("route: %v, %d alerts", err, len(alerts.Items))
	}
	if out, err := sink.New(conn, db).AlertStage()(ctx, alerts); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing alerts: %v %+v", err, out.Rejected)
	}

	cat, err := insights.Load()
	if err != nil {
		t.Fatal(err)
	}
	cat.Limits = insights.DefaultConfig()
	ts, tok := scopedServer(t, []watchlist.Spec{
		{ID: "acme-gr", Team: "greece", Regions: []string{"EMEA"}, Keywords: []string{"acme"}},
		{ID: "apac-list", Team: "apac", Regions: []string{"APAC"}, Keywords: []string{"secret-apac-term"}},
	}, Deps{Alerts: &CHAlerts{Table: &sink.AlertTables{Conn: conn, DB: db}},
		Insights: insights.Bound{Catalog: cat, Conn: conn, DB: db},
		Queues:   map[string]QueueInfo{"care": {Team: "care-emea", Region: "EMEA"}}}, map[string]NewToken{
		"rita":  {Name: "rita", Role: Responder, Scope: Scope{Regions: []string{"EMEA"}}},
		"anna":  {Name: "anna", Role: Analyst, Scope: Scope{Teams: []string{"greece"}}},
		"ann":   {Name: "ann", Role: Analyst},
		"greek": {Name: "greek-admin", Role: Admin, Scope: Scope{Teams: []string{"greece"}}},
	})
	call := func(who, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok[who])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tables := func() uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ?", db).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tables()

	code, body := call("rita", "GET", "/v1/queues/care/alerts", "")
	var page Page[Alert]
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != 200 || len(page.Items) != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	if strings.Contains(body, "apac-list") || strings.Contains(body, "secret-apac-term") || !strings.Contains(body, "acme-gr") {
		t.Errorf("an EMEA responder's listing names APAC's watchlist: %s", body)
	}
	if code, body := call("rita", "POST", "/v1/queues/care/alerts/"+page.Items[0].ID+"/ack", ""); code != 200 || strings.Contains(body, "secret-apac-term") {
		t.Errorf("ack: %d %s", code, body)
	}
	for _, id := range []string{"x'%20OR%20'1'='1", "x%27%3B%20DROP%20TABLE%20" + db + ".alerts", url.PathEscape("x' OR 1=1 --")} {
		if code, body := call("rita", "POST", "/v1/queues/care/alerts/"+id+"/ack", ""); code != 400 {
			t.Errorf("ack of %s: %d %s", id, code, body)
		}
	}
	for _, q := range []string{"care'%20OR%20'1'='1", "care%27--"} {
		if code, _ := call("rita", "GET", "/v1/queues/"+q+"/alerts", ""); code != 400 {
			t.Errorf("queue %s: %d", q, code)
		}
	}

	// Insight parameters carrying SQL run as plain values: no rows, no error, no table dropped.
	for _, v := range []string{`acme-gr' OR 1=1 --`, `'; DROP TABLE ` + db + `.posts; --`, `acme-gr\' OR 1=1 --`, "acme-gr'\n OR 1=1"} {
		b, _ := json.Marshal(map[string]any{"params": map[string]string{"watchlist": v}})
		code, body := call("ann", "POST", "/v1/insights/top_hashtags", string(b))
		if code != 200 || !strings.Contains(body, `"rows":[]`) {
			t.Errorf("insight with watchlist %q: %d %s", v, code, body)
		}
		if code, body := call("anna", "POST", "/v1/insights/top_hashtags", string(b)); code != 404 {
			t.Errorf("scoped insight with watchlist %q: %d %s", v, code, body)
		}
	}
	if code, body := call("anna", "POST", "/v1/insights/top_hashtags", `{"params":{"watchlist":"apac-list"}}`); code != 404 {
		t.Errorf("a greece analyst's insight of APAC's watchlist: %d %s", code, body)
	}
	if code, body := call("anna", "POST", "/v1/insights/top_hashtags", `{"params":{"watchlist":"acme-gr"}}`); code != 200 {
		t.Errorf("a greece analyst's insight of their watchlist: %d %s", code, body)
	}
	if n := tables(); n != before {
		t.Errorf("%d tables after the injections, %d before", n, before)
	}
	if code, body := call("greek", "GET", "/v1/audit", ""); code != 403 {
		t.Errorf("audit as a scoped admin: %d %s", code, body)
	}
}
