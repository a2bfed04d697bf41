package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
)

// fakeConn is an in-process stand-in for ClickHouse, for fast tests of
// the halving: a batch is refused when it holds a poisoned post key, like
// a server whose view cannot take a value; it can also fail as a network
// does. The integration tests do the same against the real server.
type fakeConn struct {
	driver.Conn
	mu       sync.Mutex
	poison   map[string]bool
	down     int // fail this many sends with a network error first
	sends    int
	inserted map[string]int // post key → rows inserted into posts
}

func (c *fakeConn) PrepareBatch(_ context.Context, q string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	return &fakeBatch{c: c, posts: strings.Contains(q, ".posts ")}, nil
}

type fakeBatch struct {
	driver.Batch
	c     *fakeConn
	posts bool
	keys  []string
	rows  int
}

func (b *fakeBatch) Append(v ...any) error {
	if b.posts {
		b.keys = append(b.keys, v[0].(string))
	}
	b.rows++
	return nil
}
func (b *fakeBatch) Abort() error { return nil }
func (b *fakeBatch) Rows() int    { return b.rows }
func (b *fakeBatch) Send() error {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	b.c.sends++
	if b.c.down > 0 {
		b.c.down--
		return errors.New("read tcp 127.0.0.1:9000: connection reset by peer")
	}
	for _, k := range b.keys {
		if b.c.poison[k] {
			return &clickhouse.Exception{Code: 6, Message: fmt.Sprintf("Cannot parse string 'x' as UInt64 (post %s)", k)}
		}
	}
	for _, k := range b.keys {
		b.c.inserted[k]++
	}
	return nil
}

func fakeSink(c *fakeConn) *Sink {
	s := NewWith(c, Config{Database: "db"}, Options{})
	s.migrated, s.rowWise = true, true
	return s
}

func itemsN(n int) []*post.Item {
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	out := make([]*post.Item, n)
	for i := range out {
		out[i] = &post.Item{Post: &post.Post{Platform: "x", ID: fmt.Sprint(i), CreatedAt: at}, Matches: []post.Match{{Watchlist: "w"}}}
	}
	return out
}

func TestHalvingFindsEveryRejectedItem(t *testing.T) {
	for _, tc := range []struct {
		n      int
		poison []int
	}{
		{1, []int{0}},
		{100, []int{37}},
		{100, []int{0, 1, 99}},
		{1000, []int{5, 250, 251, 999}},
		{64, nil},
	} {
		c := &fakeConn{poison: map[string]bool{}, inserted: map[string]int{}}
		for _, i := range tc.poison {
			c.poison[fmt.Sprintf("x:%d", i)] = true
		}
		out, err := fakeSink(c).Stage()(context.Background(), post.Batch{Items: itemsN(tc.n)})
		if err != nil {
			t.Fatalf("%d items: %v", tc.n, err)
		}
		if len(out.Rejected) != len(tc.poison) {
			t.Errorf("%d items, poison %v: %d rejected", tc.n, tc.poison, len(out.Rejected))
		}
		for _, r := range out.Rejected {
			if !c.poison[r.Item.Key()] || !strings.Contains(r.Reason, "Cannot parse string") || !strings.Contains(r.Reason, r.Item.Key()) {
				t.Errorf("rejected %s: %s", r.Item.Key(), r.Reason)
			}
			if r.Class != post.ClassStoreFailed {
				t.Errorf("rejected %s: class %q, want store_failed", r.Item.Key(), r.Class)
			}
		}
		// Every good item is written (at least once: halves are rewritten,
		// which the tables' deduplication collapses); no bad one is.
		for i := range tc.n {
			k := fmt.Sprintf("x:%d", i)
			if got := c.inserted[k]; c.poison[k] != (got == 0) {
				t.Errorf("%d items: %s inserted %d times (poisoned %v)", tc.n, k, got, c.poison[k])
			}
		}
		// Halving costs about 2·log2(n) sends per bad item.
		if limit := 2 + len(tc.poison)*4*(bitLen(tc.n)+1); c.sends > limit {
			t.Errorf("%d items, %d bad: %d sends, want at most %d", tc.n, len(tc.poison), c.sends, limit)
		}
	}
}

func bitLen(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}

// A network failure is not a rejection: the stage fails as a whole for
// the runner to retry, rejecting nothing, even midway through halving.
func TestNetworkFailureIsRetriedNotRejected(t *testing.T) {
	c := &fakeConn{poison: map[string]bool{"x:3": true}, inserted: map[string]int{}, down: 1}
	s := fakeSink(c)
	out, err := s.Stage()(context.Background(), post.Batch{Items: itemsN(10)})
	if err == nil || len(out.Rejected) != 0 || Rejection(err) {
		t.Fatalf("first try: err %v, rejected %d; want an error to retry", err, len(out.Rejected))
	}
	// The runner's retry then finds the bad item.
	out, err = s.Stage()(context.Background(), post.Batch{Items: itemsN(10)})
	if err != nil || len(out.Rejected) != 1 || out.Rejected[0].Item.Key() != "x:3" {
		t.Fatalf("retry: err %v, rejected %+v", err, out.Rejected)
	}
}
