package route

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/earshot-dev/earshot/internal/reload"
	"github.com/earshot-dev/earshot/post"
)

// Live holds the policy a route stage applies, so that a changed policy or
// organisation file takes effect without a restart.
type Live struct {
	p    atomic.Pointer[Policy]
	sum  reload.Sum // of the files the current policy was read from
	opts stageOptions
}

// RecordSuppressions makes the stage pass on a record of each post a rule
// suppresses (post.Item.Suppression), for the sink and the metrics. Call
// it before Stage.
func (l *Live) RecordSuppressions() { l.opts.suppressions = true }

// KeepTimers makes the stage keep its alerts' timed escalations in memory,
// for an escalation job where no ClickHouse sink stores them (see Timers).
// Call it before Stage.
func (l *Live) KeepTimers() *Timers {
	l.opts.timers = NewTimers(0)
	return l.opts.timers
}

// NewLive starts with p, read from the files of cfg.
func NewLive(p *Policy, cfg Config) *Live {
	l := &Live{}
	l.p.Store(p)
	l.sum, _ = filesSum(cfg)
	return l
}

// Policy is the policy in force.
func (l *Live) Policy() *Policy { return l.p.Load() }

// Stage is the route stage applying the policy in force at each batch.
func (l *Live) Stage(now func() time.Time) func(context.Context, post.Batch) (post.Batch, error) {
	return stage(l.Policy, now, l.opts)
}

// ErrNewQueues refuses a reload that adds queues: their topics, consumers
// and webhooks are set up when the process starts.
var ErrNewQueues = errors.New("the new policy routes to queues the running process has not set up; restart to add queues")

// Swap puts np in force from the next batch, unless it adds queues.
func (l *Live) Swap(np *Policy) error {
	old := l.Policy().AllQueues()
	var added []string
	for _, q := range np.AllQueues() {
		if !slices.Contains(old, q) {
			added = append(added, q)
		}
	}
	if len(added) > 0 {
		return fmt.Errorf("%w: %v", ErrNewQueues, added)
	}
	l.p.Store(np)
	return nil
}

// Watch reloads the policy (and organisation) every interval when their
// files' contents change. A file that does not load, or a policy that adds
// queues, is reported and the policy in force keeps running.
func (l *Live) Watch(ctx context.Context, cfg Config, every time.Duration, log *slog.Logger) {
	l.Watcher(cfg, every, log).Run(ctx, l.sum)
}

// Watcher is the reloader of the policy (see Watch), for a caller that
// adds metrics (reload.Watcher.Metrics) before running it from l's state.
func (l *Live) Watcher(cfg Config, every time.Duration, log *slog.Logger) reload.Watcher {
	return reload.Watcher{
		What:  "routing",
		Every: every,
		Log:   log.With("policy", cfg.Policy, "org", cfg.Org),
		Sum:   func() (reload.Sum, error) { return filesSum(cfg) },
		Load: func() ([]any, error) {
			np, err := Load(cfg)
			if err == nil {
				err = l.Swap(np)
			}
			if err != nil {
				return nil, err
			}
			return []any{"rules", len(np.Rules)}, nil
		},
	}
}

// State is the sum of the files the policy in force was read from, to run
// Watcher from.
func (l *Live) State() reload.Sum { return l.sum }

// filesSum sums the policy and organisation files' contents.
func filesSum(cfg Config) (reload.Sum, error) { return reload.Files(cfg.Policy, cfg.Org) }
