package match

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestWatchReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.yaml")
	write := func(body string) {
		t.Helper()
		// A new name each time is not needed: size or time changes are seen.
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		future := time.Now().Add(time.Duration(len(body)) * time.Second)
		os.Chtimes(path, future, future)
	}
	write("id: w\nrule: nike\n")
	lists, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(lists)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, dir, 10*time.Millisecond, m, slog.New(slog.NewTextHandler(&logs, nil)))
		close(done)
	}()
	defer func() { cancel(); <-done }()

	wait := func(what string, f func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !f(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
			}
		}
	}
	matches := func(text string) bool { return len(m.Match(&post.Post{Text: text})) > 0 }

	write("id: w\nversion: 2\nrule: adidas\n")
	wait("the new rule", func() bool { return matches("adidas") })
	if matches("nike") {
		t.Error("the old rule still matches after the reload")
	}
	if v := m.Match(&post.Post{Text: "adidas"})[0].Version; v != 2 {
		t.Errorf("version = %d, want 2", v)
	}

	write("id: w\nversion: 3\nrule: puma AND\n")
	wait("the error to be reported", func() bool { return strings.Contains(logs.String(), "do not load; keeping what is in force") })
	if !matches("adidas") || matches("puma") {
		t.Error("a broken set replaced the live one")
	}
}

// An unchanged directory is never recompiled: a large set costs seconds of
// CPU each time, and shutdown waits for a compile in progress.
func TestWatchSkipsUnchanged(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.yaml"), []byte("id: w\nrule: nike\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state, err := DirState(dir)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(lists)
	if err != nil {
		t.Fatal(err)
	}
	first := m.Engine()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	WatchFrom(ctx, dir, state, 10*time.Millisecond, m, slog.New(slog.DiscardHandler))
	if m.Engine() != first {
		t.Error("an unchanged directory was recompiled")
	}
}

// An edit that keeps the file's size and modification time (in place,
// within the file system's time granularity) is still reloaded: the
// watcher compares contents, not names, sizes and times.
func TestWatchSeesSameSizeAndTime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.yaml")
	mod := time.Unix(1_800_000_000, 0)
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	write("id: w\nrule: nike\n")
	state, err := DirState(dir)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(lists)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { WatchFrom(ctx, dir, state, 10*time.Millisecond, m, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()
	write("id: w\nrule: puma\n") // as long as "nike"
	for deadline := time.Now().Add(3 * time.Second); len(m.Match(&post.Post{Text: "puma"})) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an edit keeping size and time was not reloaded")
		}
	}
}

// A touch (new time, same bytes) does not recompile the set.
func TestWatchIgnoresTouch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.yaml")
	if err := os.WriteFile(path, []byte("id: w\nrule: nike\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state, err := DirState(dir)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(lists)
	if err != nil {
		t.Fatal(err)
	}
	first := m.Engine()
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	WatchFrom(ctx, dir, state, 10*time.Millisecond, m, slog.New(slog.DiscardHandler))
	if m.Engine() != first {
		t.Error("a touched, unchanged file was recompiled")
	}
}
