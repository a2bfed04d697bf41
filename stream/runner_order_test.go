package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// change is a record of post id: the post itself (kind "") or a later edit
// or delete of it.
func change(id, kind string, offset int64) Delivery {
	return Delivery{Item: &post.Item{Post: &post.Post{Platform: "t", ID: id, Kind: kind}}, Offset: offset}
}

// runOrdered runs a runner with workers over the fixed batches, with a stage
// that takes slow for any batch holding a record of kind "" (a post) and no
// time otherwise, and returns what it produced, in order, once every batch
// is committed.
func runOrdered(t *testing.T, workers int, slow time.Duration, batches ...[]Delivery) ([]Delivery, *commitLog) {
	t.Helper()
	var last int64
	for _, b := range batches {
		for _, d := range b {
			last = max(last, d.Offset)
		}
	}
	in := &commitLog{batches: batches}
	m := NewMemory(1024)
	out, _ := m.Producer()
	got := collect(t, m, "out")
	r := &Runner{
		Name: "order", In: in, Out: out, DeadTopic: "dead", Log: quiet, Metrics: NewMetrics(prometheus.NewRegistry()),
		Config: RunnerConfig{BatchSize: 100, Workers: workers, ShutdownTimeout: 5 * time.Second},
		Stage: func(_ context.Context, b post.Batch) (post.Batch, error) {
			for _, it := range b.Items {
				if it.Post.Kind == "" {
					time.Sleep(slow)
					break
				}
			}
			return b, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		in.mu.Lock()
		n := len(in.commits)
		top := int64(-1)
		if n > 0 {
			top = in.commits[n-1].Offset
		}
		in.mu.Unlock()
		if top == last {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("out")
	return got(), in
}

// With several workers, a post and its delete in consecutive batches of one
// partition must come out in their order, however long the post's batch
// takes: otherwise route sees the delete first, has no alert to retract, and
// then raises one for a deleted post.
func TestRunnerKeepsOrderPerPostWithWorkers(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			got, _ := runOrdered(t, workers, 50*time.Millisecond,
				[]Delivery{change("a", "", 0)},
				[]Delivery{change("a", post.KindDelete, 1)},
			)
			var kinds []string
			for _, d := range got {
				kinds = append(kinds, d.Item.Post.Kind)
			}
			if len(kinds) != 2 || kinds[0] != "" || kinds[1] != post.KindDelete {
				t.Fatalf("produced kinds %q, want the post, then its delete", kinds)
			}
		})
	}
}

// Many posts, each followed by an edit and a delete in later batches, some
// in the same batch: each post's records come out in offset order, every
// record once, and the last commit covers the last offset.
func TestRunnerKeepsOrderPerPostManyPosts(t *testing.T) {
	const posts = 40
	var batches [][]Delivery
	var off int64
	for round, kind := range []string{"", post.KindEdit, post.KindDelete} {
		for lo := 0; lo < posts; lo += 7 {
			var b []Delivery
			for i := lo; i < min(lo+7, posts); i++ {
				b = append(b, change(fmt.Sprint(i), kind, off))
				off++
			}
			if round == 2 && lo == 0 {
				b = append(b, Delivery{Err: fmt.Errorf("bad bytes"), Offset: off}) // a record without an item, in the middle
				off++
			}
			batches = append(batches, b)
		}
	}
	got, in := runOrdered(t, 3, 2*time.Millisecond, batches...)
	seen := map[string][]string{}
	for _, d := range got {
		seen[d.Item.Post.ID] = append(seen[d.Item.Post.ID], d.Item.Post.Kind)
	}
	for i := range posts {
		k := seen[fmt.Sprint(i)]
		if len(k) != 3 || k[0] != "" || k[1] != post.KindEdit || k[2] != post.KindDelete {
			t.Errorf("post %d: kinds %q, want post, edit, delete", i, k)
		}
	}
	if n := len(in.commits); n == 0 || in.commits[n-1].Offset != off-1 {
		t.Errorf("commits %v, want the last at %d", in.commits, off-1)
	}
	for i := 1; i < len(in.commits); i++ {
		if in.commits[i].Offset < in.commits[i-1].Offset {
			t.Errorf("commit moved back: %v", in.commits)
		}
	}
}

