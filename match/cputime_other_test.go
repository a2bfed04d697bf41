//go:build !unix

package match

import "time"

// ThreadCPU is the wall clock where the thread CPU clock is missing.
func ThreadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }
