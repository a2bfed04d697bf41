package pipeline

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// Embedded mode without the ClickHouse sink: a rule's escalate.after still
// fires, from the route stage's in-memory timers.
func TestTimedEscalationWithoutTheSink(t *testing.T) {
	dir := t.TempDir()
	policy := "queues: [care, pr]\nrules:\n  - name: all\n    queue: care\n    priority: P3\n    escalate: {to: pr, after: 1s}\n"
	if err := os.WriteFile(filepath.Join(dir, "routing.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy = filepath.Join(dir, "routing.yaml")
	cfg.Route.EscalateEvery = time.Second
	cfg.Sink.Enabled = false
	cfg.Ingest.Source = "synthetic"
	cfg.Ingest.Synthetic.Rate, cfg.Ingest.Synthetic.BrandRate, cfg.Ingest.Synthetic.Limit = 20, 1, 0
	var (
		mu        sync.Mutex
		escalated int
	)
	// It ends at the first escalation; the bound covers loading the
	// models, which takes seconds under -race on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	taps := Taps{Alert: func(it *post.Item) {
		mu.Lock()
		defer mu.Unlock()
		if it.Alert.Reason == "escalation" && it.Alert.Queue == "pr" {
			escalated++
			cancel()
		}
	}}
	p, err := New(ctx, cfg, AllStages, taps, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if escalated == 0 {
		t.Error("no escalation within 60s of alerts due to escalate after 1s")
	}
}

// The matcher, the store and watchlist validate compile with the owned
// accounts of route.org, so to:@owned means the organisation's accounts.
func TestMatchOptionsCarryOwnedAccounts(t *testing.T) {
	cfg := Default()
	cfg.Route.Org = "../deploy/examples/org.yaml"
	o, err := MatchOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// the four of accounts:, then the DACH market's own
	if len(o.Owned) != 5 || o.Owned[1].Handle != "acme_support" || o.Owned[2].Platform != "bluesky" || o.Owned[4].Handle != "acme_de" {
		t.Errorf("owned accounts = %+v", o.Owned)
	}
	// and the markets, for market: in rules
	if o.Markets["AT"] != "DACH" || o.Markets["CY"] != "GR-CY" || o.Markets["FR"] != "" {
		t.Errorf("markets = %v", o.Markets)
	}
}

// An unknown key does not hide the file's other problems: all come at once.
func TestLoadReportsUnknownKeysWithTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("bogus: 1\nroute: {policy: p.yaml, linger: 20s}\nmatch: {watchlists: w}\n"), 0o644)
	_, err := Load(path)
	for _, want := range []string{`unknown key "bogus"`, "route.linger"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: %v, want it to name %s", err, want)
		}
	}
}
