// Package durable is the one way earshot writes a file that must survive a
// crash, and the one way processes sharing a file (the API, the CLI, the
// pipeline) take turns at it.
//
// WriteFile leaves either the old file or the new one, never a torn or
// empty one: it writes a temporary file beside the target, syncs it,
// renames it over the target and syncs the directory, so that the rename
// itself survives a power cut. A crash can leave a temporary file named
// ".<name>.*" beside the target; it is never read.
//
// Lock is a lock file shared between processes (flock(2) on Unix,
// LockFileEx on Windows), from github.com/gofrs/flock.
package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/gofrs/flock"
)

// WriteFile replaces path with data, with permissions perm, so that a crash
// at any moment leaves either the old contents or the new ones.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return writeFile(path, data, perm, nil)
}

// writeFile is WriteFile, telling step (when not nil) each step as it is
// done, for the tests of their order.
func writeFile(path string, data []byte, perm fs.FileMode, step func(string)) (err error) {
	if step == nil {
		step = func(string) {}
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	step("write")
	if err = f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	step("sync")
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	step("rename")
	if err = SyncDir(dir); err != nil {
		return err
	}
	step("syncdir")
	return nil
}

// SyncDir makes the entries of dir (a file created, renamed or removed in
// it) durable. Where directories cannot be synced (Windows, some file
// systems), it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // NTFS journals its metadata; a directory cannot be opened for syncing
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// Lock is a lock file that processes take in turn: exclusive for writers,
// shared among readers. It also excludes the goroutines of one process only
// when each uses its own Lock; one Lock must not be used by two goroutines
// at once (guard it with a mutex, as the stores do).
type Lock struct{ f *flock.Flock }

// NewLock returns the lock of the file at path, created (with perm) when
// it is first taken. The file stays; its contents are never used.
func NewLock(path string, perm fs.FileMode) *Lock {
	return &Lock{f: flock.New(path, flock.SetPermissions(perm))}
}

// Lock waits for the lock, exclusive.
func (l *Lock) Lock() error {
	if err := l.f.Lock(); err != nil {
		return fmt.Errorf("locking %s: %w", l.f.Path(), err)
	}
	return nil
}

// RLock waits for the lock, shared with other readers.
func (l *Lock) RLock() error {
	if err := l.f.RLock(); err != nil {
		return fmt.Errorf("locking %s: %w", l.f.Path(), err)
	}
	return nil
}

// TryLock takes the lock, exclusive, if no one holds it, without waiting.
func (l *Lock) TryLock() (bool, error) { return l.f.TryLock() }

// TryRLock takes the lock, shared, if no writer holds it, without waiting.
func (l *Lock) TryRLock() (bool, error) { return l.f.TryRLock() }

// Unlock releases the lock (and the file's handle).
func (l *Lock) Unlock() error { return l.f.Unlock() }

// Close releases the lock if it is held.
func (l *Lock) Close() error { return l.f.Close() }
