package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// marketEnv is the test API with two market teams' responders (DACH and
// the Nordics) on the regional care-emea queue, each market's alerts on
// it, and a DACH team's own queue.
func marketEnv(t *testing.T) *env {
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Queues["care-dach"] = QueueInfo{Team: "dach-care", Region: "EMEA", Market: "DACH"}
	})
	for name, nt := range map[string]NewToken{
		"responder-dach":    {Name: "dora", Role: Responder, Scope: Scope{Markets: []string{"DACH"}}},
		"responder-nordics": {Name: "nils", Role: Responder, Scope: Scope{Markets: []string{"Nordics"}}},
		"analyst-dach":      {Name: "dana", Role: Analyst, Scope: Scope{Markets: []string{"DACH"}}},
	} {
		_, secret, err := e.tokens.Create(nt)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name] = secret
	}
	for _, a := range []Alert{
		{ID: "de1", Queue: "care-emea", Team: "emea-care", Priority: "P2", Market: "DACH", CreatedAt: time.Unix(3000, 0)},
		{ID: "at1", Queue: "care-emea", Team: "emea-care", Priority: "P2", Market: "DACH", CreatedAt: time.Unix(3100, 0)},
		{ID: "se1", Queue: "care-emea", Team: "emea-care", Priority: "P1", Market: "Nordics", CreatedAt: time.Unix(3200, 0)},
		{ID: "ch1", Queue: "care-dach", Team: "dach-care", Priority: "P3", Market: "DACH", CreatedAt: time.Unix(3300, 0)},
	} {
		e.alerts.Add(a)
	}
	return e
}

