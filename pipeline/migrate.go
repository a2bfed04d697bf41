package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/sink"
)

// Migrate creates or upgrades the ClickHouse schema of cfg (with
// sink.cluster and sink.retention) and says on w what it applied.
func Migrate(cfg Config, w io.Writer, log *slog.Logger) error {
	applied, err := migrate(cfg, log)
	switch {
	case err != nil:
		return err
	case len(applied) == 0:
		fmt.Fprintf(w, "schema of %s is up to date (version %d)\n", cfg.Sink.Database, sink.SchemaVersion())
	default:
		fmt.Fprintf(w, "applied migrations %v to %s; schema version %d\n", applied, cfg.Sink.Database, slices.Max(applied))
	}
	return nil
}

func migrate(cfg Config, log *slog.Logger) ([]int, error) {
	if !cfg.Sink.Enabled {
		return nil, ConfigError(errors.New("sink.enabled is false; there is no ClickHouse to migrate"))
	}
	if err := cfg.Sink.ReadSecrets(); err != nil {
		return nil, ConfigError(err)
	}
	conn, err := sink.Open(cfg.Sink)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return cfg.Sink.Schema().Migrate(ctx, conn, log)
}

// SchemaSpec is the schema of database db as SQL, one statement a line,
// the sink's insert column lists, and the cookbook's queries bound with
// their defaults: for checking against another ClickHouse version
// (earshot migrate --print, sqlcheck.py).
func SchemaSpec(db string) (map[string]any, error) {
	spec := sink.CheckSpec(db)
	cat, err := insights.Load()
	if err != nil {
		return nil, err
	}
	spec["queries"], err = cat.BindDefaults(db)
	return spec, err
}
