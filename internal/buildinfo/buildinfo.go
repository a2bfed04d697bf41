// Package buildinfo tells which build of earshot is running: the version
// and revision stamped at link time, else what the Go toolchain records in
// the binary.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version and Revision are the release and the commit of this build, set at
// link time by `make image` (deploy/ops/image):
//
//	go build -ldflags "-X github.com/earshot-dev/earshot/internal/buildinfo.Version=v1.4.0 \
//	  -X github.com/earshot-dev/earshot/internal/buildinfo.Revision=$(git rev-parse HEAD)" ./cmd/earshot
//
// Left empty (go build, go install), they come from what the Go toolchain
// records in the binary: the module version of `go install ...@v1.4.0`, and
// the VCS revision of a build inside a git checkout.
var Version, Revision string

// Build is what `earshot version` reports.
type Build struct {
	Version  string `json:"version"`            // v1.4.0, or (devel)
	Revision string `json:"revision,omitempty"` // the commit, when known
	Time     string `json:"time,omitempty"`     // the commit's time, when the toolchain recorded it
	Modified bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go       string `json:"go"`                 // the Go toolchain
}

// Current is this binary's build: the link-time values first, then the
// toolchain's build information for what they leave empty.
func Current() Build {
	b := Build{Version: Version, Revision: Revision, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.Go = bi.GoVersion
		if b.Version == "" && bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		vcsRev := ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRev = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
		switch {
		case b.Revision == "":
			b.Revision = vcsRev
		case vcsRev != "" && vcsRev != b.Revision:
			// The link-time revision names another commit than the tree
			// built: the time and modified flag are the tree's, not its.
			b.Time, b.Modified = "", false
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// String is "earshot VERSION (REVISION[, modified][, TIME]) GOVERSION", or
// "earshot VERSION GOVERSION" when the revision is unknown.
func (b Build) String() string {
	if b.Revision == "" {
		return fmt.Sprintf("earshot %s %s", b.Version, b.Go)
	}
	paren := []string{b.Revision}
	if b.Modified {
		paren = append(paren, "modified")
	}
	if b.Time != "" {
		paren = append(paren, b.Time)
	}
	return fmt.Sprintf("earshot %s (%s) %s", b.Version, strings.Join(paren, ", "), b.Go)
}
