package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/internal/buildinfo"
)

// The link-time version and revision (make build, make image) are what
// earshot version reports, in text and as JSON.
func TestVersionFromLinkFlags(t *testing.T) {
	defer func(v, r string) { buildinfo.Version, buildinfo.Revision = v, r }(buildinfo.Version, buildinfo.Revision)
	buildinfo.Version, buildinfo.Revision = "v9.8.7", "0123456789abcdef0123456789abcdef01234567"
	var out, errb bytes.Buffer
	if err := run([]string{"version"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.HasPrefix(s, "earshot v9.8.7 (0123456789abcdef0123456789abcdef01234567") || !strings.Contains(s, " go1.") {
		t.Errorf("earshot version printed %q", s)
	}
	out.Reset()
	if err := run([]string{"version", "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var b buildinfo.Build
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("earshot version --json: %v", err)
	}
	if b.Version != "v9.8.7" || b.Revision != buildinfo.Revision || !strings.HasPrefix(b.Go, "go1.") {
		t.Errorf("earshot version --json = %+v", b)
	}
}

func TestVersionUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := run([]string{"version", "extra"}, &out, &errb)
	if exitCode(err) != 2 {
		t.Errorf("earshot version extra = %v (exit %d), want exit 2", err, exitCode(err))
	}
}
