package api

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// DeskEventLister lists the desk events written to the shared store since
// a time (sink.AlertTables, on ClickHouse).
type DeskEventLister interface {
	DeskEventsSince(ctx context.Context, queues []string, since time.Time, limit int) ([]sink.DeskEventRef, error)
}

// DeskFeed sends the desk changes made through any API process to this
// one's live feeds, in distributed mode: every Every it reads the desk
// events of the queues a feed follows from alert_events, and publishes
// each changed alert with its desk as read then (an `event: desk`, as a
// change made here is). It is at least once: a change made through this
// process is sent by the action too, and an alert changed twice between
// two reads is sent once, as it is after both. Only the queues a feed
// follows are read, and a feed gets only its queues' alerts (the hub's
// subscriptions, the stream handler's scope checks), so no event crosses
// to another team.
type DeskFeed struct {
	Events DeskEventLister
	Alerts AlertGetter // reads the alert and its desk
	Hub    *Hub
	Every  time.Duration // default deskFeedEvery
	Log    *slog.Logger
	now    func() time.Time
}

const (
	deskFeedEvery = 2 * time.Second
	// deskFeedLag: events are read again this long after they happened, so
	// that an insert landing late (or written by a replica whose clock is
	// behind) is still seen; those already sent are skipped by alert and event id.
	deskFeedLag    = 30 * time.Second
	deskFeedEvents = 2000 // events read per round
	deskFeedAlerts = 200  // alerts read and sent per round (the rest: the next round)
	deskFeedRead   = 10 * time.Second
)

// deskFeedState is what a DeskFeed keeps between rounds.
type deskFeedState struct {
	from  time.Time              // the events from it on are read
	floor time.Time              // a second skipped: never read again
	sent  map[deskSent]time.Time // event → its time, while it may be read again
	down  bool                   // the last read failed (logged once, not every round)
}

// deskSent names an event sent: its id is the request's Idempotency-Key,
// which names a request on one alert only, so two alerts (of one team or
// two) may each have an event of the same id.
type deskSent struct {
	sink.AlertKey
	event string
}

func sentOf(r sink.DeskEventRef) deskSent { return deskSent{r.AlertKey, r.EventID} }

// Run reads until ctx ends. It sends the changes from its start on.
func (f *DeskFeed) Run(ctx context.Context) error {
	every := f.Every
	if every <= 0 {
		every = deskFeedEvery
	}
	if f.now == nil {
		f.now = time.Now
	}
	st := &deskFeedState{from: f.now(), sent: map[deskSent]time.Time{}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			f.round(ctx, st)
		}
	}
}

// round reads the events from st.from on and publishes their alerts.
func (f *DeskFeed) round(ctx context.Context, st *deskFeedState) {
	now := f.now()
	queues := f.Hub.Queues()
	if len(queues) == 0 {
		// Nobody follows: a feed that opens later lists the queues first.
		st.from = now.Add(-deskFeedLag)
		clear(st.sent)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, deskFeedRead)
	defer cancel()
	refs, err := f.Events.DeskEventsSince(ctx, queues, st.from, deskFeedEvents)
	if err != nil {
		if !st.down {
			f.Log.Warn("desk feed: events not read; changes made through other API processes reach the pages on their next listing until it reads again", "err", err)
		}
		st.down = true
		return
	}
	if st.down {
		f.Log.Info("desk feed: reading events again")
		st.down = false
	}
	// The alerts of the events not sent yet, in the order they changed.
	var keys []sink.AlertKey
	events := map[sink.AlertKey][]sink.DeskEventRef{}
	full := len(refs) == deskFeedEvents
	for _, r := range refs {
		if _, ok := st.sent[sentOf(r)]; ok {
			continue
		}
		if events[r.AlertKey] == nil {
			if len(keys) == deskFeedAlerts {
				full = true
				break
			}
			keys = append(keys, r.AlertKey)
		}
		events[r.AlertKey] = append(events[r.AlertKey], r)
	}
	for _, k := range keys {
		a, err := f.Alerts.Get(ctx, k.Queue, k.ID)
		switch {
		case errors.Is(err, ErrAlertNotFound): // deleted, or not stored yet: nothing to show
		case err != nil:
			f.Log.Warn("desk feed: alert not read", "queue", k.Queue, "alert", k.ID, "err", err)
			full = true // read again next round
			continue
		default:
			a.deskUpdate = true
			f.Hub.Publish(a)
		}
		for _, r := range events[k] {
			st.sent[sentOf(r)] = r.At
		}
	}
	if !full {
		// Everything read was sent: the next round reads the last
		// deskFeedLag again, for the inserts that land late.
		st.from = maxTime(now.Add(-deskFeedLag), st.floor)
	} else {
		// The next round goes on from the first event not sent (the
		// events are in order of time). When the round could not move on
		// (more than deskFeedEvents events in one second), that second's
		// rest is skipped: the pages show it on their next listing.
		through, pending := st.from, false
		for _, r := range refs {
			if _, ok := st.sent[sentOf(r)]; !ok {
				pending = true
				break
			}
			through = r.At
		}
		if !pending && len(refs) > 0 && refs[len(refs)-1].At.Equal(st.from) {
			f.Log.Warn("desk feed: more events in one second than a round reads; the rest of it is not sent live", "at", st.from, "events", len(refs))
			through = st.from.Add(time.Second)
			st.floor = through
		}
		st.from = maxTime(st.from, through)
	}
	// An id is kept while a round may read its event again: from moves
	// back to now-deskFeedLag after a full round.
	cutoff := maxTime(now.Add(-deskFeedLag), st.floor)
	if st.from.Before(cutoff) {
		cutoff = st.from
	}
	for id, at := range st.sent {
		if at.Before(cutoff) {
			delete(st.sent, id)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
