package buildinfo

import (
	"strings"
	"testing"
)

// The link-time version and revision are what a build reports.
func TestLinkTimeValuesFirst(t *testing.T) {
	defer func(v, r string) { Version, Revision = v, r }(Version, Revision)
	Version, Revision = "v9.8.7", "0123456789abcdef0123456789abcdef01234567"
	b := Current()
	if b.Version != "v9.8.7" || b.Revision != Revision || !strings.HasPrefix(b.Go, "go1.") {
		t.Errorf("Current() = %+v", b)
	}
	if s := b.String(); !strings.HasPrefix(s, "earshot v9.8.7 (0123456789abcdef0123456789abcdef01234567") || !strings.Contains(s, " go1.") {
		t.Errorf("String() = %q", s)
	}
}

// Without link flags the version falls back to the toolchain's build
// information: a test binary has no module version, so (devel).
func TestFallback(t *testing.T) {
	defer func(v, r string) { Version, Revision = v, r }(Version, Revision)
	Version, Revision = "", ""
	if b := Current(); b.Version != "(devel)" || !strings.HasPrefix(b.Go, "go1.") {
		t.Errorf("Current() = %+v, want version (devel) and a Go version", b)
	}
}
