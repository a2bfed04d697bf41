package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

// TestNaNIntoFloat: `.nan` decodes into a float field, and every range
// check a configuration makes (rate <= 0 || rate > 1e6) is false for it, so
// api.rate: .nan switched the API's rate limit off (every request
// allowed). A float that is not a number is an error naming the line,
// wherever it is; ±.inf stays for the range checks to refuse.
func TestNaNIntoFloat(t *testing.T) {
	type inner struct {
		Alpha float32 `yaml:"alpha"`
	}
	type cfg struct {
		Rate   float64            `yaml:"rate"`
		Inner  inner              `yaml:"inner"`
		Items  []inner            `yaml:"items"`
		ByName map[string]float64 `yaml:"by_name"`
	}
	for in, want := range map[string]string{
		"rate: .nan\n":                        "c.yaml:1: rate: .nan is not a number",
		"rate: .NaN\n":                        "c.yaml:1: rate: .NaN is not a number",
		"inner:\n  alpha: .NAN\n":             "c.yaml:2: alpha: .NAN is not a number",
		"items:\n- alpha: 1\n- alpha: .nan\n": "c.yaml:3: alpha",
		"by_name: {a: .nan}\n":                "c.yaml:1: a: .nan",
		"rate: 0.5\ninner: {alpha: 1e3}\n":    "-",
		"rate: .inf\n":                        "-",
	} {
		var c cfg
		err := Decode("c.yaml", []byte(in), &c)
		switch {
		case want == "-" && err != nil:
			t.Errorf("%q: %v", in, err)
		case want != "-" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one holding %q", in, err, want)
		}
	}
}
