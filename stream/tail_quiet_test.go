package stream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a bytes.Buffer safe for the handler's concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Tail with no broker to reach (a closed port) says so once, at WARN,
// naming the brokers, whatever the number of topics, and retries quietly
// (DEBUG) with backoff until ctx ends; it was a WARN per topic per retry,
// forever.
func TestTailUnreachableSaysSoOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	var out syncBuf
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := DefaultKafkaConfig()
	cfg.Brokers = []string{closed}
	k, err := NewKafka(cfg, "dead", log)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	topics := []string{"q.alerts.care", "q.alerts.pr", "q.alerts.legal", "q.alerts.care-na"}
	err = k.Tail(ctx, topics, func(string, Delivery) { t.Error("a delivery from nowhere") })
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("Tail: %v", err)
	}
	var loud, quiet []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		switch {
		case strings.Contains(line, "level=WARN"), strings.Contains(line, "level=ERROR"):
			loud = append(loud, line)
		case strings.Contains(line, "level=DEBUG"):
			quiet = append(quiet, line)
		}
	}
	if len(loud) != 1 || !strings.Contains(loud[0], closed) || !strings.Contains(loud[0], "cannot reach Kafka") {
		t.Errorf("%d WARN or ERROR lines, want 1 naming %s:\n%s", len(loud), closed, strings.Join(loud, "\n"))
	}
	if len(quiet) == 0 {
		t.Errorf("no quiet retries logged at DEBUG:\n%s", out.String())
	}
}

// The notes' course: the brokers out of reach said once for every topic;
// a topic missing said once; the brokers answering and the topic appearing
// said once each; a second outage said again.
func TestTailRetryNotes(t *testing.T) {
	var out syncBuf
	n := &retryNotes{log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})), brokers: []string{"k1:9092", "k2:9092"}}
	down, missing := errors.New("dial tcp: connection refused"), errNoTopic
	n.failed("a", down, time.Second)
	n.failed("b", down, time.Second)
	n.failed("a", down, time.Second)
	n.failed("a", missing, time.Second) // the brokers answer; a is not there yet
	n.failed("a", missing, time.Second)
	n.ok("b")
	n.ok("a")
	n.failed("b", down, time.Second)
	got := out.String()
	for _, want := range []struct {
		msg string
		n   int
	}{{"cannot reach Kafka", 2}, {"Kafka answers again", 1}, {"does not exist yet", 1}, {"exists now", 1}} {
		if c := strings.Count(got, want.msg); c != want.n {
			t.Errorf("%q said %d times, want %d:\n%s", want.msg, c, want.n, got)
		}
	}
	if !strings.Contains(got, "brokers=k1:9092,k2:9092") {
		t.Errorf("the brokers are not named:\n%s", got)
	}
}
