package stream

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestKafkaConfigMaxMessageBytes: a limit too small for a dead letter would
// turn every record into one that can never be produced.
func TestKafkaConfigMaxMessageBytes(t *testing.T) {
	for _, n := range []int{0, -1, 4096} {
		c := DefaultKafkaConfig()
		c.MaxMessageBytes = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "kafka.max_message_bytes") {
			t.Errorf("max_message_bytes %d: %v, want an error naming it", n, err)
		}
	}
	if err := DefaultKafkaConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// kafka-go gives up on a fetch after MaxWait and asks the broker to answer
// sooner by a margin (a quarter of MaxWait, up to 1s; kafka-go's
// adjustDeadlineForRTT). On a loaded host a margin of 62ms (MaxWait 250ms)
// was too little: idle partitions timed out, warned and re-dialled.
func TestKafkaFetchLeavesTheBrokerRoom(t *testing.T) {
	c := mustKafka(t, DefaultKafkaConfig(), "dead", quiet).readerConfig("g", "t")
	margin := time.Second
	if c.MaxWait <= time.Second {
		margin = c.MaxWait / 4
	}
	if margin < 250*time.Millisecond {
		t.Errorf("MaxWait %v leaves the broker %v, want at least 250ms", c.MaxWait, margin)
	}
}

// mustKafka is NewKafka for tests, failing the test on error.
func mustKafka(t testing.TB, cfg KafkaConfig, dead string, log *slog.Logger) *Kafka {
	t.Helper()
	k, err := NewKafka(cfg, dead, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() }) // its transport's connections and their goroutines
	return k
}
