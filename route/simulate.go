package route

import (
	"slices"
	"sort"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// HourReport is what one queue saw in one hour of a simulation.
type HourReport struct {
	Hour      time.Time `json:"hour"` // UTC, the start of the hour
	Queue     string    `json:"queue"`
	Team      string    `json:"team"`      // on duty at the start of the hour; "" if nobody
	Alerts    int       `json:"alerts"`    // raised on this queue in the hour
	HandedIn  int       `json:"handed_in"` // of which handed off to it from another queue
	Answered  int       `json:"answered"`  // answered in the hour (by the capacity model)
	Breaches  int       `json:"breaches"`  // alerts whose deadline passed unanswered in the hour
	Backlog   int       `json:"backlog"`   // waiting at the end of the hour
	Unstaffed int       `json:"unstaffed"` // raised while nobody in the hand-off chain was on duty
	// A suppression row has no queue: Suppressed posts arrived in the hour
	// that a rule suppressed with Reason ("do not respond").
	Reason     string `json:"reason,omitempty"`
	Suppressed int    `json:"suppressed,omitempty"`
}

// Simulate replays items through the policy as if each arrived at its
// post's created_at, shifted so that the first arrives at start (unless
// start is zero), and predicts per queue and hour the volume, who is on
// duty, hand-offs, and SLA breaches. A team answers up to its
// capacity_per_hour alerts in each hour it is on duty, oldest first; a team
// without a capacity answers everything at once.
func Simulate(p *Policy, items []*post.Item, start time.Time) []HourReport {
	if len(items) == 0 {
		return nil
	}
	items = slices.Clone(items)
	sort.SliceStable(items, func(i, j int) bool { return items[i].Post.CreatedAt.Before(items[j].Post.CreatedAt) })
	shift := time.Duration(0)
	if !start.IsZero() {
		shift = start.Sub(items[0].Post.CreatedAt)
	}
	type waiting struct{ due time.Time }
	queues := map[string][]waiting{}
	rows := map[string]map[time.Time]*HourReport{}
	row := func(q string, h time.Time) *HourReport {
		if rows[q] == nil {
			rows[q] = map[time.Time]*HourReport{}
		}
		r := rows[q][h]
		if r == nil {
			r = &HourReport{Hour: h, Queue: q}
			if p.org != nil {
				r.Team = p.org.Worker(q, h)
			}
			rows[q][h] = r
		}
		return r
	}
	// serve runs the capacity model for hour h.
	serve := func(h time.Time) {
		end := h.Add(time.Hour)
		for q, w := range queues {
			r := row(q, h)
			capacity := len(w)
			if p.org != nil && p.org.queues[q] != nil {
				// Whoever works the queue in this hour, an override's team included.
				if team := p.org.Worker(q, h); team == "" {
					capacity = 0
				} else if c := p.org.teams[team].CapacityPerHour; c > 0 {
					capacity = min(capacity, c)
				}
			}
			r.Answered += capacity
			w = w[capacity:]
			kept := w[:0]
			for _, a := range w {
				if !a.due.IsZero() && a.due.Before(end) {
					r.Breaches++
					continue
				}
				kept = append(kept, a)
			}
			queues[q] = kept
			r.Backlog = len(kept)
		}
	}
	hour := items[0].Post.CreatedAt.Add(shift).UTC().Truncate(time.Hour)
	incidents := newCounts(storiesCapacity, clustersCapacity)
	for _, it := range items {
		t := it.Post.CreatedAt.Add(shift).UTC()
		for !t.Before(hour.Add(time.Hour)) {
			serve(hour)
			hour = hour.Add(time.Hour)
		}
		r := p.Decide(it)
		if r != nil && r.Suppress != "" {
			k := "\x00" + r.Suppress // no queue name starts so
			if rows[k] == nil {
				rows[k] = map[time.Time]*HourReport{}
			}
			if rows[k][hour] == nil {
				rows[k][hour] = &HourReport{Hour: hour, Reason: r.Suppress}
			}
			rows[k][hour].Suppressed++
			continue
		}
		as, _ := p.alertsBy(r, it, t, incidents)
		for _, a := range as {
			r := row(a.Queue, hour)
			r.Alerts++
			if a.HandedOffFrom != "" {
				r.HandedIn++
			}
			if a.Unstaffed {
				r.Unstaffed++
			}
			if a.Reason != "notify" { // stakeholders' copies need no answer
				queues[a.Queue] = append(queues[a.Queue], waiting{due: a.DueAt})
			}
		}
	}
	// Let the backlog run down for up to a week after the last post.
	for i := 0; i < 7*24; i++ {
		serve(hour)
		hour = hour.Add(time.Hour)
		empty := true
		for _, w := range queues {
			empty = empty && len(w) == 0
		}
		if empty {
			break
		}
	}
	var out []HourReport
	for _, byHour := range rows {
		for _, r := range byHour {
			if r.Alerts+r.Answered+r.Breaches+r.Backlog+r.Suppressed > 0 {
				out = append(out, *r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Hour.Equal(out[j].Hour) {
			return out[i].Hour.Before(out[j].Hour)
		}
		if out[i].Queue != out[j].Queue {
			return out[i].Queue < out[j].Queue
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
