package pipeline

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A start that fails is a failure even when a stop (SIGTERM, --duration)
// arrived meanwhile: the error, not a clean exit, so that a corrupt
// checkpoint is not hidden behind a timed run.
func TestRunProcessFailedStartIsAnErrorAfterAStop(t *testing.T) {
	cfg := fileConfig(t, []string{`{"platform":"x","id":"1","text":"hi","created_at":"2026-01-01T00:00:00Z"}`})
	cfg.Ingest.File.Checkpoint = filepath.Join(t.TempDir(), "cp.json")
	if err := os.WriteFile(cfg.Ingest.File.Checkpoint, []byte("garbage{{"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the stop came before the start failed
	err := RunProcess(ctx, cfg, ProcessOptions{Name: Run, Log: slog.New(slog.DiscardHandler)}, time.Second, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("RunProcess = %v, want the checkpoint's error", err)
	}
}

// A stop while the process still waits for unreachable brokers is a clean
// stop: nothing failed, it was asked to stop.
func TestRunProcessStopWhileWaitingForKafkaIsClean(t *testing.T) {
	cfg := fileConfig(t, []string{`{"platform":"x","id":"1","text":"hi","created_at":"2026-01-01T00:00:00Z"}`})
	cfg.Transport.Kind = "kafka"
	cfg.Transport.Kafka.Brokers = []string{"127.0.0.1:1"} // nothing listens there
	cfg.Transport.TopicPrefix = "l10-unreachable"
	for _, stop := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		d    time.Duration
	}{
		{"a signal", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 500*time.Millisecond)
		}, 0},
		{"--duration", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 500 * time.Millisecond},
	} {
		ctx, cancel := stop.ctx()
		err := RunProcess(ctx, cfg, ProcessOptions{Name: Run, Log: slog.New(slog.DiscardHandler)}, stop.d, io.Discard)
		cancel()
		if err != nil {
			t.Errorf("stopped by %s while waiting for Kafka: %v, want a clean stop", stop.name, err)
		}
	}
	// connect_timeout is a failure, not a stop.
	cfg.Transport.Kafka.ConnectTimeout = 300 * time.Millisecond
	if err := RunProcess(context.Background(), cfg, ProcessOptions{Name: Run, Log: slog.New(slog.DiscardHandler)}, 0, io.Discard); err == nil {
		t.Error("connect_timeout passed: no error")
	}
}
