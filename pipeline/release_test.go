package pipeline

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// TestNewReleasesWhatItOpenedOnError: when New fails part way (here Kafka
// is unreachable within connect_timeout), what it had opened is closed:
// the Kafka transport's connection goroutines outlived a failed start.
func TestNewReleasesWhatItOpenedOnError(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens here now
	cfg := Default()
	cfg.Transport.Kind = "kafka"
	cfg.Transport.Kafka.Brokers = []string{closed}
	cfg.Transport.Kafka.ConnectTimeout = time.Second
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy = "../deploy/examples/routing.yaml"
	_, err = New(context.Background(), cfg, []string{Match}, Taps{}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("New: %v, want Kafka unreachable", err)
	}
	goleak.VerifyNone(t, before)
}
