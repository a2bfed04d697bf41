//go:build unix

package bench

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time of the process (all threads), or the wall
// clock where that clock is missing.
func processCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// threadCPU is the CPU time of the calling OS thread, or the wall clock
// where that clock is missing.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// ThreadCPU is the CPU time of the calling OS thread (lock it first with
// runtime.LockOSThread): benchmarks on a shared machine report it beside
// the wall clock, which other work inflates.
func ThreadCPU() time.Duration { return threadCPU() }
