package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/stream"
)

// A replay that ran to the end of its file, as earshot runs it (counted,
// behind a source runner), leaves its checkpoint at the end: a restart
// replays nothing, however long the checkpoint interval.
func TestFileCheckpointAtTheEnd(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 250 {
		fmt.Fprintf(&in, `{"platform":"f","id":"%d","text":"t","created_at":"2026-11-01T10:00:00Z"}`+"\n", i)
	}
	path := filepath.Join(dir, "posts.ndjson")
	if err := os.WriteFile(path, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Source, cfg.File.Path, cfg.File.Checkpoint, cfg.File.CheckpointEvery = "file", path, filepath.Join(dir, "ckpt.json"), time.Hour
	replay := func() int64 {
		src, closer, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		out, _ := stream.NewMemory(16).Producer()
		r := &stream.SourceRunner{Name: "ingest", Src: src, Out: out, Topic: "posts", DeadTopic: "dead", BatchSize: 100, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := r.Run(context.Background(), time.Second); err != nil {
			t.Fatal(err)
		}
		return r.Stats().Out
	}
	if n := replay(); n != 250 {
		t.Fatalf("first replay: %d posts, want 250", n)
	}
	if n := replay(); n != 0 {
		t.Errorf("replay after a complete one: %d posts, want 0 (the checkpoint stayed behind the end)", n)
	}
}
