//go:build !unix

package watchlist

import "os"

// flock: without flock(2), only the in-process mutex guards the store, so
// one process at a time should use it.
func flock(*os.File, bool) error { return nil }

func funlock(*os.File) {}
