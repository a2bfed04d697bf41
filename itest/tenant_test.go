//go:build integration

package itest

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
)

// TestForeignDeleteOnKafka is issue 16's crossing tenants in distributed
// mode: a running `earshot match` on the real Kafka passes on tenant A's
// post and A's own delete of it, and dead-letters tenant B's delete of the
// same post, with the reason, so nothing downstream retracts or hides it.
func TestForeignDeleteOnKafka(t *testing.T) {
	prefix, db := names(t)
	cfg := writeConfig(t, setup{prefix: prefix, db: db})
	start(t, "match", cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(kafkaAddr), Topic: prefix + ".posts", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	send := func(p *post.Post) {
		t.Helper()
		b, _ := post.Encode(nil, &post.Item{Post: p})
		eventually(t, 30*time.Second, "the posts topic", func() bool { return w.WriteMessages(ctx, kafka.Message{Key: []byte(p.Key()), Value: b}) == nil })
	}
	at := time.Now().UTC().Add(-10 * time.Minute)
	send(&post.Post{Platform: "bluesky", ID: "dupx", Text: "my Acme phone is broken again, worst experience ever", CreatedAt: at, Author: post.Author{Handle: "a"}, Source: "push:tenant-a"})
	send(&post.Post{Platform: "bluesky", ID: "dupx", Kind: post.KindDelete, Source: "push:tenant-b"})
	send(&post.Post{Platform: "bluesky", ID: "dupx", Kind: post.KindDelete, Source: "push:tenant-a"})
	matched := func() (posts, deletes map[string]int) {
		posts, deletes = map[string]int{}, map[string]int{}
		for _, v := range readTopic(t, prefix+".matched") {
			it, err := post.Decode(v)
			if err != nil {
				t.Fatal(err)
			}
			if it.Post.Kind == post.KindDelete {
				deletes[it.Post.Source]++
			} else {
				posts[it.Post.Source]++
			}
		}
		return posts, deletes
	}
	eventually(t, time.Minute, "the post and tenant A's delete on the matched topic", func() bool {
		p, d := matched()
		return p["push:tenant-a"] == 1 && d["push:tenant-a"] == 1
	})
	if _, d := matched(); d["push:tenant-b"] != 0 {
		t.Fatalf("tenant B's delete was passed on: %v", d)
	}
	eventually(t, 30*time.Second, "tenant B's delete as a dead letter", func() bool { return len(deadLetters(t, prefix+".deadletter")) >= 1 })
	wantReasons(t, deadLetters(t, prefix+".deadletter"), "match", `from source "push:tenant-b" refused: the post came from "push:tenant-a"`)
}
