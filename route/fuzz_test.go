package route

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/strictyaml"
)

// maxSeed leaves the corpus' deep-nesting files (40 kB of brackets,
// checked by TestConfigCorpus) out of the seeds: the fuzzer spends its time
// minimising them.
const maxSeed = 8 << 10

// seedFiles adds every file of the configuration corpus (and the shipped
// examples) matching pattern as a seed.
func seedFiles(f *testing.F, patterns ...string) {
	f.Helper()
	n := 0
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) > maxSeed {
				continue
			}
			f.Add(data)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seeds in %v", patterns)
	}
}

// fuzzFile writes data where a loader reads it: one file per fuzzing
// process, rewritten for each input.
func fuzzFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzLoadPolicy: whatever a policy file holds, LoadPolicy returns a policy
// or a configuration error (exit 2), never panics or hangs; a policy it
// returns decides on a post and reports its overlaps.
func FuzzLoadPolicy(f *testing.F) {
	seedFiles(f, "../pipeline/testdata/config/policy/*.yaml", "../deploy/examples/routing.yaml")
	path := filepath.Join(f.TempDir(), "routing.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFile(t, path, data)
		p, err := LoadPolicy(path)
		if err != nil {
			if !errors.Is(err, strictyaml.ErrInvalid) {
				t.Fatalf("not a configuration error: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("a loaded policy does not validate: %v", err)
		}
		if len(p.AllQueues()) == 0 {
			t.Fatal("a loaded policy has no queue")
		}
		for _, it := range []*post.Item{
			item("acme", []string{"acme"}, "negative", "EMEA", 1e6),
			item("acme-legal", nil, "neutral", "", 0),
		} {
			if r := p.Decide(it); r != nil && r.Suppress == "" && !containsQueue(p.Queues, r.Queue) {
				t.Fatalf("rule %q sends to queue %q, not among %v", r.Name, r.Queue, p.Queues)
			}
		}
		p.Overlaps()
	})
}

func containsQueue(qs []string, q string) bool {
	for _, x := range qs {
		if x == q {
			return true
		}
	}
	return false
}

// FuzzLoadOrg: whatever an org file holds, LoadOrg returns an organisation
// or a configuration error, never panics or hangs; for an organisation it
// returns, every queue has a handler and its SLA deadlines come after the
// alert, at any time of the week.
func FuzzLoadOrg(f *testing.F) {
	seedFiles(f, "../pipeline/testdata/config/org/*.yaml", "../deploy/examples/org.yaml")
	path := filepath.Join(f.TempDir(), "org.yaml")
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzFile(t, path, data)
		o, err := loadOrgAt(path, now)
		if err != nil {
			if !errors.Is(err, strictyaml.ErrInvalid) {
				t.Fatalf("not a configuration error: %v", err)
			}
			return
		}
		for _, q := range o.Queues {
			for h := range 7 * 24 / 5 {
				at := now.Add(time.Duration(h) * 5 * time.Hour)
				if _, ok := o.Handle(q.Name, at); !ok {
					t.Fatalf("queue %s has nobody on duty at %v, yet the coverage check passed", q.Name, at)
				}
				for p := range q.SLA {
					if due := o.Due(q.Name, p, at); !due.IsZero() && !due.After(at) {
						t.Fatalf("queue %s: %s raised at %v is due at %v", q.Name, p, at, due)
					}
				}
			}
		}
	})
}
