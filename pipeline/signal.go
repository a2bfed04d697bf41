package pipeline

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext is cancelled on the first SIGINT or SIGTERM; a second one
// exits at once. That drops what is in flight, none of which has been
// committed or checkpointed: a restart reads it again (docs/guarantees.md).
func SignalContext(log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			log.Info("stopping: finishing the work in hand (signal again to quit at once)", "signal", s.String())
			cancel()
		case <-ctx.Done():
			return
		}
		<-ch
		log.Error("second signal: quitting without draining; what was in flight is not committed or checkpointed and is read again on restart")
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// Overrides are settings a command line gives over the configuration
// file's; negative numbers and "" leave the file's.
type Overrides struct {
	Rate        int    // ingest.synthetic.rate
	Seed        uint64 // ingest.synthetic.seed (0: the file's)
	Limit       int64  // ingest.synthetic.limit
	MetricsAddr string // metrics.addr
}

// Apply sets what o overrides in c.
func (o Overrides) Apply(c *Config) {
	if o.Rate >= 0 {
		c.Ingest.Synthetic.Rate = o.Rate
	}
	if o.Seed != 0 {
		c.Ingest.Synthetic.Seed = o.Seed
	}
	if o.Limit >= 0 {
		c.Ingest.Synthetic.Limit = o.Limit
	}
	if o.MetricsAddr != "" {
		c.Metrics.Addr = o.MetricsAddr
	}
}
