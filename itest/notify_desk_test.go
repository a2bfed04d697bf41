//go:build integration

package itest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/notify"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/sink"
)

// TestDeskResolveReachesNotifyDistributed: in distributed mode the API
// process (alerts in ClickHouse) writes a desk resolve to the desk topic,
// and a separate notify process resolves the PagerDuty incident.
func TestDeskResolveReachesNotifyDistributed(t *testing.T) {
	prefix, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn := migratedDB(t, db)
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "routing.yaml")
	os.WriteFile(policyPath, []byte("queues: [care]\nrules:\n  - name: care\n    queue: care\n    priority: P1\n"), 0o644)
	policy, err := route.LoadPolicy(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	in := []*post.Item{{Post: &post.Post{Platform: "x", ID: "d1", Text: "acme is down", CreatedAt: t0},
		Matches: []post.Match{{Watchlist: "acme", Version: 1, Keywords: []string{"acme"}}}}}
	alerts, err := policy.Stage(func() time.Time { return t0 })(ctx, post.Batch{Items: in})
	if err != nil || len(alerts.Items) != 1 {
		t.Fatalf("route: %v, %d alerts", err, len(alerts.Items))
	}
	if out, err := sink.New(conn, db).AlertStage()(ctx, alerts); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing alerts: %v %+v", err, out.Rejected)
	}
	id := alerts.Items[0].Alert.ID

	var mu sync.Mutex
	var resolved []string
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			Action string `json:"event_action"`
			Key    string `json:"dedup_key"`
		}
		json.NewDecoder(r.Body).Decode(&e)
		if e.Action == "resolve" {
			mu.Lock()
			resolved = append(resolved, e.Key)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer pd.Close()
	t.Setenv("EARSHOT_IT_PD_KEY", "routing-key")

	cfg := pipeline.Default()
	cfg.Transport.Kind = "kafka"
	cfg.Transport.Kafka.Brokers = []string{kafkaAddr}
	cfg.Transport.TopicPrefix = prefix
	cfg.Sink.Enabled = true
	cfg.Sink.Addr = []string{clickhouseAddr}
	cfg.Sink.Database = db
	cfg.Route.Policy = policyPath
	cfg.Match.Watchlists = filepath.Join(root, "deploy/examples/watchlists")
	cfg.API.Addr, cfg.API.StateDir = "127.0.0.1:0", filepath.Join(dir, "api")
	cfg.Notify.Channels = map[string]notify.Channel{"pd": {Kind: notify.PagerDuty, URL: pd.URL, RoutingKeyEnv: "EARSHOT_IT_PD_KEY", Queues: []string{"care"}}}
	os.MkdirAll(cfg.API.StateDir, 0o700)
	tokens, err := api.OpenTokens(cfg.API.Tokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := tokens.Create(api.NewToken{Name: "rita", Role: api.Admin})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	start := func(name string) *pipeline.Process {
		p, err := pipeline.NewProcess(ctx, cfg, pipeline.ProcessOptions{Name: name, Log: log})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wg.Go(func() { p.Run(ctx) })
		return p
	}
	start(pipeline.Notify)
	apiProc := start(pipeline.API)
	eventually(t, 60*time.Second, "the desk resolve answered", func() bool {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+apiProc.APIAddr()+"/v1/queues/care/alerts/"+id+"/resolve", strings.NewReader(`{"outcome":"replied"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "it-resolve-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode == 200
	})
	eventually(t, 60*time.Second, "PagerDuty resolve of "+id, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(resolved) > 0 && resolved[0] == id
	})
}

// A paging channel follows the sun for a team of the org file: earshot
// notify refuses, as a configuration error, a team the org does not have,
// and a team without an org file.
func TestNotifyTeamMustBeAnOrgTeam(t *testing.T) {
	prefix, _ := names(t)
	t.Setenv("EARSHOT_IT_PD_KEY", "routing-key")
	for _, c := range []struct{ org, team, want string }{
		{filepath.Join(root, "deploy/examples/org.yaml"), "nope", `notify.channels.pd.team: "nope" is not a team of route.org`},
		{"", "care-emea", `notify.channels.pd.team: "care-emea" is not a team of route.org`},
	} {
		cfg := pipeline.Default()
		cfg.Transport.Kind = "kafka"
		cfg.Transport.Kafka.Brokers = []string{kafkaAddr}
		cfg.Transport.TopicPrefix = prefix
		cfg.Route.Policy, cfg.Route.Org = filepath.Join(root, "deploy/examples/routing.yaml"), c.org
		cfg.Notify.Channels = map[string]notify.Channel{"pd": {Kind: notify.PagerDuty, URL: "http://127.0.0.1:1", RoutingKeyEnv: "EARSHOT_IT_PD_KEY", Queues: []string{"care"}, Team: c.team}}
		_, err := pipeline.NewProcess(context.Background(), cfg, pipeline.ProcessOptions{Name: pipeline.Notify, Log: slog.New(slog.DiscardHandler)})
		if !errors.Is(err, pipeline.ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("org %q, team %q: %v", c.org, c.team, err)
		}
	}
}
