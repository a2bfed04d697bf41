package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	gojson "github.com/goccy/go-json"
)

// ErrRefused is DryRun's error when a line was refused (a dead letter).
var ErrRefused = errors.New("ingest file")

// DryRun reads the file of cfg.File as the file source would and sends
// nothing downstream: each canonical post is printed as a JSON line on
// stdout, each dead letter with its reason on stderr, then a summary line
// on stdout (also after a read error). now is the clock for the skew check.
func DryRun(cfg Config, stdout, stderr io.Writer, now func() time.Time) error {
	f, err := OpenFileConfig(cfg)
	if err != nil {
		return err
	}
	defer f.Close()
	f.SetClock(now)
	enc := gojson.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	ctx := context.Background()
	var readErr error
	for {
		b, err := f.Next(ctx, cfg.BatchSize)
		for _, it := range b.Items {
			if werr := enc.Encode(it.Post); werr != nil {
				return fmt.Errorf("writing post: %w", werr)
			}
		}
		for _, r := range b.Rejected {
			fmt.Fprintf(stderr, "dead letter: %s\n", r.Reason)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err // the summary of what was read still comes
			break
		}
	}
	st := f.Stats()
	if err := enc.Encode(struct {
		Summary FileStats `json:"summary"`
	}{st}); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	if readErr != nil {
		return readErr
	}
	if st.Dead > 0 {
		return fmt.Errorf("%w: %d of %d lines refused", ErrRefused, st.Dead, st.Lines)
	}
	return nil
}
