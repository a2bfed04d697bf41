package search

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
)

// TestLargePostIndexedBounded: a post of a megabyte of distinct words (the
// issue's 15.8 GB after 300 of them) is indexed as its first
// search.max_text_bytes, cut at a word, the cut recorded in the stored
// document and the hit (text_bytes) and counted in a metric; words past the
// cut are not searchable, words before it are.
func TestLargePostIndexedBounded(t *testing.T) {
	c := testConfig(t)
	c.MaxTextBytes = 4 << 10
	now := testNow
	reg := prometheus.NewRegistry()
	x, err := OpenWith(c, Options{Now: func() time.Time { return now }, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var b strings.Builder
	b.WriteString("firstword ")
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "w%07d ", i)
	}
	b.WriteString("lastword")
	text := b.String()
	if err := x.Index([]*post.Item{doc{"big", text, "en", "EMEA", "negative", time.Minute, []string{"acme"}}.item(),
		doc{"small", "firstword only", "en", "EMEA", "negative", time.Minute, []string{"acme"}}.item()}); err != nil {
		t.Fatal(err)
	}
	r, err := x.Search(context.Background(), Query{Text: "firstword"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 2 {
		t.Fatalf("firstword: %d hits, want 2", r.Total)
	}
	for _, h := range r.Hits {
		switch h.Key {
		case "x:big":
			if len(h.Text) > c.MaxTextBytes || !strings.HasPrefix(text, h.Text) || strings.HasSuffix(h.Text, " ") || h.TextBytes != len(text) {
				t.Errorf("big: text of %d bytes (a prefix: %v), text_bytes %d; want at most %d, cut at a word, text_bytes %d",
					len(h.Text), strings.HasPrefix(text, h.Text), h.TextBytes, c.MaxTextBytes, len(text))
			}
			if !strings.HasPrefix(text[len(h.Text):], " ") {
				t.Errorf("big: cut inside a word: …%q", h.Text[len(h.Text)-10:])
			}
		case "x:small":
			if h.TextBytes != 0 || h.Text != "firstword only" {
				t.Errorf("small: %+v", h)
			}
		}
	}
	if r, _ := x.Search(context.Background(), Query{Text: "lastword"}); r.Total != 0 {
		t.Errorf("a word past the cut was indexed: %d hits", r.Total)
	}
	if n := testutil.ToFloat64(x.m.truncated); n != 1 {
		t.Errorf("earshot_search_truncated_posts_total = %v, want 1", n)
	}
}

func TestMaxTextBytesBounded(t *testing.T) {
	for _, n := range []int{0, 100, 1 << 30} {
		c := DefaultConfig()
		c.MaxTextBytes = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "search.max_text_bytes") {
			t.Errorf("max_text_bytes %d: %v", n, err)
		}
	}
}

// BenchmarkIndexLargePost indexes posts of 1 MB of distinct words with the
// default max_text_bytes (32 KiB) and with the most allowed (1 MiB, about
// what was indexed before there was a bound):
//
//	go test -run XXX -bench BenchmarkIndexLargePost -benchmem -cpu 1 ./search/
func BenchmarkIndexLargePost(b *testing.B) {
	for _, max := range []int{32 << 10, MaxTextBytesHigh} {
		b.Run(fmt.Sprintf("max_text_bytes=%d", max), func(b *testing.B) {
			c := testConfig(b)
			c.MaxTextBytes = max
			now := testNow
			x := openTest(b, c, &now)
			n := 0
			b.SetBytes(1 << 20)
			b.ReportAllocs()
			for b.Loop() {
				var sb strings.Builder
				for sb.Len() < 1<<20 {
					fmt.Fprintf(&sb, "w%d ", n)
					n++
				}
				if err := x.Index([]*post.Item{doc{fmt.Sprint(n), sb.String(), "en", "EMEA", "negative", time.Minute, []string{"acme"}}.item()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestStageStopsWhenFinishEnds: once the runner's finish context ends (the
// shutdown timeout is over) the index stage gives the batch up at once,
// uncommitted and not dead-lettered, instead of indexing it to the end.
func TestStageStopsWhenFinishEnds(t *testing.T) {
	c := testConfig(t)
	now := testNow
	x := openTest(t, c, &now)
	var items []*post.Item
	for i := range 2000 {
		items = append(items, doc{fmt.Sprint(i), strings.Repeat(fmt.Sprintf("word%d ", i), 200), "en", "EMEA", "negative", time.Minute, []string{"acme"}}.item())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	out, err := x.Stage()(ctx, post.Batch{Items: items})
	if err == nil || len(out.Rejected) != 0 {
		t.Fatalf("err %v, %d dead letters; want an error and none", err, len(out.Rejected))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to give up", d)
	}
	if r, _ := x.Search(context.Background(), Query{Text: "word1"}); r.Total != 0 {
		t.Errorf("%d posts indexed after the stop", r.Total)
	}
}

// TestBigBatchWrittenInPieces: a batch of big posts is written in pieces
// of about maxWriteText, and a stop that comes during one piece ends the
// batch there: the next piece is not written, and the batch is given up
// (redelivered), not dead-lettered.
func TestBigBatchWrittenInPieces(t *testing.T) {
	c := testConfig(t)
	now := testNow
	x := openTest(t, c, &now)
	var items []*post.Item
	for i := range 3 * maxWriteText / c.MaxTextBytes {
		items = append(items, doc{fmt.Sprint(i), strings.Repeat(fmt.Sprintf("big%d ", i), c.MaxTextBytes/5), "en", "EMEA", "negative", time.Minute, []string{"acme"}}.item())
	}
	ctx, cancel := context.WithCancel(context.Background())
	writes := 0
	x.failWrites = func() error {
		writes++
		cancel() // the stop arrives while the first piece is written
		return nil
	}
	out, err := x.Stage()(ctx, post.Batch{Items: items})
	if err == nil || len(out.Rejected) != 0 {
		t.Fatalf("err %v, %d dead letters; want an error and none", err, len(out.Rejected))
	}
	if writes != 1 {
		t.Errorf("%d writes after the stop, want the first piece only", writes)
	}
	// Without a stop, the batch goes in several pieces, all of it.
	x.failWrites = func() error { writes++; return nil }
	writes = 0
	if out, err := x.Stage()(context.Background(), post.Batch{Items: items}); err != nil || len(out.Rejected) != 0 {
		t.Fatal(err, out.Rejected)
	}
	if writes < 3 {
		t.Errorf("%d writes for %d posts of %d bytes; want pieces of about %d bytes", writes, len(items), c.MaxTextBytes, maxWriteText)
	}
	if r, _ := x.Search(context.Background(), Query{Text: "big0"}); r.Total != 1 {
		t.Errorf("big0: %d hits", r.Total)
	}
}
