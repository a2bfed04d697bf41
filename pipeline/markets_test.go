package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/route"
)

// earshot route simulate tags canonical posts with the org file's markets,
// so a routing rule's markets: sends them as the live pipeline would.
func TestSimulateRoutingMarkets(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "routing.yaml")
	os.WriteFile(policy, []byte(`queues: [care, pr]
rules:
  - {name: dach, when: {markets: [DACH]}, queue: pr, priority: P2}
  - {name: rest, queue: care, priority: P3}
`), 0o644)
	var posts strings.Builder
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, c := range []string{"DE", "AT", "US", "SE"} {
		fmt.Fprintf(&posts, `{"platform":"x","id":"%d","author":{"handle":"a"},"text":"acme is terrible, says post %d from %s","country":%q,"created_at":%q}`+"\n",
			i, i, c, c, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	file := filepath.Join(dir, "posts.ndjson")
	os.WriteFile(file, []byte(posts.String()), 0o644)
	cfg := route.DefaultConfig()
	cfg.Policy, cfg.Org = policy, "../deploy/examples/org.yaml"
	var out strings.Builder
	if err := SimulateRouting(cfg, file, "../deploy/examples/watchlists", start, true, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	alerts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var r route.HourReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		alerts[r.Queue] += r.Alerts - r.HandedIn
	}
	if alerts["pr"] != 2 || alerts["care"] != 2 {
		t.Errorf("alerts per queue %v, want DE and AT on pr, US and SE on care", alerts)
	}
}
