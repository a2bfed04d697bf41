package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Group runs the parts of a process (metrics server, stages, API, progress
// report) together, as Prometheus' oklog/run groups do, with a written
// order and Redpanda Connect's graceful-then-unordered stop:
//
//   - Start: in the order added, each in its own goroutine.
//   - Stop: when the context ends or any part returns, the parts are
//     stopped one at a time in the reverse order, each cancelled only
//     after the one added after it has returned, so a part never loses
//     what it depends on while it drains.
//   - If the stop takes longer than the grace period, every part still
//     running is cancelled at once (unordered) and waited for.
//
// Run returns the parts' errors, each with its name; a part that returns
// context.Canceled because it was stopped is not an error.
type Group struct {
	parts []part
	Grace time.Duration // 0: no bound on the ordered stop
	Log   *slog.Logger  // nil: no log of the stop
}

type part struct {
	name string
	run  func(context.Context) error
}

// Add adds a part; run must return soon after its context ends.
func (g *Group) Add(name string, run func(context.Context) error) {
	g.parts = append(g.parts, part{name, run})
}

// Names are the parts in start order (stop order is the reverse).
func (g *Group) Names() []string {
	out := make([]string, len(g.parts))
	for i, p := range g.parts {
		out[i] = p.name
	}
	return out
}

// Run starts every part and returns when all have returned.
func (g *Group) Run(ctx context.Context) error {
	n := len(g.parts)
	cancels := make([]context.CancelFunc, n)
	dones := make([]chan struct{}, n)
	errs := make([]error, n)
	first := make(chan int, n)
	for i, p := range g.parts {
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cancels[i], dones[i] = cancel, make(chan struct{})
		go func() {
			defer close(dones[i])
			if err := p.run(pctx); err != nil && !(errors.Is(err, context.Canceled) && pctx.Err() != nil) {
				errs[i] = fmt.Errorf("%s: %w", p.name, err)
			}
			first <- i
		}()
	}
	if n == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
	case i := <-first:
		g.logf("stopping: a part returned", "part", g.parts[i].name)
	}
	var deadline <-chan time.Time
	if g.Grace > 0 {
		t := time.NewTimer(g.Grace)
		defer t.Stop()
		deadline = t.C
	}
ordered:
	for i := n - 1; i >= 0; i-- {
		cancels[i]()
		select {
		case <-dones[i]:
		case <-deadline:
			g.logf("stop took longer than the grace period: stopping the rest at once", "waiting_for", g.parts[i].name, "grace", g.Grace)
			break ordered
		}
	}
	for i := range n {
		cancels[i]()
	}
	for i := range n {
		<-dones[i]
	}
	return errors.Join(errs...)
}

func (g *Group) logf(msg string, args ...any) {
	if g.Log != nil {
		g.Log.Info(msg, args...)
	}
}
