package match

import (
	"context"
	"log/slog"
	"time"

	"github.com/earshot-dev/earshot/internal/reload"
)

// Watch reloads the watchlists of dir into m whenever the contents of its
// watchlist files change, checking every interval until ctx ends. A set
// that fails to load or compile is reported and ignored: the set in use
// keeps running. The new engine is built here, off the matching path, and
// swapped in at once.
func Watch(ctx context.Context, dir string, interval time.Duration, m *Matcher, log *slog.Logger) {
	// Start from no state: the first check loads the directory once more,
	// so a change made between the caller's load and this call is not missed.
	WatchFrom(ctx, dir, reload.Sum{}, interval, m, log)
}

// WatchFrom is Watch from the directory state (DirState) the caller took
// before it loaded m's set: an unchanged directory is never recompiled,
// and a change made since that state is still seen.
func WatchFrom(ctx context.Context, dir string, last reload.Sum, interval time.Duration, m *Matcher, log *slog.Logger) {
	Watcher(dir, interval, m, log).Run(ctx, last)
}

// Watcher is the reloader of dir's watchlists into m (see Watch), for a
// caller that adds metrics (reload.Watcher.Metrics) before running it.
func Watcher(dir string, interval time.Duration, m *Matcher, log *slog.Logger) reload.Watcher {
	return reload.Watcher{
		What:  "watchlists",
		Every: interval,
		Log:   log.With("component", "watchlists", "dir", dir),
		Sum:   func() (reload.Sum, error) { return DirState(dir) },
		Load: func() ([]any, error) {
			lists, err := LoadDir(dir)
			if err == nil {
				err = m.Swap(lists)
			}
			if err != nil {
				return nil, err
			}
			return []any{"watchlists", len(lists), "keywords", m.Engine().Keywords()}, nil
		},
	}
}

// DirState sums the names and contents of the watchlist files in dir: take
// it before loading, for WatchFrom.
func DirState(dir string) (reload.Sum, error) { return reload.Dir(dir, IsWatchlistFile) }
