package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/sink"
)

// Migrate creates or upgrades the ClickHouse schema of cfg (with
// sink.cluster and sink.retention) and says on w what it applied. It stops
// when ctx ends, or after timeout in all when that is above 0. With 0 it
// has no limit of its own: each statement has one (an hour for a backfill,
// the connection's read timeout for the rest), and a backfill over a big
// database may need many minutes (docs/storage.md).
func Migrate(ctx context.Context, cfg Config, w io.Writer, log *slog.Logger, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	applied, err := migrate(ctx, cfg, log)
	switch {
	case err != nil:
		if len(applied) > 0 {
			fmt.Fprintf(w, "applied migrations %v to %s before stopping\n", applied, cfg.Sink.Database)
		}
		// The deadline, not ctx.Err(): the driver puts the deadline on the
		// connection too, and its "i/o timeout" can come a moment before
		// the context's own timer marks it done (TestMigrateTimeout failed
		// 2 runs in 15 so).
		if dl, ok := ctx.Deadline(); timeout > 0 && ok && !time.Now().Before(dl) {
			return fmt.Errorf("stopped after --timeout %v (the migrations finished before it are recorded; run again with a longer --timeout, or 0 for none): %w", timeout, err)
		}
		return err
	case len(applied) == 0:
		fmt.Fprintf(w, "schema of %s is up to date (version %d)\n", cfg.Sink.Database, sink.SchemaVersion())
	default:
		fmt.Fprintf(w, "applied migrations %v to %s; schema version %d\n", applied, cfg.Sink.Database, slices.Max(applied))
	}
	return nil
}

func migrate(ctx context.Context, cfg Config, log *slog.Logger) ([]int, error) {
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
	return cfg.Sink.Schema().Migrate(ctx, conn, log)
}

// SchemaSpec is the schema of database db as SQL, one statement a line,
// the sink's insert column lists, and the cookbook's queries bound with
// their defaults, and (as "runtime") the reads the sink, the API, the
// escalation job, insights and themes build at run time, rendered with
// representative arguments, and (as "batch_inserts") the native batch
// inserts of the API, the desk and the audit log: for checking against another ClickHouse
// version (earshot migrate --print, sqlcheck.py).
func SchemaSpec(db string) (map[string]any, error) {
	spec := sink.CheckSpec(db)
	cat, err := insights.Load()
	if err != nil {
		return nil, err
	}
	if spec["queries"], err = cat.BindDefaults(db); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	runtime, err := sink.RuntimeStatements(db, now)
	if err != nil {
		return nil, fmt.Errorf("rendering the sink's runtime SQL: %w", err)
	}
	parts := []func() (map[string]string, error){
		func() (map[string]string, error) { return cat.RuntimeStatements(db) },
		func() (map[string]string, error) { return themes.RuntimeStatements(db, now) },
	}
	for _, part := range parts {
		m, err := part()
		if err != nil {
			return nil, fmt.Errorf("rendering runtime SQL: %w", err)
		}
		maps.Copy(runtime, m)
	}
	spec["runtime"] = runtime
	if spec["batch_inserts"], err = sink.RuntimeBatches(db, now); err != nil {
		return nil, fmt.Errorf("rendering the batch inserts: %w", err)
	}
	return spec, nil
}
