package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
)

// withVolume wraps the match stage: besides the matched posts it passes on
// volume records counting every post of the batch, matched or not, for the
// volume topic (see post.CountVolume). It adds how many to passed, so that
// the matched posts can be told from them in the stage's output count.
func withVolume(stage stream.Stage, passed *atomic.Int64) stream.Stage {
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		vol := post.CountVolume(in.Items)
		out, err := stage(ctx, in)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, vol...)
		passed.Add(int64(len(vol)))
		return out, nil
	}
}

// matchTopic sends volume records to the volume topic and the rest to the
// matched topic.
func (t Topics) matchTopic(it *post.Item) string {
	if it.Volume != nil {
		return t.Volume()
	}
	return t.Matched()
}

// Volume names the topic of all-post counts, from match to the sink.
func (t Topics) Volume() string { return t.prefix + ".volume" }

// matchStage is the match stage, counting volume when something will read
// it: the sink in this process, or any process reading Kafka.
func (p *Pipeline) matchStage(stage stream.Stage, sinking bool) stream.Stage {
	if sinking || p.cfg.Transport.Kind == "kafka" {
		return withVolume(stage, &p.volume)
	}
	return stage
}

// addSinkRunners adds the sink's readers of the volume topic and of every
// queue's alert topic, each in a consumer group of its own.
func (p *Pipeline) addSinkRunners(s *sink.Sink, runner func(name, in string, stage stream.Stage, topic func(*post.Item) string, rc stream.RunnerConfig, outputs ...string) error) error {
	none := func(*post.Item) string { return "" }
	if err := runner(Sink+".volume", p.topics.Volume(), s.VolumeStage(), none, p.cfg.sinkRunner()); err != nil {
		return err
	}
	if p.policy == nil {
		p.log.Warn("no route.policy in the configuration: the sink does not know the alert queues and stores no alerts")
		return nil
	}
	if err := runner(Sink+".suppressed", p.topics.Suppressed(), s.SuppressionStage(), none, p.cfg.sinkRunner()); err != nil {
		return err
	}
	for _, q := range p.policy.AllQueues() {
		if err := runner(Sink+".alerts."+q, p.topics.Alerts(q), s.AlertStage(), none, p.cfg.sinkRunner()); err != nil {
			return err
		}
	}
	return nil
}
