package search

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
)

// A shard whose root.bolt was cut short (a crash on a file system that
// lost the end of it, a copy that ran out of room) crashed the process
// with SIGBUS at start, when bbolt read the pages its header promised past
// the end of the mapped file: earshot run then crash-looped. A zero-length
// one was opened as a new, empty database: the day's posts vanished from
// search without a word. Both are a shard that does not open: skipped, the
// other days searchable, the day's posts dead-lettered.
func TestTornShardRootIsSkipped(t *testing.T) {
	for _, cut := range []string{"a third", "empty"} {
		t.Run(cut, func(t *testing.T) {
			now := testNow
			c := testConfig(t)
			x := openTest(t, c, &now)
			yesterday := doc{"y", "refund yesterday", "en", "NA", "negative", 30 * time.Hour, []string{"acme"}}
			if err := x.Index(append(many(50, "t"), yesterday.item())); err != nil {
				t.Fatal(err)
			}
			x.Close()
			root := filepath.Join(c.Dir, testNow.Format(dayLayout), "store", "root.bolt")
			st, err := os.Stat(root)
			if err != nil {
				t.Fatal(err)
			}
			size := st.Size() / 3
			if cut == "empty" {
				size = 0
			}
			if err := os.Truncate(root, size); err != nil {
				t.Fatal(err)
			}
			y := openTest(t, c, &now)
			if r := search1(t, y, Query{Text: "refund"}); r.Total != 1 {
				t.Errorf("the good shard: %d hits", r.Total)
			}
			out, err := y.Stage()(context.Background(), post.Batch{Items: many(3, "c")})
			if err != nil || len(out.Rejected) != 3 || !strings.Contains(out.Rejected[0].Reason, "root.bolt") {
				t.Errorf("posts for the broken day: %v, %+v", err, out.Rejected)
			}
			if got := testutil.ToFloat64(y.m.errors.WithLabelValues("open")); got != 1 {
				t.Errorf("open errors %v", got)
			}
		})
	}
}