// Records of different posts still run on several workers at once: two
// posts that fall to different workers are in the stage together.
func TestRunnerRunsDifferentPostsInParallel(t *testing.T) {
	a, b := "a", otherShard("a")
	var mu sync.Mutex
	inStage, most := 0, 0
	in := &commitLog{batches: [][]Delivery{{change(a, "", 0), change(b, "", 1)}}}
	m := NewMemory(16)
	out, _ := m.Producer()
	got := collect(t, m, "out")
	r := &Runner{
		Name: "par", In: in, Out: out, DeadTopic: "dead", Log: quiet,
		Config: RunnerConfig{BatchSize: 100, Workers: 2, ShutdownTimeout: 5 * time.Second},
		Stage: func(_ context.Context, bt post.Batch) (post.Batch, error) {
			mu.Lock()
			inStage++
			most = max(most, inStage)
			mu.Unlock()
			wait := time.Now().Add(5 * time.Second)
			for time.Now().Before(wait) { // wait for the other worker, or give up
				mu.Lock()
				n := most
				mu.Unlock()
				if n == 2 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			mu.Lock()
			inStage--
			mu.Unlock()
			return bt, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		in.mu.Lock()
		n := len(in.commits)
		in.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	m.CloseTopic("out")
	if len(got()) != 2 || most != 2 {
		t.Errorf("produced %d, at most %d stage calls at once; want 2 and 2", len(got()), most)
	}
}

// otherShard returns an id whose post falls to another of 2 workers than a's.
func otherShard(a string) string {
	for i := 0; ; i++ {
		if id := fmt.Sprint(i); shardOf(&post.Item{Post: &post.Post{Platform: "t", ID: id}}, 2) != shardOf(&post.Item{Post: &post.Post{Platform: "t", ID: a}}, 2) {
			return id
		}
	}
}

// When one shard of a batch keeps failing and the runner stops, the batch is
// not committed, though its other shard was produced: it is redelivered whole.
func TestRunnerLeavesBatchUncommittedWhenAShardIsAbandoned(t *testing.T) {
	a, b := "a", otherShard("a")
	in := &commitLog{batches: [][]Delivery{{change(a, "", 0), change(b, "", 1)}}}
	m := NewMemory(16)
	out, _ := m.Producer()
	got := collect(t, m, "out")
	r := &Runner{
		Name: "half", In: in, Out: out, DeadTopic: "dead", Log: quiet,
		Config: RunnerConfig{BatchSize: 100, Workers: 2, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, bt post.Batch) (post.Batch, error) {
			if bt.Items[0].Post.ID == b {
				return post.Batch{}, fmt.Errorf("store down for %s", b)
			}
			return bt, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && r.Stats().Out == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel while a shard kept failing")
	}
	m.CloseTopic("out")
	if g := got(); len(g) != 1 || g[0].Item.Post.ID != a {
		t.Errorf("produced %d records, want only %s's", len(g), a)
	}
	if len(in.commits) != 0 {
		t.Errorf("committed %v for a batch with a shard that never succeeded", in.commits)
	}
	if s := r.Stats(); s.InFlight != 0 {
		t.Errorf("in flight %d after stop, want 0", s.InFlight)
	}
}

func TestFetchSize(t *testing.T) {
	for _, c := range []struct{ batch, workers, want int }{
		{500, 1, 500}, {500, 2, 1000}, {50_000, 2, 100_000}, {100_000, 4, 100_000}, {100_000, 256, 100_000}, {1, 256, 256},
	} {
		if got := fetchSize(c.batch, c.workers); got != c.want {
			t.Errorf("fetchSize(%d, %d) = %d, want %d", c.batch, c.workers, got, c.want)
		}
	}
}

// A shard that fails forever holds back the commits of the batches after
// its own, though their shards (on the other workers) are produced: on the
// stop nothing past the failing batch is committed, and it and they are
// redelivered. A partition that only later batches touched is committed.
func TestRunnerCommitsNothingPastAFailingShard(t *testing.T) {
	a, b := "a", otherShard("a")
	elsewhere := change(b, "", 0)
	elsewhere.Partition = 1
	in := &commitLog{batches: [][]Delivery{
		{change(a, "", 0), change(b, "", 1)},
		{change(b, "edit", 2), change(b, "delete", 3)},
		{elsewhere},
	}}
	m := NewMemory(16)
	out, _ := m.Producer()
	got := collect(t, m, "out")
	r := &Runner{
		Name: "stuck", In: in, Out: out, DeadTopic: "dead", Log: quiet,
		Config: RunnerConfig{BatchSize: 100, Workers: 2, ShutdownTimeout: time.Second},
		Stage: func(_ context.Context, bt post.Batch) (post.Batch, error) {
			if bt.Items[0].Post.ID == a {
				return post.Batch{}, fmt.Errorf("store down for %s", a)
			}
			return bt, nil
		},
		Topic: func(*post.Item) string { return "out" },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && r.Stats().Out < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel while a shard kept failing")
	}
	m.CloseTopic("out")
	if g := got(); len(g) != 4 {
		t.Errorf("produced %d records, want b's three and the other partition's", len(g))
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, p := range in.commits {
		if p.Partition == 0 {
			t.Errorf("committed partition 0 at %d, past the batch whose shard never succeeded", p.Offset)
		}
	}
	if len(in.commits) != 1 || in.commits[0] != (Position{Partition: 1, Offset: 0}) {
		t.Errorf("commits %v, want partition 1 at 0 alone", in.commits)
	}
}
