package stream

import (
	"context"
	"errors"
)

// Split is the transport of a process that runs a chain of stages
// (earshot ingest --with match,enrich): the topics between the chain's
// stages are in-memory queues (Local), every other topic goes through
// Remote (Kafka). A local topic must have no reader outside the process.
//
// With a Tracker on Local, the source's checkpoint moves only past posts
// whose records have left the chain: a record on a local topic is pending
// until its consumer commits it, and a runner commits its input only once
// everything it produced is acknowledged, locally or by the brokers.
type Split struct {
	Local  *Memory
	Remote Transport
	local  map[string]bool
}

// NewSplit routes topics through local, the rest through remote.
func NewSplit(local *Memory, remote Transport, topics ...string) *Split {
	s := &Split{Local: local, Remote: remote, local: map[string]bool{}}
	for _, t := range topics {
		s.local[t] = true
	}
	return s
}

// Consumer reads topic from where it is carried.
func (s *Split) Consumer(group, topic string) (Consumer, error) {
	if s.local[topic] {
		return s.Local.Consumer(group, topic)
	}
	return s.Remote.Consumer(group, topic)
}

// Producer returns a producer that writes each record where its topic is
// carried.
func (s *Split) Producer() (Producer, error) {
	r, err := s.Remote.Producer()
	if err != nil {
		return nil, err
	}
	l, err := s.Local.Producer()
	if err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return &splitProducer{s: s, local: l, remote: r}, nil
}

// EnsureTopics creates the remote topics among topics.
func (s *Split) EnsureTopics(ctx context.Context, topics ...string) error {
	var remote []string
	for _, t := range topics {
		if !s.local[t] {
			remote = append(remote, t)
		}
	}
	return s.Remote.EnsureTopics(ctx, remote...)
}

// Close closes both transports.
func (s *Split) Close() error { return errors.Join(s.Remote.Close(), s.Local.Close()) }

type splitProducer struct {
	s             *Split
	local, remote Producer
}

// Produce writes the remote records first, then the local ones. A remote
// failure (a record too large among them) leaves the local records
// unwritten, so that the caller's retry of the whole call queues each
// local record once; a retry after a local failure may repeat remote
// records, as any retried Kafka produce may (at-least-once).
func (p *splitProducer) Produce(ctx context.Context, outs []Out) error {
	nLocal := 0
	for _, o := range outs {
		if p.s.local[o.Topic] {
			nLocal++
		}
	}
	switch nLocal {
	case 0:
		return p.remote.Produce(ctx, outs)
	case len(outs):
		return p.local.Produce(ctx, outs)
	}
	local := make([]Out, 0, nLocal)
	remote := make([]Out, 0, len(outs)-nLocal)
	index := make([]int, 0, len(outs)-nLocal) // of each remote record in outs
	for i, o := range outs {
		if p.s.local[o.Topic] {
			local = append(local, o)
		} else {
			remote = append(remote, o)
			index = append(index, i)
		}
	}
	if err := p.remote.Produce(ctx, remote); err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			// The caller replaces records by their index into its outs.
			m := *tl
			m.Records = make([]TooLarge, len(tl.Records))
			for i, r := range tl.Records {
				r.Index = index[r.Index]
				m.Records[i] = r
			}
			return &m
		}
		return err
	}
	return p.local.Produce(ctx, local)
}

func (p *splitProducer) Close() error { return errors.Join(p.remote.Close(), p.local.Close()) }
