package route

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// incidentRecords routes the copies of one cluster as enrich processes
// numbered them: each process counts only the copies it saw, so with n
// processes the sizes go 1, 1, …, 2, 2, … It returns the alert records'
// incident sizes (0 for the first post's plain alert) and ids.
func incidentRecords(t *testing.T, copies, procs int) ([]int, map[string]bool) {
	t.Helper()
	p, _ := load(t, policy)
	stage := p.Stage(time.Now)
	seen := make([]int, procs)
	var sizes []int
	ids := map[string]bool{}
	for i := range copies {
		seen[i%procs]++
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.ID = fmt.Sprint("copy", i)
		it.Enrichment.ClusterID, it.Enrichment.ClusterSize = "c1", seen[i%procs]
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Items {
			if o.Alert.Reason == "" {
				sizes = append(sizes, o.Alert.IncidentSize)
				ids[o.Alert.ID] = true
			}
		}
	}
	return sizes, ids
}

// TestIncidentSameOnEnrichReplicas: the route process counts an
// incident's posts itself, so its alert records (when the incident is
// updated, and its size) do not depend on how many enrich processes
// formed the cluster.
func TestIncidentSameOnEnrichReplicas(t *testing.T) {
	one, oneIDs := incidentRecords(t, 300, 1)
	if want := []int{0, 2, 4, 8, 16, 32, 64, 100, 128, 200, 256, 300}; !slices.Equal(one, want) {
		t.Fatalf("one enrich process: incident sizes %v, want %v", one, want)
	}
	for _, n := range []int{2, 4} {
		got, ids := incidentRecords(t, 300, n)
		if !slices.Equal(got, one) || len(ids) != 1 || len(oneIDs) != 1 {
			t.Errorf("%d enrich processes: incident sizes %v (%d ids), want %v as on one", n, got, len(ids), one)
		}
	}
	// A redelivered copy (same key) does not grow the incident.
	p, _ := load(t, policy)
	stage := p.Stage(time.Now)
	for range 2 {
		for i := 1; i <= 4; i++ {
			it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
			it.Post.ID = fmt.Sprint("copy", i)
			it.Enrichment.ClusterID, it.Enrichment.ClusterSize = "c2", i
			out, _ := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
			for _, o := range out.Items {
				if o.Alert.IncidentSize > 4 {
					t.Errorf("redelivered copies grew the incident to %d, want at most 4", o.Alert.IncidentSize)
				}
			}
		}
	}
}
