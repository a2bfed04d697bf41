package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestChainStartsAtIngestInOrder(t *testing.T) {
	cfg := Default()
	cfg.Transport.Kind = "kafka"
	for _, with := range [][]string{{Match}, {Match, Enrich}} {
		got, err := Chain(cfg, with)
		if err != nil || !slices.Equal(got, append([]string{Ingest}, with...)) {
			t.Errorf("Chain(%v) = %v, %v; want ingest then them", with, got, err)
		}
	}
	for _, with := range [][]string{nil, {Enrich}, {Enrich, Match}, {Match, Match}, {Match, Enrich, Route}, {Match, Enrich, Sink}, {"ingest"}} {
		if _, err := Chain(cfg, with); !errors.Is(err, ErrConfig) {
			t.Errorf("Chain(%v): err %v; want ErrConfig", with, err)
		}
	}
	for _, q := range []int{0, -1, MaxQueueSize + 1, 1e12} {
		c := cfg
		c.Transport.QueueSize = q
		if _, err := Chain(c, []string{Match}); !errors.Is(err, ErrConfig) {
			t.Errorf("a chain with transport.queue_size %d: err %v; want ErrConfig", q, err)
		}
	}
	cfg.Transport.Kind = "memory"
	if _, err := Chain(cfg, []string{Match}); !errors.Is(err, ErrConfig) {
		t.Errorf("a chain in embedded mode: err %v; want ErrConfig", err)
	}
}

func TestWithIsForIngestOnly(t *testing.T) {
	cfg := Default()
	cfg.Transport.Kind = "kafka"
	_, err := NewProcess(context.Background(), cfg, ProcessOptions{Name: Match, With: []string{Enrich}})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("earshot match --with enrich: err %v; want ErrConfig", err)
	}
}
