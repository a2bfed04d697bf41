package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// failingShard is a shard whose writes fail, as on a broken disk.
type failingShard struct{ shard }

type shard = bleve.Index

func (failingShard) Batch(*bleve.Batch) error { return syscall.EIO }

func breakShard(x *Index, day time.Time) {
	k := day.Format(dayLayout)
	x.shards[k] = failingShard{x.shards[k]}
}

// many returns n distinct matched items created at testNow.
func many(n int, prefix string) []*post.Item {
	items := make([]*post.Item, n)
	for i := range items {
		d := corpus[i%len(corpus)]
		d.id, d.ago = fmt.Sprintf("%s%d", prefix, i), time.Minute
		items[i] = d.item()
	}
	return items
}

// A shard that cannot be written (here: closed behind the index's back)
// makes the stage dead-letter the batch with the reason, not fail it: a
// failed stage call would be retried forever and hold up the input.
func TestStageDeadLettersWhatItCannotWrite(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	if err := x.Index(many(1, "a")); err != nil {
		t.Fatal(err)
	}
	breakShard(x, testNow)
	items := many(5, "b")
	out, err := x.Stage()(context.Background(), post.Batch{Items: items})
	if err != nil {
		t.Fatalf("stage error %v: the runner would retry it forever", err)
	}
	if len(out.Rejected) != len(items) {
		t.Fatalf("%d rejected, want %d", len(out.Rejected), len(items))
	}
	if r := out.Rejected[0].Reason; !strings.Contains(r, "search index") || !strings.Contains(r, "input/output error") {
		t.Errorf("reason %q does not say what failed", r)
	}
}

// The disk filling up: a tiny tmpfs under the index. Needs root.
func TestStageOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 700<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testConfig(t)
	c.Dir = dir
	now := testNow
	x, err := OpenWith(c, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var rejected, accepted int
	var reason string
	for i := range 200 {
		items := many(200, fmt.Sprintf("f%d-", i))
		out, err := x.Stage()(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatalf("stage error on a full disk: %v", err)
		}
		if len(out.Rejected) > 0 {
			if rejected == 0 {
				reason = out.Rejected[0].Reason
			}
			rejected += len(out.Rejected)
			if rejected > 1000 {
				break
			}
			continue
		}
		accepted += len(items)
	}
	if rejected == 0 {
		t.Fatalf("256 KiB took %d posts without an error", accepted)
	}
	if !strings.Contains(reason, "no space left") {
		t.Errorf("reason %q does not say the disk is full", reason)
	}
	t.Logf("accepted %d, then dead-lettered %d: %s", accepted, rejected, reason)

	// Room again: the failed shard is reopened and indexing resumes.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var ok bool
	for i := 0; i < 5 && !ok; i++ {
		out, err := x.Stage()(context.Background(), post.Batch{Items: many(10, fmt.Sprintf("r%d-", i))})
		if err != nil {
			t.Fatal(err)
		}
		ok = len(out.Rejected) == 0
	}
	if !ok {
		t.Fatal("indexing did not resume once the disk had room")
	}
	res, err := x.Search(context.Background(), Query{Text: "*"})
	if err != nil {
		t.Fatalf("search after the disk filled: %v", err)
	}
	if res.Total < uint64(accepted) {
		t.Errorf("%d posts searchable, %d were accepted before the disk filled", res.Total, accepted)
	}
}

// In embedded mode the index and the sink read the enriched topic through
// bounded queues of their own groups. An index that fails every batch must
// keep consuming, or the queue would fill and stall the producer and so
// the sink.
func TestFailingIndexDoesNotStallTheSink(t *testing.T) {
	now := testNow
	x := openTest(t, testConfig(t), &now)
	if err := x.Index(many(1, "a")); err != nil {
		t.Fatal(err)
	}
	x.failWrites = func() error { return syscall.EIO } // every batch now fails

	mem := stream.NewMemory(64) // small queues: a stuck consumer blocks quickly
	idxIn, err := mem.Consumer("g.index", "enriched")
	if err != nil {
		t.Fatal(err)
	}
	sinkIn, err := mem.Consumer("g.sink", "enriched")
	if err != nil {
		t.Fatal(err)
	}
	out, err := mem.Producer()
	if err != nil {
		t.Fatal(err)
	}
	dead, err := mem.Consumer("g.dead", "dead")
	if err != nil {
		t.Fatal(err)
	}
	rc := stream.DefaultRunnerConfig()
	rc.BatchSize, rc.ShutdownTimeout = 50, time.Second
	var sunk atomic.Int64
	sinkStage := func(_ context.Context, b post.Batch) (post.Batch, error) {
		sunk.Add(int64(len(b.Items)))
		return post.Batch{}, nil
	}
	none := func(*post.Item) string { return "" }
	idxRunner := &stream.Runner{Name: "index", In: idxIn, Out: out, Stage: x.Stage(), Topic: none, DeadTopic: "dead", Config: rc, Log: discard()}
	sinkRunner := &stream.Runner{Name: "sink", In: sinkIn, Out: out, Stage: sinkStage, Topic: none, DeadTopic: "dead", Config: rc, Log: discard()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, 3)
	go func() { errs <- idxRunner.Run(ctx) }()
	go func() { errs <- sinkRunner.Run(ctx) }()
	var deadCount atomic.Int64
	go func() {
		errs <- stream.Drain(ctx, dead, discard(), func(d stream.Delivery) {
			if d.Dead != nil && d.Dead.Stage == "index" {
				deadCount.Add(1)
			}
		})
	}()
	const n = 2000 // 30 times the queue
	items := many(n, "s")
	for i := 0; i < n; i += 100 {
		var outs []stream.Out
		for _, it := range items[i : i+100] {
			outs = append(outs, stream.Out{Topic: "enriched", Key: it.Key(), Item: it})
		}
		if err := out.Produce(ctx, outs); err != nil {
			t.Fatalf("producing: %v (a stuck consumer?)", err)
		}
	}
	for ctx.Err() == nil && (sunk.Load() < n || deadCount.Load() < n) {
		time.Sleep(10 * time.Millisecond)
	}
	if sunk.Load() != n || deadCount.Load() != n {
		t.Fatalf("sink got %d, index dead-lettered %d, want %d each", sunk.Load(), deadCount.Load(), n)
	}
	if st := idxRunner.Stats(); st.Retries != 0 {
		t.Errorf("index stage retried %d times; it must not hold its input", st.Retries)
	}
	cancel()
	mem.CloseTopic("enriched")
	mem.CloseTopic("dead")
	for range 3 {
		if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}
}

