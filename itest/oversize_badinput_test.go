//go:build integration

package itest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// fBadNames is names with the f_bad prefix, so these topics are told apart
// from the other tests' on a shared broker.
func fBadNames(t *testing.T) (prefix, db string) {
	prefix, db = names(t)
	return "f_bad." + strings.TrimPrefix(prefix, "it."), "f_bad_" + strings.TrimPrefix(db, "it_")
}

// TestOversizedMatchIsDeadLettered: a post that fits in a record grows, with
// its match and spans, into a matched record over
// transport.kafka.max_message_bytes. It must become a dead letter that names
// the post, and the posts beside it must go on; retrying the produce forever
// would stall the partition behind it.
func TestOversizedMatchIsDeadLettered(t *testing.T) {
	prefix, db := fBadNames(t)
	const limit = 1 << 16
	good := `{"platform":"file","id":"%d","text":"my Acme phone is broken","created_at":"2026-11-01T10:00:00Z"}`
	// 2 KB under the limit (1 KB of it the producer's framing), the post
	// fits; its match adds MaxSpans spans of about 15 bytes each as binary
	// items (40 in JSON), which do not.
	spam := strings.Repeat("acme ", (limit-2000)/5)
	lines := []string{
		fmt.Sprintf(good, 1),
		`{"platform":"file","id":"spam","text":"` + spam + `","created_at":"2026-11-01T10:00:00Z"}`,
		fmt.Sprintf(good, 3),
	}
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, setup{prefix: prefix, db: db, maxMessage: limit, source: "source: file\n  file: {path: " + path + "}"})
	m := start(t, "match", cfg)
	start(t, "ingest", cfg).wait(t, time.Minute)

	eventually(t, time.Minute, "a dead letter from match", func() bool {
		return len(deadLetters(t, prefix+".deadletter")) > 0
	})
	dls := deadLetters(t, prefix+".deadletter")
	wantReasons(t, dls, "match", "over transport.kafka.max_message_bytes")
	// RawBytes is the item's size, which with the producer's framing (1 KiB)
	// does not fit.
	if d := dls[0]; d.Key != "file:spam" || d.RawBytes <= limit-1<<10 || len(d.Raw) > post.RawLimit || d.Item != nil {
		t.Errorf("dead letter key %q, raw %d of %d bytes, item %v; want the post's key, the record's size, a cut raw and no item", d.Key, len(d.Raw), d.RawBytes, d.Item != nil)
	}
	var got string
	eventually(t, time.Minute, "the other posts to be matched", func() bool {
		var ids []string
		for _, v := range readTopic(t, prefix+".matched") {
			it, err := post.Decode(v)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, it.Post.ID)
		}
		got = strings.Join(slices.Sorted(slices.Values(ids)), ",")
		return got == "1,3"
	})
	m.stop(t)
	if strings.Contains(m.errs.String(), "abandoned at shutdown") {
		t.Errorf("match abandoned a batch at shutdown: the oversized record was still being retried")
	}
}
