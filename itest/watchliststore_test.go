//go:build integration

package itest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// TestWatchlistStoreApprovalGoesLive drives the watchlist store through the
// CLI with a distributed configuration: each approval publishes the live
// set to <prefix>.watchlists on the real Kafka, and a running matcher that
// follows it (earshot match, match.follow: kafka) swaps the approved version
// in within seconds, recording it on its matches. A pending version never
// matches; a paused list stops matching.
func TestWatchlistStoreApprovalGoesLive(t *testing.T) {
	prefix, db := names(t)
	cfg := writeConfig(t, setup{prefix: prefix, db: db})
	body, _ := os.ReadFile(cfg)
	line := "  watchlists: " + filepath.Join(root, "deploy/examples/watchlists") + "\n"
	if !strings.Contains(string(body), line) {
		t.Fatalf("the test configuration changed shape:\n%s", body)
	}
	store := filepath.Join(t.TempDir(), "store")
	followed := filepath.Join(filepath.Dir(cfg), "store.yaml")
	os.WriteFile(followed, []byte(strings.Replace(string(body), line, "  follow: kafka\n  store: "+store+"\n", 1)), 0o644)

	dir := t.TempDir()
	wl := func(actor string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(append([]string{"watchlist"}, args...), "--config", followed, "--actor", actor)...).CombinedOutput()
		if err != nil {
			t.Fatalf("watchlist %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	change := func(rule string, ifVersion string) {
		t.Helper()
		file := filepath.Join(dir, "w.yaml")
		os.WriteFile(file, []byte("id: w\nname: W\nteam: care\nrule: "+rule+"\n"), 0o644)
		wl("ann", "apply", file, "--if-version", ifVersion)
		wl("ann", "submit", "w")
	}
	change("nike", "0")
	if out := wl("bob", "approve", "w", "--if-version", "1"); !strings.Contains(out, "w: version 1, live") {
		t.Fatalf("approve said %q", out)
	}
	m := start(t, "match", followed)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(kafkaAddr), Topic: prefix + ".posts", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	send := func(id, text string) {
		t.Helper()
		b, _ := post.Encode(nil, &post.Item{Post: &post.Post{Platform: "t", ID: id, Text: text, CreatedAt: time.Now()}})
		eventually(t, 30*time.Second, "the posts topic", func() bool { return w.WriteMessages(ctx, kafka.Message{Key: []byte(id), Value: b}) == nil })
	}
	matched := func() map[string]int {
		got := map[string]int{}
		for _, v := range readTopic(t, prefix+".matched") {
			it, _ := post.Decode(v)
			got[it.Post.ID] = it.Matches[0].Version
		}
		return got
	}
	send("1", "nike")
	eventually(t, time.Minute, "the nike post to match version 1", func() bool { return matched()["1"] == 1 })

	// A submitted edit does not match until it is approved.
	change("adidas", "1")
	send("2", "adidas")
	// Through the matcher before the approval: else, on another partition
	// than post 1 and behind it, post 2 could meet the approved version.
	caughtUp(t, prefix, "match", prefix+".posts")
	reloads := strings.Count(m.errs.String(), "watchlists reloaded")
	approved := time.Now()
	if out := wl("cat", "approve", "w", "--if-version", "2"); !strings.Contains(out, "w: version 2, live") {
		t.Fatalf("approve said %q", out)
	}
	eventually(t, 10*time.Second, "the matcher to swap the approved version in", func() bool {
		return strings.Count(m.errs.String(), "watchlists reloaded") > reloads
	})
	t.Logf("approved version 2 matching %v after the approval", time.Since(approved).Round(10*time.Millisecond))
	send("3", "adidas")
	send("4", "nike")
	eventually(t, 30*time.Second, "the adidas post to match version 2", func() bool { return matched()["3"] == 2 })
	caughtUp(t, prefix, "match", prefix+".posts") // post 4 too, whatever its partition
	got := matched()
	if _, ok := got["2"]; ok {
		t.Error("a post matched a version that was only pending")
	}
	if _, ok := got["4"]; ok {
		t.Error("the old version matched after the approval")
	}

	// Paused, the list leaves the live set on every matcher.
	reloads = strings.Count(m.errs.String(), "watchlists reloaded")
	wl("bob", "pause", "w")
	eventually(t, 10*time.Second, "the matcher to drop the paused list", func() bool {
		return strings.Count(m.errs.String(), "watchlists reloaded") > reloads
	})
	send("5", "adidas")
	caughtUp(t, prefix, "match", prefix+".posts")
	if _, ok := matched()["5"]; ok {
		t.Error("a paused list matched")
	}
	m.stop(t)

	// A matcher starting while nothing is live starts (on the stand-in),
	// and picks the resumed list up.
	m2 := start(t, "match", followed)
	eventually(t, 30*time.Second, "the second matcher to load the set", func() bool { return strings.Contains(m2.errs.String(), "watchlists loaded") })
	wl("bob", "resume", "w")
	eventually(t, 10*time.Second, "the second matcher to swap the resumed list in", func() bool {
		return strings.Contains(m2.errs.String(), "watchlists reloaded")
	})
	send("6", "adidas")
	eventually(t, 30*time.Second, "the resumed list to match version 2", func() bool { return matched()["6"] == 2 })

	out := wl("bob", "show", "w", "--history")
	for _, want := range []string{"apply", "submit", "approve", "pause", "resume", "cat"} {
		if !strings.Contains(out, want) {
			t.Errorf("the history lacks %q:\n%s", want, out)
		}
	}
	m2.stop(t)
}