// A second process (here: a second open) cannot open a shard another holds:
// the error says so instead of hanging.
func TestSecondOpenIsRefusedClearly(t *testing.T) {
	now := testNow
	c := testConfig(t)
	x := openTest(t, c, &now)
	if err := x.Index(many(3, "a")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := OpenWith(c, Options{ReadOnly: true, LockWait: 200 * time.Millisecond, Now: func() time.Time { return now }})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open of a held index: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to give up", d)
	}
	x.Close()
	r, err := OpenWith(c, Options{ReadOnly: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("read-only open once released: %v", err)
	}
	defer r.Close()
	res, err := r.Search(context.Background(), Query{Text: "*"})
	if err != nil || res.Total != 3 {
		t.Fatalf("read-only search: %v, %+v", err, res)
	}
	if out, err := r.Stage()(context.Background(), post.Batch{Items: many(1, "z")}); err == nil && len(out.Rejected) == 0 {
		t.Error("a read-only index accepted a write")
	}
}

// A shard that does not open (a corrupt file) is skipped with an error
// logged: the other days stay searchable and the index keeps running;
// posts of the broken day are dead-lettered.
func TestCorruptShardIsSkipped(t *testing.T) {
	now := testNow
	c := testConfig(t)
	x := openTest(t, c, &now)
	yesterday := doc{"y", "refund yesterday", "en", "NA", "negative", 30 * time.Hour, []string{"acme"}}
	if err := x.Index([]*post.Item{yesterday.item()}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	day := filepath.Join(c.Dir, testNow.Format(dayLayout))
	if err := os.MkdirAll(day, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(day, "index_meta.json"), []byte("{not json"), 0o644)
	y := openTest(t, c, &now)
	if r := search1(t, y, Query{Text: "refund"}); r.Total != 1 {
		t.Errorf("the good shard: %d hits", r.Total)
	}
	out, err := y.Stage()(context.Background(), post.Batch{Items: many(3, "c")})
	if err != nil || len(out.Rejected) != 3 || !strings.Contains(out.Rejected[0].Reason, testNow.Format(dayLayout)) {
		t.Errorf("posts for the broken day: %v, %+v", err, out.Rejected)
	}
	if got := testutil.ToFloat64(y.m.errors.WithLabelValues("open")); got != 1 {
		t.Errorf("open errors %v", got)
	}
}

// failingSearch is a shard whose reads fail, as on a broken disk.
type failingSearch struct{ shard }

func (failingSearch) SearchInContext(context.Context, *bleve.SearchRequest) (*bleve.SearchResult, error) {
	return nil, syscall.EIO
}

// A day that cannot be searched, or a query stopped by its deadline, is
// an error: bleve's alias of several days reports a failed day only in
// the result's status, which read as fewer hits (or none) and no error.
func TestFailedDayIsAnError(t *testing.T) {
	x := loaded(t) // posts over 4 days
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, exhaustive := range []bool{false, true} {
		if r, err := x.Search(cancelled, Query{Text: "acme", Exhaustive: exhaustive}); err == nil {
			t.Errorf("exhaustive %v: a cancelled search answered %d hits and no error", exhaustive, r.Total)
		}
	}
	k := testNow.Format(dayLayout)
	x.shards[k] = failingSearch{x.shards[k]}
	for _, exhaustive := range []bool{false, true} {
		r, err := x.Search(context.Background(), Query{Text: "acme", Exhaustive: exhaustive})
		if err == nil || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), k) {
			t.Errorf("exhaustive %v: a day that fails answered %v and %v, want an error naming %s", exhaustive, r, err, k)
		}
	}
}
