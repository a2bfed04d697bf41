package pipeline

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a group part that records when it stops, after waiting out
// its context (and, when slow, longer).
type recorder struct {
	mu      sync.Mutex
	stopped []string
}

func (r *recorder) part(name string, linger time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(linger)
		r.mu.Lock()
		r.stopped = append(r.stopped, name)
		r.mu.Unlock()
		return ctx.Err()
	}
}

// The parts stop in the reverse of their start order, each only after the
// one added after it has returned: the API (added after the pipeline) has
// stopped taking pushed posts before the source is told to stop, however
// long the API takes.
func TestGroupStopsInReverseOrder(t *testing.T) {
	var r recorder
	g := Group{}
	g.Add("metrics", r.part("metrics", 0))
	g.Add("pipeline", r.part("pipeline", 0))
	g.Add("api", r.part("api", 50*time.Millisecond)) // a slow shutdown
	g.Add("progress", r.part("progress", 0))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if err := g.Run(ctx); err != nil {
		t.Fatalf("Run: %v (a part stopped by the group is not an error)", err)
	}
	if want := []string{"progress", "api", "pipeline", "metrics"}; !slices.Equal(r.stopped, want) {
		t.Errorf("stopped %v, want %v", r.stopped, want)
	}
}

// A part that returns (the source reached --limit) stops the others, in
// order, and its error is returned with its name.
func TestGroupStopsWhenAPartReturns(t *testing.T) {
	var r recorder
	g := Group{}
	g.Add("metrics", r.part("metrics", 0))
	g.Add("pipeline", func(context.Context) error { return errors.New("kafka gone") })
	g.Add("api", r.part("api", 0))
	err := g.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "pipeline: kafka gone") {
		t.Errorf("Run = %v, want the pipeline's error", err)
	}
	if want := []string{"api", "metrics"}; !slices.Equal(r.stopped, want) {
		t.Errorf("stopped %v, want %v", r.stopped, want)
	}
}

// Past the grace period the parts still running are all cancelled at once:
// a part that does not stop cannot hold the others up for ever.
func TestGroupGraceThenUnordered(t *testing.T) {
	var r recorder
	release := make(chan struct{})
	g := Group{Grace: 50 * time.Millisecond}
	g.Add("metrics", r.part("metrics", 0))
	g.Add("stuck", func(ctx context.Context) error { <-ctx.Done(); <-release; return nil })
	g.Add("api", r.part("api", 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	r.mu.Lock()
	stopped := slices.Clone(r.stopped)
	r.mu.Unlock()
	if want := []string{"api", "metrics"}; !slices.Equal(stopped, want) {
		t.Errorf("after the grace period stopped %v, want %v (metrics cancelled although stuck has not returned)", stopped, want)
	}
	close(release)
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// The process's parts are in the order its doc comment and
// docs/ARCHITECTURE.md give: the API after the pipeline, so that it stops
// first.
func TestProcessPartsOrder(t *testing.T) {
	cfg := Default()
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy, cfg.Route.Org = "../deploy/examples/routing.yaml", "../deploy/examples/org.yaml"
	cfg.Metrics.Addr, cfg.API.Addr, cfg.API.StateDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Ingest.Synthetic.Limit = 1
	var progress strings.Builder
	p, err := NewProcess(context.Background(), cfg, ProcessOptions{Name: Run, Alerts: &strings.Builder{}, Progress: time.Hour, ProgressTo: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Parts(), []string{"metrics", "pipeline", "api", "printer", "progress"}; !slices.Equal(got, want) {
		t.Errorf("parts %v, want %v", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// Configuration problems are ErrConfig, whatever found them: the file, a
// policy it names, or stages that do not go together.
func TestConfigErrorsAreErrConfig(t *testing.T) {
	if _, err := Load("testdata/no-such-file.yaml"); !errors.Is(err, ErrConfig) {
		t.Errorf("missing file: %v", err)
	}
	cfg := Default()
	cfg.Route.Policy = "no-such-policy.yaml"
	if _, err := New(context.Background(), cfg, AllStages, Taps{}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("missing policy: %v", err)
	}
	cfg = Default()
	if _, err := New(context.Background(), cfg, []string{Enrich}, Taps{}, nil, nil); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "transport.kind: kafka") {
		t.Errorf("one stage in embedded mode: %v", err)
	}
	if err := ConfigError(errors.New("x")); err.Error() != "x" {
		t.Errorf("ConfigError changes the message: %q", err)
	}
}

// TestTakenPortsFailAtStart: a second `earshot run` beside the first
// (make run twice) finds the metrics or the API port taken: it stops at
// start, before any stage runs, saying which address is taken and which
// setting (or flag) moves it.
func TestTakenPortsFailAtStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, c := range []struct {
		name    string
		set     func(*Config)
		setting []string
	}{
		{"metrics", func(cfg *Config) { cfg.Metrics.Addr = addr }, []string{"metrics.addr", "--metrics-addr"}},
		{"api", func(cfg *Config) { cfg.Metrics.Addr, cfg.API.Addr = "127.0.0.1:0", addr }, []string{"api.addr"}},
	} {
		cfg := Default()
		cfg.Match.Watchlists = "../deploy/examples/watchlists"
		cfg.Route.Policy, cfg.Route.Org = "../deploy/examples/routing.yaml", "../deploy/examples/org.yaml"
		cfg.API.StateDir = t.TempDir()
		c.set(&cfg)
		p, err := NewProcess(context.Background(), cfg, ProcessOptions{Name: Run, Alerts: &strings.Builder{}, Progress: time.Hour, ProgressTo: &strings.Builder{}})
		if err == nil {
			p.close()
			t.Errorf("%s on a taken port %s: started", c.name, addr)
			continue
		}
		for _, want := range append([]string{addr, "in use"}, c.setting...) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s on a taken port: %q does not say %q", c.name, err, want)
			}
		}
	}
}
