//go:build unix

package match

import (
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU is the CPU time the calling OS thread has used (lock the
// goroutine to its thread around a measurement). On a machine shared with
// other work it counts what the code cost, not the time spent waiting for a
// core; where the clock is missing it is the wall clock.
func ThreadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}
