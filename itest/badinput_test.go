//go:build integration

package itest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

func deadLetters(t *testing.T, topic string) []*post.DeadLetter {
	t.Helper()
	var out []*post.DeadLetter
	for _, v := range readTopic(t, topic) {
		d, err := post.DecodeDeadLetter(v)
		if err != nil {
			t.Fatalf("unreadable dead letter: %v\n%s", err, v)
		}
		out = append(out, d)
	}
	return out
}

// wantReasons checks that each wanted reason fragment is in exactly one
// dead letter and that there are no others.
func wantReasons(t *testing.T, dls []*post.DeadLetter, stage string, want ...string) {
	t.Helper()
	if len(dls) != len(want) {
		for _, d := range dls {
			t.Logf("dead letter: %s: %s", d.Stage, d.Reason)
		}
		t.Fatalf("%d dead letters, want %d", len(dls), len(want))
	}
	for _, w := range want {
		n := 0
		for _, d := range dls {
			if strings.Contains(d.Reason, w) {
				n++
				if d.Stage != stage {
					t.Errorf("dead letter %q from stage %q, want %q", d.Reason, d.Stage, stage)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d dead letters with a reason containing %q, want 1", n, w)
		}
	}
}

func TestFileIngestBadLines(t *testing.T) {
	prefix, db := names(t)
	good := `{"platform":"file","id":"%d","author":{"handle":"a"},"text":"my Acme phone is broken","created_at":"2026-11-01T10:00:00Z"}`
	lines := []string{
		fmt.Sprintf(good, 1),
		`{"platform":"file","id":"2","text":"cut off`,
		"{\"platform\":\"file\",\"id\":\"3\",\"text\":\"bad \xff byte\",\"created_at\":\"2026-11-01T10:00:00Z\"}",
		fmt.Sprintf(`{"platform":"file","id":"4","text":"%s","created_at":"2026-11-01T10:00:00Z"}`, strings.Repeat("acme ", 1<<20)), // 5 MB
		`{"platform":"file","id":"5","text":"acme","created_at":"2026-11-01T10:00:00Z","favourite_colour":"green","extra":{"a":[1]}}`,
		`{"platform":"file","text":"no id","created_at":"2026-11-01T10:00:00Z"}`,
		``,
		fmt.Sprintf(good, 7),
	}
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, setup{prefix: prefix, db: db, source: "source: file\n  file: {path: " + path + "}"})
	start(t, "ingest", cfg).wait(t, time.Minute)

	// The records are acknowledged, but a loaded broker may take a moment
	// to show a new topic's metadata to another client.
	var got string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var ids []string
		for _, v := range readTopic(t, prefix+".posts") {
			it, err := post.Decode(v)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, it.Post.ID)
		}
		if got = strings.Join(slices.Sorted(slices.Values(ids)), ","); got == "1,5,7" || time.Now().After(deadline) {
			break
		}
	}
	if got != "1,5,7" {
		t.Errorf("posts produced = %s, want 1,5,7", got)
	}
	eventually(t, 30*time.Second, "the dead letters", func() bool { return len(deadLetters(t, prefix+".deadletter")) >= 4 })
	dls := deadLetters(t, prefix+".deadletter")
	wantReasons(t, dls, "ingest", "posts.ndjson:2: malformed JSON", "posts.ndjson:3: invalid UTF-8 at byte", "posts.ndjson:4: line is 5242", "posts.ndjson:6: post has no id")
	for _, d := range dls {
		if len(d.Raw) > post.RawLimit {
			t.Errorf("dead letter carries %d raw bytes, more than %d", len(d.Raw), post.RawLimit)
		}
	}
}

func TestGarbageOnTopic(t *testing.T) {
	prefix, db := names(t)
	cfg := writeConfig(t, setup{prefix: prefix, db: db})
	m := start(t, "match", cfg) // creates the topics
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	valid, _ := post.Encode(nil, &post.Item{Post: &post.Post{Platform: "raw", ID: "ok", Text: "Acme phone", CreatedAt: time.Now()}})
	w := &kafka.Writer{Addr: kafka.TCP(kafkaAddr), Topic: prefix + ".posts", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	// One record a write: a write of several to a topic just created can
	// land on some partitions and fail on others (not served yet), and
	// writing them all again would put a second copy of those on the topic.
	for _, v := range [][]byte{
		[]byte(`{"v":1,"post":{"platform":`),
		[]byte("{\"v\":1,\"post\":{\"platform\":\"x\",\"id\":\"\xfe\"}}"),
		[]byte(`{"v":9,"post":{"platform":"x","id":"1","created_at":"2026-01-01T00:00:00Z"}}`),
		valid,
	} {
		eventually(t, 30*time.Second, "the posts topic", func() bool { return w.WriteMessages(ctx, kafka.Message{Value: v}) == nil })
	}
	var matched []string
	eventually(t, time.Minute, "the valid record to be matched", func() bool {
		matched = nil
		for _, v := range readTopic(t, prefix+".matched") {
			it, _ := post.Decode(v)
			matched = append(matched, it.Post.ID)
		}
		return len(matched) > 0
	})
	eventually(t, 30*time.Second, "three dead letters", func() bool { return len(readTopic(t, prefix+".deadletter")) >= 3 })
	m.stop(t)
	// Read again once match has stopped, so that a record matched later
	// (on another partition) is counted too.
	matched = nil
	for _, v := range readTopic(t, prefix+".matched") {
		it, _ := post.Decode(v)
		matched = append(matched, it.Post.ID)
	}
	if len(matched) != 1 || matched[0] != "ok" {
		t.Errorf("matched = %v, want [ok]", matched)
	}
	dls := deadLetters(t, prefix+".deadletter")
	wantReasons(t, dls, "match", "decoding item: unexpected end of JSON input", "invalid UTF-8 at byte", "wire version 9 is newer")
	for _, d := range dls {
		if d.Raw == "" || d.RawBytes == 0 {
			t.Errorf("dead letter %q lost the raw record", d.Reason)
		}
	}
}

func TestConfigTypoExitsWithCode2(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(cfg, []byte("transport:\n  kind: kafka\n  kafak:\n    brokers: [127.0.0.1:9092]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, "match", cfg)
	<-p.done
	var ee *exec.ExitError
	if !errors.As(p.exit, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want exit code 2", p.exit)
	}
	if want := cfg + `:3: unknown key "kafak"`; !strings.Contains(p.errs.String(), want) {
		t.Errorf("stderr %q does not name file, line and key (%q)", p.errs.String(), want)
	}
}
