//go:build integration

package itest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestDeletesHidePostsAndRetractAlerts feeds posts and then a delete of
// one of them through every stage: the deleted post leaves the ClickHouse
// views and its alert is retracted on its queue.
func TestDeletesHidePostsAndRetractAlerts(t *testing.T) {
	prefix, db := names(t)
	lines := []string{
		`{"platform":"file","id":"1","author":{"handle":"a"},"text":"my Acme phone is broken again, worst experience ever","created_at":"2026-11-01T10:00:00Z"}`,
		`{"platform":"file","id":"2","author":{"handle":"b"},"text":"still waiting for a refund from Acme, terrible","created_at":"2026-11-01T10:00:01Z"}`,
		`{"platform":"file","id":"3","author":{"handle":"c"},"text":"Acme charged me twice, awful support","created_at":"2026-11-01T10:00:02Z"}`,
		`{"kind":"delete","platform":"file","id":"2"}`,
	}
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, setup{prefix: prefix, db: db, source: "source: file\n  file: {path: " + path + "}"})
	var procs []*proc
	for _, s := range []string{"match", "enrich", "route", "sink"} {
		procs = append(procs, start(t, s, cfg))
	}
	start(t, "ingest", cfg).wait(t, time.Minute)

	conn := openCH(t)
	// The posts and the delete reach the sink on different partitions of
	// the enriched topic (keyed by post), so in no set order: the delete
	// of 2 can be written before posts 1 and 3. Each count is waited for,
	// exactly; a timeout says what is there, which tells a slow post from
	// a lost one.
	eventuallyCount(t, conn, time.Minute, "SELECT count() FROM "+db+".deletions", 1)
	eventuallyCount(t, conn, time.Minute, "SELECT count() FROM "+db+".posts FINAL", 3) // the delete hides, it does not erase
	eventuallyCount(t, conn, time.Minute, "SELECT count() FROM "+db+".posts_dedup", 2)
	if got := count(t, conn, "SELECT count() FROM "+db+".matches_dedup WHERE post_key = 'file:2'"); got != 0 {
		t.Errorf("the deleted post still has %d matches in matches_dedup", got)
	}
	var raised, retracted string
	eventually(t, 30*time.Second, "the retraction", func() bool {
		for _, q := range []string{"care", "legal", "pr"} {
			for _, v := range readTopic(t, prefix+".alerts."+q) {
				it, err := post.Decode(v)
				if err != nil || it.Post.ID != "2" {
					continue
				}
				if it.Alert.Retracted {
					retracted = it.Alert.ID
				} else {
					raised = it.Alert.ID
				}
			}
		}
		return retracted != ""
	})
	if raised == "" || raised != retracted {
		t.Errorf("alert raised %q, retracted %q: want the same id", raised, retracted)
	}
	for _, p := range procs {
		p.stop(t)
	}
}
