//go:build !unix

package enrich

import "time"

// processCPU is the wall clock where getrusage does not exist.
func processCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }
