package live

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/internal/durable"
)

// CursorFile keeps a connector's position (a number, such as Jetstream's
// time_us or the id of the newest status seen) across restarts. It is
// replaced atomically, so a crash leaves the old value or the new one.
type CursorFile struct{ Path string }

// Load returns the saved cursor, or 0 when there is none yet.
func (f *CursorFile) Load() (int64, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading cursor: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("cursor file %s: %q is not a cursor; remove it to start from now", f.Path, b)
	}
	return n, nil
}

// Save replaces the saved cursor.
func (f *CursorFile) Save(n int64) error {
	if err := durable.WriteFile(f.Path, []byte(strconv.FormatInt(n, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("saving cursor: %w", err)
	}
	return nil
}
