package pipeline

import (
	"context"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
)

// addEscalation runs the escalation job beside the route stage: alerts
// still unacknowledged at their escalate_at (acknowledgements are in
// ClickHouse) are raised again on their escalation queue. Without the sink
// the job reads the stage's in-memory timers instead.
func (p *Pipeline) addEscalation(out stream.Producer, timers *route.Timers) error {
	var store route.OverdueAlerts = timers
	if timers == nil {
		conn, err := sink.Open(p.cfg.Sink)
		if err != nil {
			return err
		}
		p.closers = append(p.closers, conn.Close)
		store = sink.NewEscalations(conn, p.cfg.Sink.Database)
	}
	produce := func(ctx context.Context, items []*post.Item) error {
		outs := make([]stream.Out, len(items))
		for i, it := range items {
			outs[i] = stream.Out{Topic: p.topics.Alerts(it.Alert.Queue), Key: it.Key(), Item: it}
		}
		return out.Produce(ctx, outs)
	}
	log := p.log.With("component", "escalation")
	p.jobs = append(p.jobs, func(ctx context.Context) {
		route.RunEscalations(ctx, p.live.Policy, store, produce, p.cfg.Route.EscalateEvery, time.Now, log)
	})
	return nil
}
