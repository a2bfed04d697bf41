package sink

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// Records on the wrong topic are dead letters, decided before any write:
// no ClickHouse is needed (the sink has no connection here).
func TestMisroutedRecordsAreRejected(t *testing.T) {
	s := NewWith(nil, Config{Database: "db"}, Options{})
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	plain := &post.Item{Post: &post.Post{Platform: "x", ID: "1", CreatedAt: at}}
	vol := post.CountVolume([]*post.Item{plain})[0]
	for _, tc := range []struct {
		name  string
		stage func(context.Context, post.Batch) (post.Batch, error)
		item  *post.Item
		want  string
	}{
		{"volume on enriched", s.Stage(), vol, "volume record on the enriched topic"},
		{"post on an alert topic", s.AlertStage(), plain, "carries no alert"},
		{"post on the volume topic", s.VolumeStage(), plain, "carries no volume"},
	} {
		out, err := tc.stage(context.Background(), post.Batch{Items: []*post.Item{tc.item}})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(out.Rejected) != 1 || out.Rejected[0].Item != tc.item || !strings.Contains(out.Rejected[0].Reason, tc.want) {
			t.Errorf("%s: rejected %+v, want the item with %q", tc.name, out.Rejected, tc.want)
		}
	}
	// A post that matched nothing (an edit out of every watchlist) is not
	// stored, and not an error either.
	out, err := s.Stage()(context.Background(), post.Batch{Items: []*post.Item{plain}})
	if err != nil || len(out.Rejected) != 0 {
		t.Errorf("unmatched edit: %v %+v", err, out.Rejected)
	}
}

func TestCheckTime(t *testing.T) {
	for _, tc := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Unix(0, 0), true},
		{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Unix(1<<32-1, 0), true},
		{time.Unix(1<<32, 0), false},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{time.Time{}, false},
	} {
		if err := checkTime("created_at", tc.t); (err == nil) != tc.ok {
			t.Errorf("checkTime(%v) = %v, want ok %v", tc.t, err, tc.ok)
		}
	}
	if got := optTime(time.Time{}); !got.Equal(time.Unix(0, 0)) {
		t.Errorf("optTime(zero) = %v, want 1970-01-01", got)
	}
	if q := quote(`it's \ here`); q != `'it\'s \\ here'` {
		t.Errorf("quote: %s", q)
	}
}

// A volume record with a cell of a minute ClickHouse cannot store: that
// cell is a dead letter, the others go on to be written.
func TestVolumeCellOutOfRange(t *testing.T) {
	s := NewWith(nil, Config{Database: "db"}, Options{})
	far := &post.Item{Post: &post.Post{Platform: "x", ID: "far", CreatedAt: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}}
	vol := post.CountVolume([]*post.Item{far})[0]
	out, err := s.VolumeStage()(context.Background(), post.Batch{Items: []*post.Item{vol}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rejected) != 1 || len(out.Rejected[0].Item.Volume.Cells) != 1 || !strings.Contains(out.Rejected[0].Reason, "2200-01-01") {
		t.Fatalf("rejected %+v", out.Rejected)
	}
}

// sink.compression names a wire compression the driver has, and Open
// refuses any other rather than falling back to one silently.
func TestCompressionConfig(t *testing.T) {
	for name, ok := range map[string]bool{"": true, "lz4": true, "zstd": true, "none": true, "gzip": false, "LZ4": false} {
		c := DefaultConfig()
		c.Enabled, c.Compression = true, name
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("compression %q: Validate() = %v, want ok %v", name, err, ok)
		}
		conn, err := Open(c) // lazy: nothing is dialled
		if (err == nil) != ok {
			t.Errorf("compression %q: Open() error %v, want ok %v", name, err, ok)
		}
		if conn != nil {
			conn.Close()
		}
	}
}

// keyChunks keeps every key, in order, in lists of at most the limit
// (a key over it alone).
func TestKeyChunks(t *testing.T) {
	keys := []string{"'a'", "'bb'", "'ccc'", "'" + strings.Repeat("d", 20) + "'", "'e'"}
	got := keyChunks(keys, 12)
	want := []string{"'a', 'bb'", "'ccc'", "'" + strings.Repeat("d", 20) + "'", "'e'"}
	if !slices.Equal(got, want) {
		t.Errorf("keyChunks = %q, want %q", got, want)
	}
	if got := keyChunks(nil, 12); len(got) != 0 {
		t.Errorf("no keys: %q", got)
	}
}
