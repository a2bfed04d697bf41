package stream

import (
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

// transport.kafka.compression picks the producer's codec: lz4 unless set,
// none for a broker on the same host (loopback bytes are free, CPU is not);
// an unknown name is refused at start.
func TestKafkaCompression(t *testing.T) {
	for name, want := range map[string]kafka.Compression{"": kafka.Lz4, "lz4": kafka.Lz4, "none": 0, "zstd": kafka.Zstd, "snappy": kafka.Snappy, "gzip": kafka.Gzip} {
		cfg := DefaultKafkaConfig()
		cfg.Compression = name
		if err := cfg.Validate(); err != nil {
			t.Fatalf("compression %q: %v", name, err)
		}
		k, err := NewKafka(cfg, "dead", quiet)
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Producer()
		if err != nil {
			t.Fatal(err)
		}
		if got := p.(*kafkaProducer).w.Compression; got != want {
			t.Errorf("compression %q: the writer uses %v, want %v", name, got, want)
		}
		p.Close()
		k.Close()
	}
	cfg := DefaultKafkaConfig()
	cfg.Compression = "brotli"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "transport.kafka.compression") {
		t.Errorf("compression brotli: %v, want it refused", err)
	}
}
