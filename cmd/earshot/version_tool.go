package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and revision are the release and the commit of this build, set at
// link time by `make image` (deploy/image):
//
//	go build -ldflags "-X main.version=v1.4.0 -X main.revision=$(git rev-parse HEAD)" ./cmd/earshot
//
// Left empty (go build, go install), they come from what the Go toolchain
// records in the binary: the module version of `go install ...@v1.4.0`, and
// the VCS revision of a build inside a git checkout.
var version, revision string

// build is what `earshot version` reports.
type build struct {
	Version  string `json:"version"`            // v1.4.0, or (devel)
	Revision string `json:"revision,omitempty"` // the commit, when known
	Time     string `json:"time,omitempty"`     // the commit's time, when the toolchain recorded it
	Modified bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go       string `json:"go"`                 // the Go toolchain
}

// currentBuild is this binary's build: the link-time values first, then the
// toolchain's build information for what they leave empty.
func currentBuild() build {
	b := build{Version: version, Revision: revision, Go: runtime.Version()}
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
func (b build) String() string {
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

// versionTool is `earshot version [--json]`.
func versionTool(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the version as a JSON object: version, revision, time, modified, go")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return exitError{2, err}
	}
	if fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("earshot version: unexpected arguments %v", fs.Args())}
	}
	b := currentBuild()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(b)
	}
	_, err := fmt.Fprintln(stdout, b)
	return err
}