func alertIDs(t *testing.T, r resp) []string {
	t.Helper()
	var p Page[Alert]
	if r.code != 200 || json.Unmarshal(r.body, &p) != nil {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var ids []string
	for _, a := range p.Items {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

// A market team sees its market's alerts only, on the regional queue too,
// and cannot see, acknowledge or work another market's.
func TestMarketScopeAlerts(t *testing.T) {
	e := marketEnv(t)
	if got := alertIDs(t, e.do("responder-dach", "GET", "/v1/queues/care-emea/alerts", "")); !slices.Equal(got, []string{"at1", "de1"}) {
		t.Errorf("DACH on care-emea sees %v, want [at1 de1]", got)
	}
	if got := alertIDs(t, e.do("responder-nordics", "GET", "/v1/queues/care-emea/alerts", "")); !slices.Equal(got, []string{"se1"}) {
		t.Errorf("Nordics on care-emea sees %v, want [se1]", got)
	}
	if got := alertIDs(t, e.do("admin", "GET", "/v1/queues/care-emea/alerts", "")); len(got) != 5 {
		t.Errorf("the unscoped admin sees %v, want all five", got)
	}
	// another market's queue is not there
	if r := e.do("responder-nordics", "GET", "/v1/queues/care-dach/alerts", ""); r.code != 404 {
		t.Errorf("Nordics listing care-dach: %d, want 404", r.code)
	}
	var qs Page[QueueView]
	json.Unmarshal(e.do("responder-nordics", "GET", "/v1/queues", "").body, &qs)
	for _, q := range qs.Items {
		if q.Name == "care-dach" {
			t.Errorf("Nordics is shown the DACH queue")
		}
	}
	// acting on another market's alert is 404, and changes nothing
	for _, path := range []string{"/v1/queues/care-emea/alerts/de1/ack", "/v1/queues/care-emea/alerts/de1/claim", "/v1/queues/care-emea/alerts/de1/notes"} {
		body := ""
		if strings.HasSuffix(path, "notes") {
			body = `{"text":"mine now"}`
		}
		if r := e.do("responder-nordics", "POST", path, body); r.code != 404 || r.errCode() != CodeNotFound {
			t.Errorf("Nordics POST %s: %d %s, want 404", path, r.code, r.body)
		}
	}
	// an alert of no market is no market team's
	if r := e.do("responder-nordics", "POST", "/v1/queues/care-emea/alerts/a1/ack", ""); r.code != 404 {
		t.Errorf("Nordics acknowledging an alert of no market: %d, want 404", r.code)
	}
	var de1 Alert
	for _, a := range mustList(t, e, "admin", "care-emea") {
		if a.ID == "de1" {
			de1 = a
		}
	}
	if !de1.AcknowledgedAt.IsZero() || de1.Desk.Assignee != "" || de1.Desk.Events != 0 || len(de1.Desk.Notes) != 0 {
		t.Fatalf("another market's refused actions changed the alert: %+v", de1)
	}
	// its own market's: yes
	if r := e.do("responder-dach", "POST", "/v1/queues/care-emea/alerts/de1/ack", ""); r.code != 200 {
		t.Errorf("DACH acknowledging its alert: %d %s", r.code, r.body)
	}
	if r := e.do("responder-dach", "POST", "/v1/queues/care-emea/alerts/at1/claim", ""); r.code != 200 {
		t.Errorf("DACH claiming its alert: %d %s", r.code, r.body)
	}
}

func mustList(t *testing.T, e *env, caller, queue string) []Alert {
	t.Helper()
	var p Page[Alert]
	r := e.do(caller, "GET", "/v1/queues/"+queue+"/alerts", "")
	if r.code != 200 || json.Unmarshal(r.body, &p) != nil {
		t.Fatalf("%d %s", r.code, r.body)
	}
	return p.Items
}

// The live feed of a shared queue carries the caller's market's alerts only.
func TestMarketScopeLiveFeed(t *testing.T) {
	e := marketEnv(t)
	req, _ := http.NewRequest("GET", e.ts.URL+"/v1/queues/care-emea/stream", nil)
	req.Header.Set("Authorization", "Bearer "+e.tok["responder-nordics"])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := e.ts.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for e.hub.Subscribers() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	e.hub.Publish(Alert{ID: "live-de", Queue: "care-emea", Market: "DACH"})
	e.hub.Publish(Alert{ID: "live-none", Queue: "care-emea"})
	e.hub.Publish(Alert{ID: "live-se", Queue: "care-emea", Market: "Nordics"})
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "id: ") {
			if line != "id: live-se" {
				t.Fatalf("the Nordics feed carried %s", line)
			}
			return
		}
	}
	t.Fatal("the feed ended")
}

// Search and insights narrow to the caller's market.
func TestMarketScopeSearchAndInsights(t *testing.T) {
	e := marketEnv(t)
	if r := e.do("analyst-dach", "POST", "/v1/search", `{"q":"acme"}`); r.code != 200 {
		t.Fatalf("search: %d %s", r.code, r.body)
	}
	if s := e.search.last.Scope; s == nil || !slices.Equal(s.Markets, []string{"DACH"}) {
		t.Errorf("search scope %+v, want markets [DACH]", s)
	}
	if r := e.do("analyst-dach", "POST", "/v1/insights/volume_by_platform", `{}`); r.code != 403 || r.errCode() != CodeOutOfScope {
		t.Errorf("a query of every market: %d %s, want 403 out_of_scope", r.code, r.body)
	}
	// A roll-up left at every market (docs/markets.md's "level": "market"
	// call without "market") is the same refusal, naming the caller's
	// markets, not a 404 about a market called "".
	for _, body := range []string{`{"params":{"level":"market","region":"EMEA"}}`, `{"params":{"level":"market","market":""}}`} {
		if r := e.do("analyst-dach", "POST", "/v1/insights/markets_alerts_sla", body); r.code != 403 || r.errCode() != CodeOutOfScope || !strings.Contains(string(r.body), "DACH") {
			t.Errorf("a roll-up of every market (%s): %d %s, want 403 out_of_scope naming DACH", body, r.code, r.body)
		}
	}
	if r := e.do("analyst-dach", "POST", "/v1/insights/markets_alerts_sla", `{"params":{"level":"market","market":"Nordics"}}`); r.code != 404 {
		t.Errorf("another market's roll-up: %d %s, want 404", r.code, r.body)
	}
}

// In distributed mode (alerts in ClickHouse) the market of an alert is its
// row's: another market's alert is listed to nobody of the other market
// and not acknowledged, and no event is written for it.
func TestMarketScopeCHAlerts(t *testing.T) {
	table := &fakeTable{rows: []sink.AlertRow{
		{ID: "de1", Queue: "care-emea", Team: "emea-care", Priority: "P2", Market: "DACH", CreatedAt: time.Unix(3000, 0)},
		{ID: "se1", Queue: "care-emea", Team: "emea-care", Priority: "P2", Market: "Nordics", CreatedAt: time.Unix(2000, 0)},
	}}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Alerts = &CHAlerts{Table: table} })
	_, secret, err := e.tokens.Create(NewToken{Name: "nils", Role: Responder, Scope: Scope{Markets: []string{"Nordics"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tok["responder-nordics"] = secret
	if got := alertIDs(t, e.do("responder-nordics", "GET", "/v1/queues/care-emea/alerts", "")); !slices.Equal(got, []string{"se1"}) {
		t.Errorf("Nordics sees %v, want [se1]", got)
	}
	if r := e.do("responder-nordics", "POST", "/v1/queues/care-emea/alerts/de1/ack", ""); r.code != 404 {
		t.Errorf("Nordics acknowledging DACH's alert: %d %s, want 404", r.code, r.body)
	}
	if r := e.do("responder-nordics", "POST", "/v1/queues/care-emea/alerts/de1/claim", ""); r.code != 404 {
		t.Errorf("Nordics claiming DACH's alert: %d %s, want 404", r.code, r.body)
	}
	if len(table.events) != 0 || len(table.desk) != 0 {
		t.Errorf("refused actions wrote events: %v %v", table.events, table.desk)
	}
	if r := e.do("responder-nordics", "POST", "/v1/queues/care-emea/alerts/se1/ack", ""); r.code != 200 || len(table.events) != 1 {
		t.Errorf("Nordics acknowledging its alert: %d %s, events %v", r.code, r.body, table.events)
	}
}

// Reading one alert by id (GET /v1/queues/{queue}/alerts/{id}, the desk
// page's link) keeps to the caller's market as the list does: another
// market's alert, or one of no market, on a shared regional queue is 404.
func TestMarketScopeOneAlert(t *testing.T) {
	e := marketEnv(t)
	for _, id := range []string{"de1", "a1"} {
		if r := e.do("responder-nordics", "GET", "/v1/queues/care-emea/alerts/"+id, ""); r.code != 404 || r.errCode() != CodeNotFound {
			t.Errorf("Nordics reading %s: %d %.200s, want 404", id, r.code, r.body)
		}
	}
	if r := e.do("responder-nordics", "GET", "/v1/queues/care-emea/alerts/se1", ""); r.code != 200 {
		t.Errorf("Nordics reading its own se1: %d %.200s", r.code, r.body)
	}
	if r := e.do("responder-dach", "GET", "/v1/queues/care-emea/alerts/de1", ""); r.code != 200 {
		t.Errorf("DACH reading its own de1: %d %.200s", r.code, r.body)
	}
}

// A region-scoped caller (or one scoped to regions and markets) leaving a
// region-scoped query at every region (no region, or region "") is told
// to narrow it to its regions, as a market-scoped one is for markets: 403
// out_of_scope naming its regions, not 404 'region "" not found'.
func TestRegionScopeEmptyRegion(t *testing.T) {
	e := marketEnv(t)
	for name, nt := range map[string]NewToken{
		"analyst-emea":      {Name: "emil", Role: Analyst, Scope: Scope{Regions: []string{"EMEA"}}},
		"analyst-emea-dach": {Name: "edda", Role: Analyst, Scope: Scope{Regions: []string{"EMEA"}, Markets: []string{"DACH"}}},
	} {
		_, secret, err := e.tokens.Create(nt)
		if err != nil {
			t.Fatal(err)
		}
		e.tok[name] = secret
	}
	for _, who := range []string{"analyst-emea", "analyst-emea-dach"} {
		for _, c := range []struct{ query, body string }{
			{"mentions_by_watchlist", `{"params":{"watchlist":"acme-gr"}}`},
			{"mentions_by_watchlist", `{"params":{"watchlist":"acme-gr","region":""}}`},
			{"markets_alerts_sla", `{"params":{"level":"market","market":"DACH"}}`},
			{"markets_alerts_sla", `{"params":{"level":"market","region":"","market":"DACH"}}`},
		} {
			r := e.do(who, "POST", "/v1/insights/"+c.query, c.body)
			if r.code != 403 || r.errCode() != CodeOutOfScope || !strings.Contains(string(r.body), "EMEA") {
				t.Errorf("%s %s %s: %d %s, want 403 out_of_scope naming EMEA", who, c.query, c.body, r.code, r.body)
			}
		}
		if r := e.do(who, "POST", "/v1/insights/markets_alerts_sla", `{"params":{"level":"market","region":"APAC","market":"DACH"}}`); r.code != 404 {
			t.Errorf("%s: another region: %d %s, want 404", who, r.code, r.body)
		}
		if r := e.do(who, "POST", "/v1/insights/markets_alerts_sla", `{"params":{"level":"market","region":"EMEA","market":"DACH"}}`); r.code != 200 {
			t.Errorf("%s: its own region: %d %s, want 200", who, r.code, r.body)
		}
	}
}
