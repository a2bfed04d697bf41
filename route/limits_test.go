package route

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/strictyaml"
)

// TestPolicyRuleLimit: a policy of more rules than MaxRules is refused at
// once. Every rule is checked against every earlier one (can it ever
// apply?) and every post tries the rules in turn, so a 3.5 MiB policy of
// 50,000 rules took minutes to load before it was refused or served.
func TestPolicyRuleLimit(t *testing.T) {
	policy := func(n int) string {
		var b strings.Builder
		b.WriteString("queues: [care]\nrules:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {name: r%d, queue: care, priority: P3, when: {keywords: [k%d]}}\n", i, i)
		}
		path := filepath.Join(t.TempDir(), "routing.yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if _, err := LoadPolicy(policy(MaxRules)); err != nil {
		t.Fatalf("%d rules: %v", MaxRules, err)
	}
	path := policy(5_000)
	start := time.Now()
	_, err := LoadPolicy(path)
	took := time.Since(start)
	want := fmt.Sprintf("%s: rules: 5000 rules; the limit is %d", path, MaxRules)
	if !errors.Is(err, strictyaml.ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Fatalf("5,000 rules: %v, want a configuration error holding %q", err, want)
	}
	t.Logf("5,000 rules refused in %v", took)
}

// manyRegionsOrg writes an organisation of n regions whose hours start at
// different minutes, each worked by a team, with one queue per team that
// hands off to an always-on queue: n chains of two queues.
func manyRegionsOrg(tb testing.TB, n int) string {
	var b strings.Builder
	b.WriteString("regions:\n")
	for i := range n {
		fmt.Fprintf(&b, "  r%d: {timezone: Europe/Athens, hours: {mon-sun: \"00:%02d-12:00\", sat-sun: \"12:00-23:%02d\"}}\n", i, i%60, (i/60)%60)
	}
	b.WriteString("teams:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: t%d, region: r%d}\n  - {name: o%d, always_on: true}\n", i, i, i)
	}
	b.WriteString("queues:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: q%d, team: t%d, handoff: [p%d]}\n  - {name: p%d, team: o%d}\n", i, i, i, i, i)
	}
	path := filepath.Join(tb.TempDir(), "org.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkLoadOrgManyRegions: the coverage check of an organisation of
// many regions (a 45 kB file for 200).
func BenchmarkLoadOrgManyRegions(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path := manyRegionsOrg(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := LoadOrg(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
