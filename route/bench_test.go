package route

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// bigPolicy writes a policy of n rules over realistic conditions; the
// last is a catch-all, so a typical post is tested against many rules.
func bigPolicy(b *testing.B, n int) *Policy {
	rng := rand.New(rand.NewPCG(1, 1))
	var sb strings.Builder
	sb.WriteString("queues: [care, pr, legal]\nrules:\n")
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for i := range n - 1 {
		fmt.Fprintf(&sb, "  - name: r%d\n    when: {watchlists: [w%d, w%d], sentiment: [%s], regions: [%s], min_followers: %d}\n    queue: %s\n    priority: P%d\n",
			i, rng.IntN(500), rng.IntN(500), pick("negative", "neutral", "positive"), pick("EMEA", "NA", "APAC", "LATAM"), rng.IntN(100)*100, pick("care", "pr", "legal"), 1+rng.IntN(4))
	}
	sb.WriteString("  - name: rest\n    queue: care\n    priority: P4\n")
	path := filepath.Join(b.TempDir(), "routing.yaml")
	os.WriteFile(path, []byte(sb.String()), 0o644)
	p, err := LoadPolicy(path)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkRoute200Rules routes posts through a 200-rule policy:
//
//	go test -run XXX -bench Route -benchmem ./route/
func BenchmarkRoute200Rules(b *testing.B) {
	p := bigPolicy(b, 200)
	items := make([]*post.Item, 1000)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range items {
		items[i] = item(fmt.Sprintf("w%d", rng.IntN(600)), []string{"acme"}, []string{"negative", "neutral", "positive"}[rng.IntN(3)], []string{"EMEA", "NA", "APAC"}[rng.IntN(3)], int64(rng.IntN(20000)))
	}
	stage := p.Stage(time.Now)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, it := range items {
			it.Alert = nil
		}
		if _, err := stage(ctx, post.Batch{Items: items}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkResolveDue is the desk metrics' judging of a resolve clock in
// the API (once per listed alert per refresh, every 30 s on ClickHouse):
// care's P2 target (24 h on the business clock of the example org) from
// alerts raised across a week, against pr's (calendar, no target: zero).
func BenchmarkResolveDue(b *testing.B) {
	org, err := LoadOrg(filepath.Join("..", "deploy", "examples", "org.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, q := range []string{"care", "pr"} {
		b.Run(q, func(b *testing.B) {
			i := 0
			for b.Loop() {
				org.ResolveDue(q, "P2", t0.Add(time.Duration(i%10080)*time.Minute))
				i++
			}
		})
	}
}
