//go:build integration

package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// TestIncidentSurvivesRedelivery: 300 copies of one complaint go through
// match, enrich (clustering on) and route over Kafka. Then route is killed
// with SIGKILL and its consumer group deleted, as if it had crashed before
// committing anything, so every post comes to it again. The copies stay
// one incident: one alert id, never a second page, and the incident's size
// never passes the number of copies.
func TestIncidentSurvivesRedelivery(t *testing.T) {
	prefix, db := names(t)
	const copies = 300
	var body strings.Builder
	t0 := time.Now().UTC().Add(-time.Minute)
	for i := range copies {
		fmt.Fprintf(&body, `{"platform":"file","id":"c%d","author":{"handle":"u%d"},"text":"RT @angry: my Acme phone exploded in my pocket, worst experience ever, never again %s","created_at":%q}`+"\n",
			i, i, strings.Repeat("!", i%3), t0.Add(time.Duration(i)*10*time.Millisecond).Format(time.RFC3339Nano))
	}
	path := filepath.Join(t.TempDir(), "copies.ndjson")
	os.WriteFile(path, []byte(body.String()), 0o644)
	cfg := writeConfig(t, setup{prefix: prefix, db: db, source: "source: file\n  file: {path: " + path + "}"})
	b, _ := os.ReadFile(cfg)
	// clustering on; small batches, so route commits often and a kill leaves some uncommitted
	conf := strings.Replace(string(b), "clustering: off", "clustering: on", 1)
	conf = strings.Replace(conf, "batch_size: 1000", "batch_size: 10", 1)
	os.WriteFile(cfg, []byte(conf), 0o644)

	match, enrich := start(t, "match", cfg), start(t, "enrich", cfg)
	rt := start(t, "route", cfg)
	start(t, "ingest", cfg).wait(t, time.Minute)
	alerts := func() []*post.Alert {
		var out []*post.Alert
		for _, q := range []string{"care", "pr", "legal", "care-na", "care-apac", "care-oncall"} {
			for _, v := range readTopic(t, prefix+".alerts."+q) {
				if it, err := post.Decode(v); err == nil && it.Alert != nil && it.Alert.Reason == "" {
					out = append(out, it.Alert)
				}
			}
		}
		return out
	}
	reached := func() bool {
		for _, a := range alerts() {
			if a.IncidentSize >= 256 {
				return true
			}
		}
		return false
	}
	eventually(t, time.Minute, "the incident to reach its size", reached)
	first := len(alerts())
	rt.kill()
	client := &kafka.Client{Addr: kafka.TCP(kafkaAddr)}
	eventually(t, time.Minute, "route's consumer group to be deleted (it empties when the killed member's session ends)", func() bool {
		res, err := client.DeleteGroups(context.Background(), &kafka.DeleteGroupsRequest{GroupIDs: []string{prefix + ".route"}})
		return err == nil && res.Errors[prefix+".route"] == nil
	})
	rt = start(t, "route", cfg)
	eventually(t, time.Minute, "route to go through everything again", func() bool { return len(alerts()) >= 2*first })
	time.Sleep(time.Second)
	for _, p := range []*proc{match, enrich, rt} {
		p.stop(t)
	}
	ids := map[string]int{}
	for _, a := range alerts() {
		ids[a.ID]++
		if a.IncidentSize > copies {
			t.Errorf("incident size %d, more than the %d copies", a.IncidentSize, copies)
		}
	}
	if len(ids) != 1 {
		t.Errorf("%d alert ids for one incident: %v", len(ids), ids)
	}
}
