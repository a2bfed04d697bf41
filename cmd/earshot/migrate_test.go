package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestMigrateTimeoutFlag: migrate takes --timeout (0, the default: no
// limit in all); a negative one is a usage error, before any connection.
func TestMigrateTimeoutFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"migrate", "-h"}, &out, &errb); err != nil || !strings.Contains(out.String()+errb.String(), "--timeout duration") {
		t.Errorf("migrate -h: %v, %q: want --timeout", err, out.String()+errb.String())
	}
	err := run([]string{"migrate", "--timeout", "-1s", "--config", "/nonexistent.yaml"}, &out, &errb)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--timeout -1s") {
		t.Errorf("--timeout -1s: %v (exit %d), want a usage error naming it", err, exitCode(err))
	}
}
