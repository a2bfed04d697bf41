//go:build !unix

package bench

import "time"

// processCPU is the wall clock where the process CPU clock is missing.
func processCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }

// threadCPU is the wall clock where the thread CPU clock is missing.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }

// ThreadCPU is the wall clock where no thread CPU clock exists.
func ThreadCPU() time.Duration { return threadCPU() }
