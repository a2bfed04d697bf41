package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// MatchPosts writes every match of every post read from in (name for
// messages; any format the file source reads) as one JSON line on stdout,
// and a count on stderr: what watchlists match before they go live
// (earshot match --watchlists DIR --posts FILE). Lines the file source
// would refuse are reported on stderr and skipped.
func MatchPosts(e *match.Matcher, name string, in io.Reader, stdout, stderr io.Writer) error {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	// The ingest file decoder, as the pipeline reads a file: any format, the
	// same checks (UTF-8, duplicate keys, sizes), and a bad or over-long
	// line is reported and skipped, never the end of the run.
	src := ingest.NewFile(name, in, 0, ingest.DefaultConfig().MaxPostBytes)
	var n, matched, bad int
	for {
		b, err := src.Next(context.Background(), 500)
		for _, r := range b.Rejected {
			fmt.Fprintln(stderr, r.Reason)
			bad++
		}
		for _, it := range b.Items {
			p := it.Post
			if p.Kind == post.KindDelete {
				continue
			}
			n++
			for _, m := range e.Match(p) {
				matched++
				enc.Encode(struct {
					Post      string      `json:"post"`
					Watchlist string      `json:"watchlist"`
					Version   int         `json:"version"`
					Keywords  []string    `json:"keywords"`
					Spans     []post.Span `json:"spans"`
				}{p.Key(), m.Watchlist, m.Version, m.Keywords, m.Spans})
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
	fmt.Fprintf(stderr, "%d posts, %d matches, %d unreadable lines\n", n, matched, bad)
	return nil
}

// PublishWatchlists makes the compacted topic <prefix>.watchlists hold
// exactly lists, so that every matcher following it (match.follow: kafka)
// swaps them in within seconds. It returns the topic and how many entries
// changed and were removed.
func PublishWatchlists(ctx context.Context, cfg Config, lists []*match.Watchlist, log *slog.Logger) (topic string, written, deleted int, err error) {
	if _, err := match.Compile(lists); err != nil {
		return "", 0, 0, ConfigError(err)
	}
	if err := match.CheckQuota(lists, cfg.Match.TeamQuota); err != nil {
		return "", 0, 0, ConfigError(err)
	}
	entries := map[string][]byte{}
	for _, w := range lists {
		entries[w.ID] = w.Source()
	}
	k, err := stream.NewKafka(cfg.Transport.Kafka, "", log)
	if err != nil {
		return "", 0, 0, err
	}
	defer k.Close()
	if err := k.WaitReady(ctx); err != nil {
		return "", 0, 0, err
	}
	topic = NewTopics(cfg.Transport.TopicPrefix).Watchlists()
	if err := k.EnsureTable(ctx, topic); err != nil {
		return "", 0, 0, err
	}
	written, deleted, err = k.PublishTable(ctx, topic, entries)
	if err != nil {
		return "", 0, 0, err
	}
	return topic, written, deleted, err
}
