//go:build unix

package enrich

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system), for
// benchmarks on a shared machine, where wall time counts other processes'
// turns on the core too.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
