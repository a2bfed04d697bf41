package pipeline

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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/notify"
)

// earshot notify without a channel has nothing to do: a configuration
// error, as earshot index without search, rather than a process idling.
func TestNotifyAloneWithoutChannelsIsAConfigError(t *testing.T) {
	cfg := Default()
	cfg.Transport.Kind = "kafka"
	_, err := cfg.stagesHere([]string{Notify})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "notify.channels") {
		t.Errorf("earshot notify with no channels: %v", err)
	}
}

// Embedded mode: an alert resolved on the desk (the API) reaches the
// notify stage, which resolves the PagerDuty incident it opened.
func TestDeskResolveResolvesPagerDutyEmbedded(t *testing.T) {
	dir := t.TempDir()
	policy := "queues: [care]\nrules:\n  - name: all\n    queue: care\n    priority: P1\n"
	if err := os.WriteFile(filepath.Join(dir, "routing.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	type event struct {
		Action string `json:"event_action"`
		Key    string `json:"dedup_key"`
	}
	var mu sync.Mutex
	var events []event
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e event
		json.NewDecoder(r.Body).Decode(&e)
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer pd.Close()
	got := func(action string) []string {
		mu.Lock()
		defer mu.Unlock()
		var keys []string
		for _, e := range events {
			if e.Action == action {
				keys = append(keys, e.Key)
			}
		}
		return keys
	}
	t.Setenv("EARSHOT_TEST_PD_KEY", "routing-key")
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy = filepath.Join(dir, "routing.yaml")
	cfg.Sink.Enabled = false
	cfg.Ingest.Source = "synthetic"
	cfg.Ingest.Synthetic.Rate, cfg.Ingest.Synthetic.BrandRate, cfg.Ingest.Synthetic.Limit = 20, 1, 0
	cfg.API.Addr, cfg.API.StateDir = "127.0.0.1:0", filepath.Join(dir, "api")
	cfg.Notify.Channels = map[string]notify.Channel{"pd": {Kind: notify.PagerDuty, URL: pd.URL, RoutingKeyEnv: "EARSHOT_TEST_PD_KEY", Queues: []string{"care"}, RateLimit: notify.RateLimit{Messages: 1000, Per: time.Minute}}}
	if err := os.MkdirAll(cfg.API.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tokens, err := api.OpenTokens(cfg.API.Tokens(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := tokens.Create(api.NewToken{Name: "rita", Role: api.Admin})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProcess(context.Background(), cfg, ProcessOptions{Name: Run, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := p.Run(ctx); done <- err }()
	defer func() { cancel(); <-done }()
	var id string
	for id == "" && ctx.Err() == nil {
		if keys := got("trigger"); len(keys) > 0 {
			id = keys[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if id == "" {
		t.Fatal("no PagerDuty trigger within 90 s")
	}
	req, _ := http.NewRequest("POST", "http://"+p.APIAddr()+"/v1/queues/care/alerts/"+id+"/resolve", strings.NewReader(`{"outcome":"replied"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("resolve: %d %s", res.StatusCode, body)
	}
	for ctx.Err() == nil && !slices.Contains(got("resolve"), id) {
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Contains(got("resolve"), id) {
		t.Fatalf("the desk resolve of %s never reached PagerDuty; events %v", id, events)
	}
}

// An embedded run with notification channels ends when its source does:
// the desk topic, which no stage writes, is closed once every stage that
// could lead to a resolve is done, so its readers drain and stop. Before,
// they waited on it forever and `earshot run --limit N` with a notify
// section never returned (cmd/earshot TestRunNotifiesSlackPerQueue hung).
func TestEmbeddedRunWithChannelsEndsWithItsSource(t *testing.T) {
	dir := t.TempDir()
	policy := "queues: [care]\nrules:\n  - name: all\n    queue: care\n    priority: P1\n"
	if err := os.WriteFile(filepath.Join(dir, "routing.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer pd.Close()
	t.Setenv("EARSHOT_TEST_PD_KEY", "routing-key")
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy = filepath.Join(dir, "routing.yaml")
	cfg.Sink.Enabled = false
	cfg.Ingest.Source = "synthetic"
	cfg.Ingest.Synthetic.Rate, cfg.Ingest.Synthetic.BrandRate, cfg.Ingest.Synthetic.Limit = 0, 1, 200
	cfg.Notify.Channels = map[string]notify.Channel{"pd": {Kind: notify.PagerDuty, URL: pd.URL, RoutingKeyEnv: "EARSHOT_TEST_PD_KEY", Queues: []string{"care"}, RateLimit: notify.RateLimit{Messages: 1000, Per: time.Minute}}}
	p, err := NewProcess(context.Background(), cfg, ProcessOptions{Name: Run, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := p.Run(ctx); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		cancel()
		<-done
		t.Fatal("the run did not end within 60 s of a source of 200 posts")
	}
}
