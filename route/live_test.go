package route

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

// A changed policy file applies from the next batch, without a restart; a
// broken one, or one adding queues, is reported and the policy in force
// keeps running.
func TestLiveReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "routing.yaml")
	write := func(body string) {
		t.Helper()
		tmp := path + ".tmp"
		os.WriteFile(tmp, []byte(body), 0o644)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("queues: [care, pr]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P3}\n")
	cfg := Config{Policy: path}
	p, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	live := NewLive(p, cfg)
	stage := live.Stage(time.Now)
	var logs syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go live.Watch(ctx, cfg, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	n := 0
	route := func() *post.Alert {
		n++
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.ID = strings.Repeat("x", n)
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("stage: %v, %d items", err, len(out.Items))
		}
		return out.Items[0].Alert
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; log:\n%s", what, logs.String())
			}
		}
	}
	if a := route(); a.Queue != "care" || a.Priority != "P3" {
		t.Fatalf("before: %+v", a)
	}
	write("queues: [care, pr]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: pr, priority: P1}\n")
	waitFor("the reload", func() bool { return live.Policy().Rules[0].Queue == "pr" })
	if a := route(); a.Queue != "pr" || a.Priority != "P1" {
		t.Errorf("after the reload: %+v", a)
	}
	write("queues: [care, pr]\nrules:\n  - {name: neg, queue: nowhere, priority: P1}\n")
	waitFor("the broken file to be reported", func() bool { return strings.Contains(logs.String(), "do not load") })
	write("queues: [care, pr, legal]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: legal, priority: P1}\n")
	waitFor("the new queue to be refused", func() bool { return strings.Contains(logs.String(), "restart to add queues") })
	if a := route(); a.Queue != "pr" {
		t.Errorf("a refused policy took effect: %+v", a)
	}
}

// A touched file (same contents, new time) reloads nothing; a changed
// organisation file reloads the policy too.
func TestLiveReloadOnlyOnNewContents(t *testing.T) {
	dir := t.TempDir()
	policy, org := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "org.yaml")
	os.WriteFile(policy, []byte("queues: [care]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P3}\n"), 0o644)
	os.WriteFile(org, []byte(testOrg), 0o644)
	cfg := Config{Policy: policy, Org: org}
	p, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	live := NewLive(p, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { live.Watch(ctx, cfg, 5*time.Millisecond, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()
	later := time.Now().Add(time.Hour)
	os.Chtimes(policy, later, later)
	os.Chtimes(org, later, later)
	time.Sleep(100 * time.Millisecond)
	if live.Policy() != p {
		t.Fatal("a touch reloaded the policy")
	}
	os.WriteFile(org, []byte(testOrg+"\n# a comment\n"), 0o644)
	for deadline := time.Now().Add(5 * time.Second); live.Policy() == p; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a changed organisation file was not reloaded")
		}
	}
}
