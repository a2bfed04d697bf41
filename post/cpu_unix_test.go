//go:build unix

package post

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// reportCPU reports the calling thread's CPU time per operation (cpu-ns/op)
// when the returned function is called: on a shared machine, wall time
// counts other work too.
func reportCPU(b *testing.B) func() {
	runtime.LockOSThread()
	var t0 unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t0)
	return func() {
		var t1 unix.Timespec
		unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t1)
		runtime.UnlockOSThread()
		b.ReportMetric(float64(t1.Nano()-t0.Nano())/float64(b.N), "cpu-ns/op")
	}
}
