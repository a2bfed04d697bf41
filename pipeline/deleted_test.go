package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/api"
)

// Embedded mode (the in-memory alert store fed by the taps): a post
// deleted at its source is served by no alert afterwards, neither a
// single post's alert (route retracts it) nor an incident's alert whose
// latest post it was (route does not retract an incident: the delete tap
// drops the post). Authors are unique to each post, so a deleted post's
// author in any alert is its content leaking.
func TestEmbeddedDeletedPostIsNotServed(t *testing.T) {
	at := time.Now().UTC().Add(-5 * time.Minute).Format(time.RFC3339)
	line := func(id, text string) string {
		return fmt.Sprintf(`{"platform":"file","id":%q,"author":{"handle":"author-%s"},"text":%q,"urls":["https://example.com/link-%s"],"created_at":%q}`, id, id, text, id, at)
	}
	del := func(id string) string { return fmt.Sprintf(`{"platform":"file","id":%q,"kind":"delete"}`, id) }
	storm := "my Acme phone exploded on the train, worst experience ever"
	lines := []string{
		line("single", "my Acme router is broken again, terrible support"),
		line("c1", storm), line("c2", storm), line("c3", storm), line("c4", storm),
		line("kept", "my Acme laptop screen is broken, awful service"),
		del("single"), del("c4"),
	}
	cfg := fileConfig(t, lines)
	cfg.Runner.BatchSize, cfg.Runner.Linger = 1, 0
	log := slog.New(slog.DiscardHandler)
	mem, hub := api.NewMemAlerts(100), api.NewHub()
	taps := Taps{Alert: api.Tap(mem, hub, log), Delete: api.DeleteTap(mem, hub)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := New(ctx, cfg, AllStages, taps, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var all []api.Alert
	for _, q := range p.policy.AllQueues() {
		page, _, err := mem.List(ctx, q, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
	}
	var deleted, incidents, kept int
	for _, a := range all {
		raw, _ := json.Marshal(a)
		for _, gone := range []string{"author-single", "link-single", "router is broken", "author-c4", "link-c4"} {
			if strings.Contains(string(raw), gone) {
				t.Errorf("alert %s on %s serves %q of a deleted post: %.400s", a.ID, a.Queue, gone, raw)
			}
		}
		if a.Deleted {
			deleted++
		}
		if a.Incident != "" {
			incidents++
		}
		if strings.Contains(string(raw), "author-kept") {
			kept++
		}
	}
	if deleted < 2 || incidents == 0 || kept == 0 {
		t.Fatalf("%d alerts, %d marked deleted, %d incidents, %d of the kept post: want the single and the incident's alerts deleted, the kept post's shown", len(all), deleted, incidents, kept)
	}
}
