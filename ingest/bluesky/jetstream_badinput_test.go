package bluesky

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/earshot-dev/earshot/ingest/canon"
)

// TestJetstreamCorruptZstd: with compression on, a binary frame that is
// not zstd, and a cut text event, are each a dead letter saying why; the
// connection is kept and every post around them still arrives.
func TestJetstreamCorruptZstd(t *testing.T) {
	evs := loadEvents(t)
	dict := zstdDict(t, evs)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDict(dict))
	if err != nil {
		t.Fatal(err)
	}
	srv := &jetstreamServer{t: t, events: evs, zenc: enc, script: []step{{garbage: true}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cfg := DefaultConfig()
	cfg.Endpoints = []string{"ws" + strings.TrimPrefix(ts.URL, "http") + "/subscribe"}
	cfg.Compress = true
	cfg.ZstdDictionary = filepath.Join(t.TempDir(), "dict")
	os.WriteFile(cfg.ZstdDictionary, dict, 0o644)
	lc := testLive()
	lc.MaxMessage = 1 << 20
	src, err := Open(cfg, lc, canon.NewNormalizer(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := 0
	var reasons []string
	for n < 33 || len(reasons) < 2 {
		b, err := src.Next(ctx, 100)
		if err != nil {
			t.Fatalf("after %d posts and dead letters %q: %v", n, reasons, err)
		}
		for _, r := range b.Rejected {
			reasons = append(reasons, r.Reason)
		}
		n += len(b.Items)
	}
	if r := strings.Join(reasons, "\n"); len(reasons) != 2 || !strings.Contains(r, "zstd: ") || !strings.Contains(r, "malformed JSON") {
		t.Errorf("dead letters %q, want the corrupt zstd frame and the cut event", reasons)
	}
	if c := srv.conns.Load(); c != 1 {
		t.Errorf("%d connections: bad frames must not cost a reconnect", c)
	}
}
