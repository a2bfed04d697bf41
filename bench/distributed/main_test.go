package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/pipeline"
)

func TestSetKey(t *testing.T) {
	y := "transport:\n  kind: kafka\n  kafka:\n    brokers: [x]\n    batch_timeout: 5ms\n\nrunner:\n  batch_size: 1000\n  linger: 10ms\n"
	s, err := setKey(y, "kafka.batch_timeout=1ms")
	if err != nil || !strings.Contains(s, "    batch_timeout: 1ms\n") || strings.Contains(s, "5ms") {
		t.Fatalf("replace: %v\n%s", err, s)
	}
	s, err = setKey(s, "kafka.batch_items=1")
	if err != nil || !strings.Contains(s, "  kafka:\n    batch_items: 1\n    brokers") {
		t.Fatalf("insert: %v\n%s", err, s)
	}
	s, err = setKey(s, "runner.linger=2ms")
	if err != nil || !strings.Contains(s, "  linger: 2ms") || strings.Contains(s, "10ms") {
		t.Fatalf("second block: %v\n%s", err, s)
	}
	if _, err := setKey(y, "nosuch.key=1"); err == nil {
		t.Error("a missing block is an error")
	}
	if _, err := setKey(y, "linger=1"); err == nil {
		t.Error("no section is an error")
	}
}

// The embedded-with-sink comparator's configuration: the embedded example
// with the distributed example's sink, in the run's database, valid.
func TestEmbeddedSinkConfig(t *testing.T) {
	o := options{config: "../../deploy/examples/distributed.yaml"}
	cfg, err := embeddedSinkConfig(o, filepath.Join(t.TempDir(), "e.yaml"), "p", "distbench_x_e")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipeline.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport.Kind != "memory" || !c.Sink.Enabled || c.Sink.Database != "distbench_x_e" || c.Transport.TopicPrefix != "p" {
		t.Errorf("transport %q, sink %v into %q, prefix %q", c.Transport.Kind, c.Sink.Enabled, c.Sink.Database, c.Transport.TopicPrefix)
	}
}

// The -broker and -clickhouse flags must reach the processes' configuration,
// not only the harness's own reads: a private broker and ClickHouse measured
// while the stages talked to the shared ones would measure nothing.
func TestConfigsPointAtTheFlags(t *testing.T) {
	o := options{config: "../../deploy/examples/distributed.yaml", broker: "127.0.0.1:1111", chAddr: "127.0.0.1:2222"}
	cfg, err := writeConfig(o.config, filepath.Join(t.TempDir(), "d.yaml"), "p", "db", "", pointAt(o, nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipeline.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Transport.Kafka.Brokers; len(got) != 1 || got[0] != o.broker {
		t.Errorf("stage processes' brokers %v, want [%s]", got, o.broker)
	}
	if got := c.Sink.Addr; len(got) != 1 || got[0] != o.chAddr {
		t.Errorf("stage processes' ClickHouse %v, want [%s]", got, o.chAddr)
	}
	e, err := embeddedSinkConfig(o, filepath.Join(t.TempDir(), "e.yaml"), "p", "db_e")
	if err != nil {
		t.Fatal(err)
	}
	if c, err = pipeline.Load(e); err != nil {
		t.Fatal(err)
	}
	if got := c.Sink.Addr; len(got) != 1 || got[0] != o.chAddr {
		t.Errorf("embedded run's ClickHouse %v, want [%s]", got, o.chAddr)
	}
}
