package stream

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Drain hands every record of c to fn and commits it, until ctx ends or the
// topic is closed. It is for terminal readers (printers, loggers) that
// produce nothing; fn must not fail.
func Drain(ctx context.Context, c Consumer, log *slog.Logger, fn func(Delivery)) error {
	return DrainFlush(ctx, c, log, fn, nil)
}

// DrainFlush is Drain that calls flush, when not nil, after each batch and
// before committing it: fn may buffer (a printer), and what sits in a buffer
// is not done. A batch whose flush fails is not committed.
func DrainFlush(ctx context.Context, c Consumer, log *slog.Logger, fn func(Delivery), flush func() error) error {
	b := Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for {
		ds, err := c.Fetch(ctx, 1000, 0)
		for _, d := range ds {
			fn(d)
		}
		if len(ds) > 0 && flush != nil {
			if ferr := flush(); ferr != nil {
				log.Error("flushing what was read failed; not committing it", "err", ferr)
				ds = nil
			}
		}
		if len(ds) > 0 {
			last := map[int]int64{}
			for _, d := range ds {
				last[d.Partition] = max(last[d.Partition], d.Offset)
			}
			pos := make([]Position, 0, len(last))
			for p, o := range last {
				pos = append(pos, Position{p, o})
			}
			if err := c.Commit(context.WithoutCancel(ctx), pos); err != nil {
				log.Warn("commit failed; records may be shown again", "err", err)
			}
		}
		switch {
		case errors.Is(err, ErrClosed), ctx.Err() != nil:
			return nil
		case err != nil:
			wait := b.Next()
			log.Warn("fetch failed; retrying", "retry_in", wait, "err", err)
			Sleep(ctx, wait)
		default:
			b.Reset()
		}
	}
}
