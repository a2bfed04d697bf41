package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/earshot-dev/earshot/internal/durable"
)

// fileCheckpoint is where a file replay has got to: every line before
// Offset (in decompressed bytes) has been handed on and handled.
type fileCheckpoint struct {
	Path   string    `json:"path"`
	Line   int       `json:"line"`
	Offset int64     `json:"offset"`
	At     time.Time `json:"at"`
}

// checkpointer saves a fileCheckpoint at most every `every`, atomically
// (write and rename), so a crash leaves the old one or the new one.
type checkpointer struct {
	path  string
	file  string
	every time.Duration
	last  time.Time
	saved int64
}

func (c *checkpointer) load() (fileCheckpoint, bool, error) {
	var cp fileCheckpoint
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err = json.Unmarshal(b, &cp); err != nil {
		err = fmt.Errorf("%d bytes that are not a checkpoint: %w", len(b), err)
	} else if cp.Offset < 0 || cp.Line < 0 {
		err = fmt.Errorf("a negative position (line %d, offset %d)", cp.Line, cp.Offset)
	}
	if err != nil {
		// earshot replaces it whole (internal/durable), so this is a file
		// system that lost data in a crash, or a hand: say what to do.
		return cp, false, fmt.Errorf("checkpoint %s holds %w; remove it to read %s from the start (what was read before is processed again, alerts with the same ids), or write back a copy", c.path, err, c.file)
	}
	if cp.Path != c.file {
		return cp, false, fmt.Errorf("checkpoint %s is for %s, not %s: remove it to start over", c.path, cp.Path, c.file)
	}
	return cp, true, nil
}

// save writes the position unless it has not moved or was saved less than
// `every` ago (force ignores the interval). A nil checkpointer saves nothing.
func (c *checkpointer) save(line int, offset int64, force bool) error {
	if c == nil || offset == c.saved || !force && time.Since(c.last) < c.every {
		return nil
	}
	b, err := json.Marshal(fileCheckpoint{Path: c.file, Line: line, Offset: offset, At: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	if err := durable.WriteFile(c.path, b, 0o600); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	c.last, c.saved = time.Now(), offset
	return nil
}

// resume skips what the checkpoint says was handled. Compressed input is
// read and discarded up to the offset; there is no seeking in it.
func (f *File) resume() error {
	cp, ok, err := f.ckpt.load()
	if err != nil || !ok {
		return err
	}
	n, err := io.CopyN(io.Discard, f.r, cp.Offset)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("checkpoint %s: %s is %d bytes, shorter than the checkpoint's %d: was it replaced? remove the checkpoint to start over", f.ckpt.path, f.name, n, cp.Offset)
		}
		return fmt.Errorf("resuming %s from its checkpoint: %w", f.name, err)
	}
	f.offset, f.line, f.ckpt.saved = cp.Offset, cp.Line, cp.Offset
	return nil
}
