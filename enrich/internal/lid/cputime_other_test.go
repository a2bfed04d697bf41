//go:build !unix

package lid

import "time"

// cpuTime is the wall clock where getrusage does not exist.
func cpuTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
