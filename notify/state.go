package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/internal/durable"
)

// The state file (notify.state_file) keeps the counts the channels hold
// back, so that a restart neither loses a digest nor the alerts held in
// quiet hours: a stage saves it before its batch is committed, and Flush
// after it sends a digest (a digest being sent is in every save until it
// is delivered). A crash between a digest's delivery and the save
// sends that digest again (at least once). The memory of sent alert ids is
// not in it: after a restart a redelivered alert is sent again.

const stateVersion = 1

// maxStateBytes bounds the file read at start: counts per channel, queue
// and priority take a few MB at most.
const maxStateBytes = 64 << 20

type savedState struct {
	Version  int                     `json:"version"`
	Channels map[string]savedChannel `json:"channels"`
}

type savedChannel struct {
	Pending   []savedCount `json:"pending,omitempty"` // the rate limit's digest
	Since     time.Time    `json:"since,omitzero"`
	Held      []savedCount `json:"held,omitempty"` // quiet hours'
	HeldSince time.Time    `json:"held_since,omitzero"`
}

type savedCount struct {
	Queue    string `json:"queue"`
	Priority string `json:"priority"`
	N        int    `json:"n"`
}

func saveCounts(m map[digestKey]int) []savedCount {
	var out []savedCount
	for _, k := range slices.SortedFunc(maps.Keys(m), func(a, b digestKey) int {
		if a.queue != b.queue {
			if a.queue < b.queue {
				return -1
			}
			return 1
		}
		return rank(a.priority) - rank(b.priority)
	}) {
		out = append(out, savedCount{k.queue, k.priority, m[k]})
	}
	return out
}

// withSending is the counts m (held back since) with those of a digest
// being sent added, since the earlier of the two: a process that starts
// from the file sends them at once, at least once.
func withSending(m map[digestKey]int, since time.Time, sending map[digestKey]int, sendingSince time.Time) (map[digestKey]int, time.Time) {
	if len(sending) == 0 {
		return m, since
	}
	out := maps.Clone(m)
	if out == nil {
		out = map[digestKey]int{}
	}
	for k, v := range sending {
		out[k] = min(out[k]+v, maxSavedCount)
	}
	if len(m) == 0 || sendingSince.Before(since) {
		since = sendingSince
	}
	return out, since
}

// save writes the state file if something changed since the last save.
func (n *Notifier) save() error {
	if n.state == "" || !n.dirty.Load() {
		return nil
	}
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	if !n.dirty.Swap(false) {
		return nil // saved by another runner meanwhile
	}
	st := savedState{Version: stateVersion, Channels: map[string]savedChannel{}}
	for name, ch := range n.channels {
		ch.mu.Lock()
		pending, since := withSending(ch.pending, ch.since, ch.sending, ch.sendingSince)
		held, heldSince := withSending(ch.held, ch.heldSince, ch.sendingHeld, ch.sendingHeldSince)
		if len(pending) > 0 || len(held) > 0 {
			st.Channels[name] = savedChannel{Pending: saveCounts(pending), Since: since, Held: saveCounts(held), HeldSince: heldSince}
		}
		ch.mu.Unlock()
	}
	data, err := json.Marshal(st)
	if err == nil {
		err = durable.WriteFile(n.state, data, 0o600)
	}
	if err != nil {
		n.dirty.Store(true) // the next batch tries again
		return fmt.Errorf("notify: saving the held-back alerts: %w", err)
	}
	return nil
}

// restore reads the state file, if there is one, into the channels. A
// channel no longer configured loses its counts, with a warning.
func (n *Notifier) restore() error {
	f, err := os.Open(n.state)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify.state_file: %w", err)
	}
	defer f.Close()
	var st savedState
	dec := json.NewDecoder(&limited{f, maxStateBytes})
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("notify.state_file %s: not a notify state file (%v); move it aside to start without the digests it holds", n.state, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("notify.state_file %s: version %d, want %d", n.state, st.Version, stateVersion)
	}
	for name, sc := range st.Channels {
		ch := n.channels[name]
		if ch == nil {
			n.log.Warn("held-back alerts of a channel no longer configured are dropped", "channel", name, "pending", sc.Pending, "held", sc.Held)
			continue
		}
		load := func(into map[digestKey]int, from []savedCount) {
			dropped := 0
			for _, c := range from {
				// Only what an alert can be counted as: a priority of
				// P1-P4 (not text for the digest, nor a million keys), and
				// a sum that saturates instead of wrapping negative.
				if c.N <= 0 || !slices.Contains(ch.queues, c.Queue) || !slices.Contains(priorities, c.Priority) {
					dropped++
					continue
				}
				k := digestKey{c.Queue, c.Priority}
				into[k] = min(into[k], maxSavedCount) + min(c.N, maxSavedCount)
			}
			if dropped > 0 {
				n.log.Warn("notify.state_file: counts of queues not the channel's, or that are no alert's, are dropped", "channel", name, "entries", dropped)
			}
		}
		load(ch.pending, sc.Pending)
		load(ch.held, sc.Held)
		ch.since, ch.heldSince = sc.Since, sc.HeldSince
	}
	return nil
}

// maxSavedCount bounds one count read from the state file (two of them
// still add up without overflow).
const maxSavedCount = 1 << 40

// limited reads at most n bytes of r, then fails.
type limited struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("larger than 64 MB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}
