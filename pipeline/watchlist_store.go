package pipeline

import (
	"context"
	"errors"
	"log/slog"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/stream"
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

// OpenWatchlistStore opens cfg.Match.Store the way every process that
// changes it must (the CLI, the API): its live set is written to
// watchlist.DefaultLiveDir for the embedded matcher, checked against
// match.team_quota, and, with transport.kind: kafka, published to the
// watchlists topic that matchers following it (match.follow: kafka) read.
// onChange is the audit hook (nil: none). The returned function closes it.
func OpenWatchlistStore(cfg Config, onChange func(watchlist.Change), log *slog.Logger) (*watchlist.Store, func(), error) {
	mo, err := MatchOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	opt := watchlist.Options{LiveDir: watchlist.DefaultLiveDir(cfg.Match.Store), TeamQuota: cfg.Match.TeamQuota, Match: mo, OnChange: onChange, Log: log}
	var k *stream.Kafka
	if cfg.Transport.Kind == "kafka" {
		var err error
		if k, err = stream.NewKafka(cfg.Transport.Kafka, "", log); err != nil {
			return nil, nil, err
		}
		publish := watchlist.KafkaPublisher(k, NewTopics(cfg.Transport.TopicPrefix).Watchlists())
		opt.Publish = func(ctx context.Context, live []match.Watchlist) error {
			if err := k.WaitReady(ctx); err != nil {
				return err
			}
			return publish(ctx, live)
		}
	}
	s, err := watchlist.Open(cfg.Match.Store, opt)
	if err != nil {
		if k != nil {
			k.Close()
		}
		return nil, nil, err
	}
	return s, func() {
		s.Close()
		if k != nil {
			k.Close()
		}
	}, nil
}

// OpenStoreFor opens the watchlist store named by --store, or by
// match.store of the configuration file; changes made with a configuration
// are audited like the API's, as the local operator (role "cli"), in the
// API's audit log, which ships to ClickHouse.
func OpenStoreFor(storeDir, config string, log *slog.Logger) (*watchlist.Store, func(), error) {
	cfg := Default()
	if config != "" {
		var err error
		if cfg, err = Load(config); err != nil {
			return nil, nil, err
		}
		if storeDir == "" {
			storeDir = cfg.Match.Store
		}
	}
	if storeDir == "" {
		return nil, nil, ConfigError(errors.New("the watchlist store: --store DIR, or --config FILE with match.store, is needed"))
	}
	cfg.Match.Store = storeDir
	if config == "" || cfg.API.StateDir == "" {
		return OpenWatchlistStore(cfg, nil, log)
	}
	audit, err := api.OpenAudit(cfg.API.StateDir)
	if err != nil {
		return nil, nil, err
	}
	st, closeStore, err := OpenWatchlistStore(cfg, api.WatchlistHook(audit, "cli", log), log)
	if err != nil {
		audit.Close()
		return nil, nil, err
	}
	return st, func() { closeStore(); audit.Close() }, nil
}
