//go:build integration

package itest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/search"
)

// TestIndexStageDistributed runs the index as its own process beside the
// sink on real Kafka: both get every enriched post through their own
// consumer groups, the delete reaches the index, and earshot search reads
// the index once the process has let it go (and says what to do before).
func TestIndexStageDistributed(t *testing.T) {
	prefix, db := names(t)
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	lines := []string{
		`{"platform":"file","id":"1","author":{"handle":"a"},"text":"my Acme phone is broken again, worst experience ever","created_at":"` + at + `"}`,
		`{"platform":"file","id":"2","author":{"handle":"b"},"text":"still waiting for a refund from Acme, terrible","created_at":"` + at + `"}`,
		`{"platform":"file","id":"3","author":{"handle":"c"},"text":"η Acme δεν μου επέστρεψε τα χρήματα, απαράδεκτη εξυπηρέτηση","created_at":"` + at + `","lang":"el"}`,
		`{"platform":"file","id":"4","author":{"handle":"d"},"text":"nothing to do with any brand","created_at":"` + at + `"}`,
		`{"kind":"delete","platform":"file","id":"2"}`,
	}
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, setup{prefix: prefix, db: db, source: "source: file\n  file: {path: " + path + "}"})
	dir := filepath.Join(t.TempDir(), "index")
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "search:\n  enabled: true\n  dir: %s\n  retention: 72h\n  linger: 50ms\n", dir)
	f.Close()

	var procs []*proc
	for _, s := range []string{"match", "enrich", "sink"} {
		procs = append(procs, start(t, s, cfg))
	}
	index := start(t, "index", cfg)
	start(t, "ingest", cfg).wait(t, time.Minute)

	searchJSON := func(q string) (search.Result, string, error) {
		out, err := exec.Command(bin, "search", q, "--config", cfg, "--json").CombinedOutput()
		var r search.Result
		if err == nil {
			err = json.Unmarshal(out, &r)
		}
		return r, string(out), err
	}
	// The index has taken everything in when its group has no lag.
	var metrics string
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range strings.Split(metrics, "\n") {
				if (strings.Contains(l, "search_d") || strings.Contains(l, `stage="index"`)) && !strings.HasPrefix(l, "#") {
					t.Log(l)
				}
			}
		}
	})
	eventually(t, 2*time.Minute, "the index to catch up", func() bool {
		metrics = scrapeMetrics(t, index)
		// Three matched posts and the delete reach the enriched topic.
		return strings.Contains(metrics, `earshot_stream_records_in_total{stage="index"} 4`)
	})
	// While the index process holds it, the tool says so.
	if _, out, err := searchJSON("*"); err == nil || !strings.Contains(out, "held open by a running earshot") {
		t.Errorf("search of a held index: %v %s", err, out)
	}
	index.stop(t)
	r, out, err := searchJSON("*")
	if err != nil {
		t.Fatalf("search: %v %s", err, out)
	}
	var keys []string
	for _, h := range r.Hits {
		keys = append(keys, h.Key)
	}
	if r.Total != 2 || strings.Contains(strings.Join(keys, " "), "file:2") {
		t.Errorf("indexed %v, want file:1 and file:3 (file:2 deleted, file:4 matched nothing)", keys)
	}
	if r, _, _ := searchJSON("εξυπηρετηση"); r.Total != 1 || r.Hits[0].Key != "file:3" {
		t.Errorf("Greek search without accents: %+v", r)
	}
	// The sink got the same stream through its own group.
	conn := openCH(t)
	eventually(t, 2*time.Minute, "the sink to store the posts and the delete", func() bool {
		return count(t, conn, "SELECT count() FROM "+db+".deletions") == 1 && count(t, conn, "SELECT count() FROM "+db+".posts FINAL") == 3
	})
	for _, p := range procs {
		p.stop(t)
	}
}

// scrapeMetrics reads a process's metrics; its address is in its log.
func scrapeMetrics(t *testing.T, p *proc) string {
	t.Helper()
	log := p.errs.String()
	i := strings.Index(log, `msg="serving metrics"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(log[i:], " addr=")
	if j < 0 {
		return ""
	}
	addr := strings.Fields(log[i+j+len(" addr="):])[0]
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
