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
	path := policy(50_000)
	start := time.Now()
	_, err := LoadPolicy(path)
	took := time.Since(start)
	want := fmt.Sprintf("%s: rules: 50000 rules; the limit is %d", path, MaxRules)
	if !errors.Is(err, strictyaml.ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Fatalf("50,000 rules: %v, want a configuration error holding %q", err, want)
	}
	t.Logf("50,000 rules refused in %v", took)
}
