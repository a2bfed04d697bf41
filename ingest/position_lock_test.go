package ingest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Two processes on one checkpoint (a second `earshot run` on the same state
// directory, a second tenant's config pointed at the first's) each saved
// their own position over the other's: a restart of the one behind resumed
// at the other's position and skipped, for its own outputs, every post in
// between. The second is refused at start; the first's lock goes with it
// (a crash included: the kernel drops the lock of a dead process).
func TestSecondSourceOnOneCheckpointIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posts.ndjson")
	if err := os.WriteFile(path, []byte(`{"platform":"x","id":"1","text":"hello","created_at":"2026-11-20T10:00:00Z"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Source, c.File.Path, c.File.Checkpoint = "file", path, filepath.Join(dir, "state", "ckpt.json")
	os.Mkdir(filepath.Join(dir, "state"), 0o700)
	_, first, err := OpenWith(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := OpenWith(c, Options{})
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second source opened the checkpoint the first holds")
	}
	if !strings.Contains(err.Error(), c.File.Checkpoint) || !strings.Contains(err.Error(), "another process") {
		t.Errorf("error %q does not name the checkpoint and say why", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	_, again, err := OpenWith(c, Options{})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	again.Close()
}

// The live sources' cursor files are positions too.
func TestSecondSourceOnOneCursorIsRefused(t *testing.T) {
	dir := t.TempDir()
	c := DefaultConfig()
	c.Source = "bluesky"
	c.Bluesky.CursorFile = filepath.Join(dir, "bluesky.cursor")
	_, first, err := OpenWith(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, second, err := OpenWith(c, Options{}); err == nil {
		second.Close()
		t.Fatal("a second source opened the cursor file the first holds")
	}
}

// A position that cannot be saved (its directory read-only, or another
// user's) is refused at start: the source used to read and hand on the
// whole input while every save failed, logging once a checkpoint interval,
// and to fail only at the end, with nothing saved.
func TestUnwritablePositionRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posts.ndjson")
	if err := os.WriteFile(path, []byte(`{"platform":"x","id":"1","text":"hello","created_at":"2026-11-20T10:00:00Z"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o755)
	c := DefaultConfig()
	c.Source, c.File.Path, c.File.Checkpoint = "file", path, filepath.Join(state, "ckpt.json")
	// A first run left its lock file (and checkpoint) there.
	_, first, err := OpenWith(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	if os.Geteuid() == 0 {
		// root writes through permissions: a read-only bind mount.
		if out, err := exec.Command("mount", "--bind", state, state).CombinedOutput(); err != nil {
			t.Skipf("cannot bind-mount: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", "-l", state).Run() })
		if out, err := exec.Command("mount", "-o", "remount,bind,ro", state).CombinedOutput(); err != nil {
			t.Skipf("cannot remount read-only: %v %s", err, out)
		}
	} else {
		os.Chmod(state, 0o555)
		t.Cleanup(func() { os.Chmod(state, 0o755) })
	}
	_, src, err := OpenWith(c, Options{})
	if err == nil {
		src.Close()
		t.Fatal("a source whose checkpoint cannot be saved opened")
	}
	if !strings.Contains(err.Error(), c.File.Checkpoint) {
		t.Errorf("error %q does not name the checkpoint", err)
	}
}
