package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Build compiles earshot from the repository at root into out as a static
// linux binary for o.Arch, with the time-zone database inside and
// o.Version and o.Revision stamped in for `earshot version`.
func Build(ctx context.Context, root, out string, o Options) error {
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	out, err := filepath.Abs(out) // go build runs in root; out is the caller's
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	ldflags := fmt.Sprintf("-s -w -X github.com/earshot-dev/earshot/internal/buildinfo.Version=%s -X github.com/earshot-dev/earshot/internal/buildinfo.Revision=%s", o.Version, o.Revision)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "timetzdata", "-ldflags", ldflags, "-o", out, "./cmd/earshot")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("image: go build: %w\n%s", err, b)
	}
	return nil
}

// FromGit fills the version, revision and creation time from the git
// checkout at root: `git describe --tags --always --dirty`, the HEAD
// commit and its commit time. Outside a checkout they are "(devel)",
// "unknown" and the Unix epoch, which the image says as they are.
func FromGit(ctx context.Context, root string, o Options) Options {
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		b, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if o.Version == "" {
		o.Version = git("describe", "--tags", "--always", "--dirty")
	}
	if o.Version == "" {
		o.Version = "(devel)"
	}
	if o.Revision == "" {
		o.Revision = git("rev-parse", "HEAD")
	}
	if o.Revision == "" {
		o.Revision = "unknown"
	}
	if o.Created.IsZero() {
		if s, err := strconv.ParseInt(git("log", "-1", "--format=%ct"), 10, 64); err == nil {
			o.Created = time.Unix(s, 0).UTC()
		} else {
			o.Created = time.Unix(0, 0).UTC()
		}
	}
	return o
}
