// Command alert-consumer is a minimal responder tool: it reads one earshot
// alert queue from Kafka as a consumer group and prints each alert. Commit
// after handling, so a crash re-reads rather than skips; alert ids are
// deterministic, so de-duplicate on them.
//
//	go run ./deploy/examples/alert-consumer -queue care
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/segmentio/kafka-go"
)

// alert is the part of an earshot alert record this tool uses; see
// docs/alerts.md for every field.
type alert struct {
	Alert struct {
		ID       string `json:"id"`
		Queue    string `json:"queue"`
		Priority string `json:"priority"`
		Rule     string `json:"rule"`
	} `json:"alert"`
	Post struct {
		Platform string `json:"platform"`
		ID       string `json:"id"`
		Text     string `json:"text"`
		Author   struct {
			Handle string `json:"handle"`
		} `json:"author"`
	} `json:"post"`
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "Kafka bootstrap server")
	prefix := flag.String("prefix", "earshot", "earshot topic prefix")
	queue := flag.String("queue", "care", "responder queue to read")
	group := flag.String("group", "care-desk", "consumer group of this tool")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     []string{*brokers},
		GroupID:     *group,
		Topic:       *prefix + ".alerts." + *queue,
		StartOffset: kafka.FirstOffset,
	})
	defer r.Close()

	seen := map[string]bool{} // a real tool keeps this in its own store
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Fatalf("reading alerts: %v", err)
		}
		var a alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			log.Printf("skipping unreadable alert at offset %d: %v", m.Offset, err)
		} else if !seen[a.Alert.ID] {
			seen[a.Alert.ID] = true
			fmt.Printf("[%s %s] %s:%s @%s: %s\n", a.Alert.Priority, a.Alert.Queue, a.Post.Platform, a.Post.ID, a.Post.Author.Handle, a.Post.Text)
		}
		if err := r.CommitMessages(ctx, m); err != nil && ctx.Err() == nil {
			log.Fatalf("committing: %v", err)
		}
	}
}
