//go:build !unix

package main

import "time"

// cpu is the wall clock where no process CPU clock is read.
func cpu() time.Duration { return time.Duration(time.Now().UnixNano()) }

// maxRSS is unknown here.
func maxRSS() int64 { return 0 }
