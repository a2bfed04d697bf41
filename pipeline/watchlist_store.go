package pipeline

import (
	"log/slog"

	"github.com/earshot-dev/earshot/watchlist"
)

// storeLiveDir opens the watchlist store of match.store, which brings its
// live directory up to date with the approved revisions, and returns that
// directory for the matcher to load and reload (match.reload_interval):
// an approval made through the CLI or the API goes live there without a
// restart.
func storeLiveDir(cfg Config, log *slog.Logger) (string, error) {
	live := watchlist.DefaultLiveDir(cfg.Match.Store)
	mo, err := MatchOptions(cfg)
	if err != nil {
		return "", err
	}
	s, err := watchlist.Open(cfg.Match.Store, watchlist.Options{LiveDir: live, TeamQuota: cfg.Match.TeamQuota, Match: mo, Log: log})
	if err != nil {
		return "", err
	}
	return live, s.Close()
}
