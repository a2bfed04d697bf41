//go:build integration

package itest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// TestWatchlistsFollowKafka publishes a watchlist set, starts a matcher that
// follows it, changes the set under load and checks that the matcher swaps
// it in without a restart, recording the new version.
func TestWatchlistsFollowKafka(t *testing.T) {
	prefix, db := names(t)
	cfg := writeConfig(t, setup{prefix: prefix, db: db})
	body, _ := os.ReadFile(cfg)
	followed := filepath.Join(filepath.Dir(cfg), "follow.yaml")
	os.WriteFile(followed, []byte(strings.Replace(string(body), "match:\n", "match:\n  follow: kafka\n", 1)), 0o644)

	dir := t.TempDir()
	publish := func(rule string, version int) string {
		t.Helper()
		os.WriteFile(filepath.Join(dir, "w.yaml"), []byte("id: w\nversion: "+strconv.Itoa(version)+"\nrule: "+rule+"\n"), 0o644)
		out, err := exec.Command(bin, "watchlist", "publish", "--config", followed, "--dir", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("publish: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := publish("nike", 1); !strings.Contains(out, "published 1 watchlists to "+prefix+".watchlists: 1 changed") {
		t.Fatalf("publish said %q", out)
	}
	m := start(t, "match", followed)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(kafkaAddr), Topic: prefix + ".posts", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	send := func(id, text string) {
		t.Helper()
		b, _ := post.Encode(nil, &post.Item{Post: &post.Post{Platform: "t", ID: id, Text: text, CreatedAt: time.Now()}})
		// The first send may come before the matcher has created the topic.
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
	send("2", "adidas")
	eventually(t, time.Minute, "the nike post to match", func() bool { return matched()["1"] == 1 })
	// Post 2 may be on another partition than post 1, behind it: it must be
	// through the matcher before the rule that would match it is published.
	caughtUp(t, prefix, "match", prefix+".posts")

	if out := publish("adidas", 2); !strings.Contains(out, "1 changed") {
		t.Fatalf("publish said %q", out)
	}
	eventually(t, 30*time.Second, "the matcher to reload", func() bool { return strings.Contains(m.errs.String(), "watchlists reloaded") })
	send("3", "adidas")
	send("4", "nike")
	eventually(t, 30*time.Second, "the adidas post to match", func() bool { return matched()["3"] == 2 })
	caughtUp(t, prefix, "match", prefix+".posts") // post 4 too, whatever its partition
	got := matched()
	if _, ok := got["4"]; ok {
		t.Error("the old rule matched after the swap")
	}
	if _, ok := got["2"]; ok {
		t.Error("a post matched before its rule was published")
	}

	// A broken set is refused before it reaches the topic.
	os.WriteFile(filepath.Join(dir, "w.yaml"), []byte("id: w\nrule: adidas AND\n"), 0o644)
	out, err := exec.Command(bin, "watchlist", "publish", "--config", followed, "--dir", dir).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "AND needs a keyword") {
		t.Errorf("publishing a broken rule: %v\n%s", err, out)
	}
	m.stop(t)
}
