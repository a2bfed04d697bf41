package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadTakesABareZeroDuration: "batch_interval: 0" in a configuration
// file turns pacing off, as "0s" does, instead of failing the start; "5"
// is refused with the key, its line and the fix.
func TestLoadTakesABareZeroDuration(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "watchlists"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"watchlists/a.yaml": "id: a\nteam: t\nkeywords: [acme]\n",
		"routing.yaml":      "queues: [care]\nrules:\n  - name: all\n    queue: care\n    priority: P3\n",
		"earshot.yaml":      "match: {watchlists: watchlists}\nroute: {policy: routing.yaml}\ntransport:\n  kafka: {batch_interval: 0}\nsearch: {linger: 0}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "earshot.yaml")
	c, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport.Kafka.BatchInterval != 0 || c.Search.Linger != 0 {
		t.Errorf("batch_interval %v, search.linger %v; want both 0", c.Transport.Kafka.BatchInterval, c.Search.Linger)
	}
	if Default().Transport.Kafka.BatchInterval == 0 || Default().Search.Linger == 0 {
		t.Fatal("the defaults are 0: the test shows nothing")
	}
	if err := os.WriteFile(cfg, []byte("match: {watchlists: watchlists}\nroute: {policy: routing.yaml}\ntransport:\n  kafka:\n    batch_interval: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "earshot.yaml:5: batch_interval: 5 has no unit") {
		t.Errorf("batch_interval: 5 gives %v", err)
	}
}
