package stream

import (
	"strings"
	"testing"
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
