//go:build unix

package watchlist

import (
	"os"
	"syscall"
)

// flock takes the store's lock, shared among readers or exclusive, so that
// processes sharing a store (the API, the CLI) do not interleave changes.
func flock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

func funlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
