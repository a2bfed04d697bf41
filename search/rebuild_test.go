package search

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// oldShard writes a shard of day as earshot did before textnorm: bleve's
// own analyzers, no analysis version recorded.
func oldShard(t *testing.T, dir, day string, docs ...doc) {
	t.Helper()
	im, err := newMapping()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range analyzers {
		name := a
		if a == "std" || a == "el" {
			name = standard.Name
		}
		im.DefaultMapping.Properties[textPrefix+a].Fields[0].Analyzer = name
	}
	b, err := newDocBuilder(im)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bleve.NewUsing(filepath.Join(dir, day), im, scorch.Name, scorch.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := s.NewBatch()
	for _, d := range docs {
		it := d.item()
		dd, err := b.doc(it.Post.Key(), it, it.Post.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if err := batch.IndexAdvanced(dd); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Batch(batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOldAnalysisShardRebuilt: a shard written with bleve's analyzers (no
// analysis version) does not find a fullwidth "ＡＣＭＥ" by "acme"; a
// read-only index is refused with a reason naming the fix; opened by the
// pipeline it is rebuilt from its stored posts, keeps every post and its
// facets, and finds it.
func TestOldAnalysisShardRebuilt(t *testing.T) {
	c := testConfig(t)
	now := testNow
	day := testNow.Format(dayLayout)
	oldShard(t, c.Dir, day,
		doc{"1", "I love ＡＣＭＥ phones", "en", "EMEA", "positive", time.Hour, []string{"acme"}},
		doc{"2", "ΑΘΗΝΑ σήμερα", "el", "EMEA", "neutral", time.Hour, []string{"acme"}})

	if ro, err := OpenWith(c, Options{Now: func() time.Time { return now }, ReadOnly: true}); !errors.Is(err, ErrOldAnalysis) ||
		!strings.Contains(err.Error(), "start the pipeline once") {
		t.Errorf("read-only open of an index with an old shard: %v, want ErrOldAnalysis saying what to do", err)
		if ro != nil {
			ro.Close()
		}
	}

	x := openTest(t, c, &now)
	for q, want := range map[string]string{"acme": "x:1", "αθηνα": "x:2", "Αθήνα": "x:2"} {
		r, err := x.Search(context.Background(), Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if r.Total != 1 || r.Hits[0].Key != want {
			t.Errorf("search %q after the rebuild: %d hits %v, want %s", q, r.Total, keys(r), want)
		}
	}
	r, err := x.Search(context.Background(), Query{Regions: []string{"EMEA"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 2 || len(r.Facets["watchlist"]) != 1 || r.Facets["watchlist"][0].Count != 2 {
		t.Errorf("after the rebuild: %d posts, watchlist facets %v; want 2, acme: 2", r.Total, r.Facets["watchlist"])
	}
}

// TestRebuildCutShort: a rebuild killed after moving the old shard aside
// (DAY.old, a half-built DAY.rebuild, no DAY) loses nothing: the next open
// puts the old shard back, rebuilds it and finds its posts.
func TestRebuildCutShort(t *testing.T) {
	c := testConfig(t)
	now := testNow
	day := testNow.Format(dayLayout)
	oldShard(t, c.Dir, day, doc{"1", "I love ＡＣＭＥ phones", "en", "EMEA", "positive", time.Hour, []string{"acme"}})
	path := filepath.Join(c.Dir, day)
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path+".rebuild", "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := openTest(t, c, &now)
	r, err := x.Search(context.Background(), Query{Text: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 1 {
		t.Errorf("after a rebuild cut short: %d hits for acme, want 1", r.Total)
	}
	for _, leftover := range []string{path + ".old", path + ".rebuild"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s is left", leftover)
		}
	}
}
