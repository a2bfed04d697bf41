package match

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Watch reloads the watchlists of dir into m whenever a file in it changes,
// checking every interval until ctx ends. A set that fails to load or
// compile is reported and ignored: the set in use keeps running. The new
// engine is built here, off the matching path, and swapped in at once.
func Watch(ctx context.Context, dir string, interval time.Duration, m *Matcher, log *slog.Logger) {
	// Start from no state: the first check loads the directory once more,
	// so a change made between the caller's load and this call is not missed.
	WatchFrom(ctx, dir, [32]byte{}, interval, m, log)
}

// WatchFrom is Watch from the directory state (DirState) the caller took
// before it loaded m's set: an unchanged directory is never recompiled,
// and a change made since that state is still seen.
func WatchFrom(ctx context.Context, dir string, last [32]byte, interval time.Duration, m *Matcher, log *slog.Logger) {
	log = log.With("component", "watchlists", "dir", dir)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		state, err := dirState(dir)
		if err != nil {
			log.Warn("cannot read the watchlists directory; keeping the live set", "err", err)
			continue
		}
		if state == last {
			continue
		}
		last = state
		start := time.Now()
		lists, err := LoadDir(dir)
		if err == nil {
			err = m.Swap(lists)
		}
		if err != nil {
			log.Error("watchlists changed but do not load; keeping the live set", "err", err)
			continue
		}
		log.Info("watchlists reloaded", "watchlists", len(lists), "keywords", m.Engine().Keywords(), "took", time.Since(start))
	}
}

// DirState summarises the names, sizes and modification times of the
// watchlist files in dir: take it before loading, for WatchFrom.
func DirState(dir string) ([32]byte, error) { return dirState(dir) }

// dirState is DirState.
func dirState(dir string) ([32]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	for _, e := range entries {
		if e.IsDir() || !IsWatchlistFile(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return [32]byte{}, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}
