//go:build !unix

package post

import "testing"

// reportCPU reports nothing where no per-thread CPU clock exists.
func reportCPU(b *testing.B) func() { return func() {} }
