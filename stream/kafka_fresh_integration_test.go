//go:build integration

package stream

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// freshTopics are n topic names no broker has seen, dropped when the test
// passes.
func freshTopics(t *testing.T, n int) []string {
	t.Helper()
	base := fmt.Sprintf("stream.%s.%d", strings.NewReplacer("/", ".", "=", "-").Replace(t.Name()), time.Now().UnixNano())
	topics := make([]string, n)
	for i := range topics {
		topics[i] = fmt.Sprintf("%s.%d", base, i)
	}
	dropAfter(t, topics...)
	return topics
}

// freshKafka is a transport on the local broker logging into out, as a
// stage process would be.
func freshKafka(t *testing.T, out *syncBuf) *Kafka {
	t.Helper()
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{broker}
	cfg.SessionTimeout = 6 * time.Second
	k := mustKafka(t, cfg, "unused.deadletter", slog.New(slog.NewTextHandler(out, nil)))
	t.Cleanup(func() { k.Close() })
	return k
}

// Stages start together on topics none of them has seen: each creates
// them (one wins, the others find them there) and at once joins its group
// and produces. A consumer that joins while the topics' partitions are
// still getting their leaders, while a producer writes, gets every record,
// exactly once; and EnsureTopics returns only once every partition answers,
// so no reader or writer meets a partition without its leader ("Not Leader
// For Partition", which every stage logged at start).
func TestFreshTopicsConsumerJoinsWhileProducing(t *testing.T) {
	topics := freshTopics(t, 10) // as many as a stage creates: posts, matched, … and the alert queues
	var logA, logB syncBuf
	ka, kb := freshKafka(t, &logA), freshKafka(t, &logB)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, k := range []*Kafka{ka, kb} {
		wg.Go(func() { errs[i] = k.EnsureTopics(ctx, topics...) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	ensured := time.Since(began)

	// Every topic: its consumer joins while its producer writes.
	const n = 200
	var got [10]map[string]int
	var skew [10]time.Duration // between the first record read of the topic's first and last partition
	for i, topic := range topics {
		wg.Go(func() {
			c, err := kb.Consumer(topic+".g", topic)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			seen := map[string]int{}
			first := map[int]time.Time{}
			fctx, fcancel := context.WithTimeout(ctx, time.Minute)
			defer fcancel()
			for len(seen) < n {
				ds, err := c.Fetch(fctx, n, 20*time.Millisecond)
				if err != nil {
					break // the count below says what is missing
				}
				for _, d := range ds {
					seen[d.Item.Key()]++
					if _, ok := first[d.Partition]; !ok {
						first[d.Partition] = time.Now()
					}
				}
			}
			got[i] = seen
			var lo, hi time.Time
			for _, at := range first {
				if lo.IsZero() || at.Before(lo) {
					lo = at
				}
				if at.After(hi) {
					hi = at
				}
			}
			skew[i] = hi.Sub(lo)
		})
		wg.Go(func() {
			p, err := ka.Producer()
			if err != nil {
				t.Error(err)
				return
			}
			defer p.Close()
			its := benchItems(n)
			for j := 0; j < n; j += 20 { // a stream of small batches, as a stage writes
				if err := p.Produce(ctx, outsOf(topic, its[j:j+20])); err != nil {
					t.Errorf("producing to %s: %v", topic, err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("EnsureTopics %v; every record read %v after the start; partitions' first records read up to %v apart (the most of the 10 topics)",
		ensured.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), slices.Max(skew[:]).Round(time.Millisecond))
	for i, seen := range got {
		if len(seen) != n {
			t.Errorf("%s: %d of %d records read", topics[i], len(seen), n)
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%s: %s read %d times", topics[i], k, c)
			}
		}
	}
	for _, out := range []*syncBuf{&logA, &logB} {
		if s := out.String(); strings.Contains(s, "Not Leader") {
			t.Errorf("a reader or writer met a partition without its leader after EnsureTopics returned:\n%s", tail(s, 3000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
