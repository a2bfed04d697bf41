package route

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// BenchmarkStageClusterPosts routes posts that all join near-duplicate
// clusters (1,000 of them), each post deleted in the next batch: the path
// that keeps, per incident, which of its posts are live.
func BenchmarkStageClusterPosts(b *testing.B) {
	p, err := load(b, policy)
	if err != nil {
		b.Fatal(err)
	}
	stage := p.Stage(time.Now)
	const batch = 100
	mk := func(n int) post.Batch {
		var in post.Batch
		for i := range batch {
			it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
			it.Post.ID = fmt.Sprint(n*batch + i)
			it.Enrichment.ClusterID, it.Enrichment.ClusterSize = fmt.Sprint("c", (n*batch+i)%1000), 1
			in.Items = append(in.Items, it)
		}
		return in
	}
	del := func(in post.Batch) post.Batch {
		var out post.Batch
		for _, it := range in.Items {
			out.Items = append(out.Items, &post.Item{Post: &post.Post{Platform: "x", ID: it.Post.ID, Kind: post.KindDelete}})
		}
		return out
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		in := mk(n)
		if _, err := stage(context.Background(), in); err != nil {
			b.Fatal(err)
		}
		if n%2 == 1 {
			if _, err := stage(context.Background(), del(in)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
