package main

import (
	"strings"
	"testing"
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
