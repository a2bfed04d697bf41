//go:build integration

package itest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// TestAPILiveFeedFromKafka checks the distributed live feed: an API
// process reads a queue's alert topic on the real broker from its end and
// hands each alert to the feeds of that queue only.
func TestAPILiveFeedFromKafka(t *testing.T) {
	prefix, _ := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	care, pr := prefix+".alerts.care", prefix+".alerts.pr"
	k := mustKafka(t, stream.DefaultKafkaConfig(), prefix+".deadletter", apiTestLogger())
	defer k.Close()
	if err := k.EnsureTopics(ctx, care, pr); err != nil {
		t.Fatal(err)
	}
	cl := &kafka.Client{Addr: kafka.TCP(kafkaAddr), Timeout: 10 * time.Second}
	before := groups(ctx, t, cl)
	hub := api.NewHub()
	careFeed, prFeed := hub.Subscribe("care", 64), hub.Subscribe("pr", 64)
	feed := &api.LiveFeed{Source: k, Topics: map[string]string{"care": care, "pr": pr}, Hub: hub, Log: apiTestLogger()}
	feedCtx, stopFeed := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- feed.Run(feedCtx) }()

	w := &kafka.Writer{Addr: kafka.TCP(kafkaAddr), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	// The feed starts at the end of the topic once it has joined: keep
	// producing until one arrives, then check it is the care queue's.
	var got api.Alert
	for i := 0; got.ID == ""; i++ {
		it := &post.Item{Post: &post.Post{Platform: "x", ID: fmt.Sprint(i), Text: "acme", CreatedAt: time.Now()},
			Alert: &post.Alert{ID: fmt.Sprintf("al-%d", i), Queue: "care", Priority: "P2", Rule: "care", CreatedAt: time.Now()}}
		b, err := post.Encode(nil, it)
		if err != nil {
			t.Fatal(err)
		}
		// A topic just created may not be known to every part of a fresh
		// broker yet: the writer then says so at once, and a retry goes on.
		err = w.WriteMessages(ctx, kafka.Message{Topic: care, Value: b}, kafka.Message{Topic: care, Value: []byte("not an alert")})
		if errors.Is(err, kafka.UnknownTopicOrPartition) || errors.Is(err, kafka.LeaderNotAvailable) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-careFeed.C:
		case <-time.After(time.Second):
		case <-ctx.Done():
			t.Fatal("no alert reached the live feed")
		}
	}
	if got.Queue != "care" || got.PostKey == "" || len(got.Item) == 0 {
		t.Fatalf("%+v", got)
	}
	select {
	case a := <-prFeed.C:
		t.Fatalf("the pr feed got a care alert: %+v", a)
	default:
	}
	stopFeed()
	if err := <-done; err != nil {
		t.Fatalf("feed stopped with %v", err)
	}
	// The feed leaves nothing behind on the broker: no consumer group
	// that started since holds offsets of the topic it read (a group per
	// start used to be left there, one more at every restart).
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{care}})
	if err != nil || len(md.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", care, err)
	}
	var parts []int
	for _, p := range md.Topics[0].Partitions {
		parts = append(parts, p.ID)
	}
	for g := range groups(ctx, t, cl) {
		if before[g] {
			continue
		}
		res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: g, Topics: map[string][]int{care: parts}})
		if err != nil {
			t.Fatalf("offsets of group %s: %v", g, err)
		}
		for _, p := range res.Topics[care] {
			if p.CommittedOffset >= 0 {
				t.Errorf("consumer group %s left behind with an offset on %s", g, care)
			}
		}
	}
}

// groups lists the broker's consumer groups.
func groups(ctx context.Context, t *testing.T, cl *kafka.Client) map[string]bool {
	t.Helper()
	res, err := cl.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil || res.Error != nil {
		t.Fatalf("listing groups: %v %v", err, res.Error)
	}
	out := map[string]bool{}
	for _, g := range res.Groups {
		out[g.GroupID] = true
	}
	return out
}

// TestAPILiveFeedBigAlert sends an alert bigger than 16 MiB (allowed by
// transport.kafka.max_message_bytes up to 256 MiB) through the live feed,
// the worst input on its path. (The old reader's fixed 16 MiB fetch limit
// passed this too: the broker returns a record over a fetch's limit when
// it is the first; the feed now reads with the transport's limit anyway.)
func TestAPILiveFeedBigAlert(t *testing.T) {
	prefix, _ := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	care := prefix + ".alerts.care"
	cfg := stream.DefaultKafkaConfig()
	cfg.Brokers = []string{kafkaAddr}
	cfg.MaxMessageBytes = 24 << 20
	cfg.Partitions = 1
	k := mustKafka(t, cfg, prefix+".deadletter", apiTestLogger())
	defer k.Close()
	if err := k.EnsureTopics(ctx, care); err != nil {
		t.Fatal(err)
	}
	p, err := k.Producer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hub := api.NewHub()
	sub := hub.Subscribe("care", 64)
	feed := &api.LiveFeed{Source: k, Topics: map[string]string{"care": care}, Hub: hub, Log: apiTestLogger()}
	feedCtx, stopFeed := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- feed.Run(feedCtx) }()
	defer func() {
		stopFeed()
		<-done
	}()
	alert := func(id, text string) *post.Item {
		return &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: text, CreatedAt: time.Now()},
			Alert: &post.Alert{ID: "al-" + id, Queue: "care", Priority: "P2", Rule: "care", CreatedAt: time.Now()}}
	}
	// Small alerts until the feed is live.
	for i := 0; ; i++ {
		if err := p.Produce(ctx, []stream.Out{{Topic: care, Key: "k", Item: alert(fmt.Sprint(i), "acme")}}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sub.C:
		case <-time.After(time.Second):
			continue
		case <-ctx.Done():
			t.Fatal("no alert reached the live feed")
		}
		break
	}
	big := strings.Repeat("acme ", 17<<20/5)
	if err := p.Produce(ctx, []stream.Out{{Topic: care, Key: "k", Item: alert("big", big)}}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case a := <-sub.C:
			if a.ID != "al-big" {
				continue
			}
			if !a.TextTruncated || a.TextBytes != len(big) {
				t.Fatalf("big alert: truncated %v, %d bytes", a.TextTruncated, a.TextBytes)
			}
			return
		case <-time.After(30 * time.Second):
			t.Fatal("an alert over 16 MiB never reached the live feed")
		}
	}
}
