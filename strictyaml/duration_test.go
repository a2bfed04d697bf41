package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestBareZeroDuration: a duration written as a bare 0 is zero, wherever a
// duration is (a field, a pointer, a list, a map, a flow mapping), as a
// person writing "linger: 0" expects. Any other bare number is refused with
// the key and the fix.
func TestBareZeroDuration(t *testing.T) {
	type inner struct {
		Wait *time.Duration `yaml:"wait"`
	}
	type conf struct {
		Every time.Duration            `yaml:"every"`
		List  []time.Duration          `yaml:"list"`
		ByKey map[string]time.Duration `yaml:"by_key"`
		Inner inner                    `yaml:"inner"`
		Flow  inner                    `yaml:"flow"`
		Count int                      `yaml:"count"`
		Name  string                   `yaml:"name"`
	}
	def := func() conf {
		w := time.Minute
		return conf{Every: time.Hour, Inner: inner{Wait: &w}, Flow: inner{Wait: &w}}
	}
	in := "every: 0   # off\nlist: [0, 5s, 0]\nby_key:\n  ρυθμός: 0\n  b: 1m\ninner:\n  wait: 0\nflow: {wait: 0}\ncount: 0\nname: 0\n"
	c := def()
	if err := Decode("c.yaml", []byte(in), &c); err != nil {
		t.Fatalf("%v", err)
	}
	if c.Every != 0 || len(c.List) != 3 || c.List[0] != 0 || c.List[1] != 5*time.Second || c.List[2] != 0 ||
		c.ByKey["ρυθμός"] != 0 || c.ByKey["b"] != time.Minute || *c.Inner.Wait != 0 || *c.Flow.Wait != 0 || c.Count != 0 || c.Name != "0" {
		t.Errorf("decoded %+v, inner wait %v, flow wait %v", c, *c.Inner.Wait, *c.Flow.Wait)
	}

	// Windows line ends, and a document that is only the 0.
	c = def()
	if err := Decode("c.yaml", []byte("name: x\r\nevery: 0\r\nlist:\r\n  - 0\r\n"), &c); err != nil || c.Every != 0 || len(c.List) != 1 {
		t.Errorf("CRLF: %v, %+v", err, c)
	}
	var d time.Duration = 1
	if err := Decode("d.yaml", []byte("0"), &d); err != nil || d != 0 {
		t.Errorf("a document of 0: %v, %v", err, d)
	}

	for in, want := range map[string][]string{
		"every: 5\n":            {`c.yaml:1: every: 5 has no unit`, "5s"},
		"name: x\nevery: 1.5\n": {`c.yaml:2: every: 1.5 has no unit`},
		"inner:\n  wait: 30\n":  {`c.yaml:2: wait: 30 has no unit`},
		"list: [0, 7]\n":        {`c.yaml:1: list: 7 has no unit`},
		"every: 00\n":           {`c.yaml:1: every: 00 has no unit`},
		"every: 0\nevery2: 0\n": {`c.yaml:2: unknown key "every2"`},
	} {
		c := def()
		err := Decode("c.yaml", []byte(in), &c)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", in, err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %v, want it to say %q", in, err, w)
			}
		}
	}
}

// TestManyBareZerosAreLinear: a file of many bare-zero durations decodes
// in about the time of the same file written with 0s (one more parse), not
// with a pass over the file per zero (which took minutes at the size limit).
func TestManyBareZerosAreLinear(t *testing.T) {
	const n = 50_000
	decode := func(line string) time.Duration {
		var c struct {
			List []time.Duration `yaml:"list"`
		}
		start := time.Now()
		if err := Decode("c.yaml", []byte("list:\n"+strings.Repeat(line, n)), &c); err != nil || len(c.List) != n {
			t.Fatalf("%v, %d durations", err, len(c.List))
		}
		return time.Since(start)
	}
	base, zeros := decode("- 0s\n"), decode("- 0\n")
	if base2 := decode("- 0s\n"); base2 > base {
		base = base2 // the slower of two, on a shared machine
	}
	if zeros > 4*base {
		t.Errorf("%d bare zeros took %v, %d 0s %v", n, zeros, n, base)
	}
}
