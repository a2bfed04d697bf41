// Package buildinfo tells which build of earshot is running, from what the
// Go toolchain records in the binary.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Line is "earshot VERSION (COMMIT[, modified], BUILT) GOVERSION",
// from what the Go toolchain records in the binary.
func Line() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "earshot (unknown build) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		return fmt.Sprintf("earshot %s (%s%s, %s) %s", v, rev, dirty, at, bi.GoVersion)
	}
	return fmt.Sprintf("earshot %s %s", v, bi.GoVersion)
}
