package webhook

import (
	"strings"
	"testing"
)

// ValidateShape reads no secret; Validate does, naming what is missing.
func TestValidateShapeReadsNoSecret(t *testing.T) {
	missing := t.TempDir() + "/none"
	for _, e := range []Endpoint{{URL: "https://example.com/h", SecretEnv: "EARSHOT_UNSET"}, {URL: "https://example.com/h", SecretFile: missing}} {
		c := Config{Endpoints: map[string]Endpoint{"legal": e}}
		if err := c.ValidateShape(); err != nil {
			t.Errorf("%+v: ValidateShape = %v", e, err)
		}
		if err := c.Validate(func(string) string { return "" }); err == nil || !(strings.Contains(err.Error(), "EARSHOT_UNSET") || strings.Contains(err.Error(), missing)) {
			t.Errorf("%+v: Validate = %v, want it naming the variable or file", e, err)
		}
	}
	for _, e := range []Endpoint{{URL: "https://example.com/h"}, {URL: "https://example.com/h", SecretEnv: "A", SecretFile: missing}, {URL: "https://example.com/h", SecretEnv: "1BAD"}, {URL: "ftp://x", SecretEnv: "A"}} {
		if err := (Config{Endpoints: map[string]Endpoint{"legal": e}}).ValidateShape(); err == nil {
			t.Errorf("%+v: ValidateShape passed", e)
		}
	}
}
