package route

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/enrich"
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

// TestAlertsSameOnEnrichReplicas runs the chain in-process: posts (storms
// of copies among unique posts) partitioned by key over n enrich
// processes, each its own enrich.Enricher with its own clusters, then one
// route stage. The alert records (id and incident size) are the same for
// 1, 2 and 4 enrich processes.
func TestAlertsSameOnEnrichReplicas(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	storms := []string{
		"Acme phone exploded in my pocket, this is the third time this month, never buying again",
		"Acme support kept me on hold for four hours and then hung up on me",
		"the new Acme update bricked every router in our office this morning",
	}
	var ps []*post.Post
	for i := range 600 {
		s := i % len(storms)
		text := storms[s]
		switch i / len(storms) % 3 {
		case 1:
			text = "RT @someone: " + text + " https://t.co/x" + fmt.Sprint(i)
		case 2:
			text = strings.ToUpper(text) + "!!"
		}
		if i%5 == 0 {
			text = fmt.Sprintf("unique post number %d about %d things and Acme", i, i*7919)
		}
		ps = append(ps, &post.Post{Platform: "x", ID: fmt.Sprint("p", i), Text: text, CreatedAt: t0.Add(time.Duration(i) * 3 * time.Second)})
	}
	records := func(n int) []string {
		es := make([]*enrich.Enricher, n)
		for i := range es {
			es[i] = enrich.New(enrich.Config{})
		}
		p, _ := load(t, policy)
		stage := p.Stage(time.Now)
		var recs []string
		for _, q := range ps {
			h := fnv.New32a()
			h.Write([]byte(q.Key()))
			en := es[h.Sum32()%uint32(n)].Enrich(q)
			it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
			it.Post = q
			it.Enrichment.ClusterID, it.Enrichment.ClusterSize = en.ClusterID, en.ClusterSize
			out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Items {
				recs = append(recs, fmt.Sprintf("%s %s %d", o.Alert.ID, o.Alert.Queue, o.Alert.IncidentSize))
			}
		}
		slices.Sort(recs)
		return recs
	}
	one := records(1)
	if len(one) < 120 || len(one) > 200 {
		t.Fatalf("one enrich process: %d alert records, want the 120 unique posts' and a few updates of 3 incidents", len(one))
	}
	for _, n := range []int{2, 4} {
		if got := records(n); !slices.Equal(got, one) {
			t.Errorf("%d enrich processes: %d alert records, want the %d of one process", n, len(got), len(one))
		}
	}
}

// TestIncidentUpdatesOutOfOrder: copies reach route in another order than
// enrichment numbered them (its workers, the topic's partitions): the
// incident is still updated at each of its sizes 1, 2, 4, … once, however
// they are ordered — a restarted route reading everything again included.
func TestIncidentUpdatesOutOfOrder(t *testing.T) {
	order := make([]int, 300)
	for i := range order {
		order[i] = (i*7 + 3) % 300 // 7 is prime to 300: every copy once, shuffled
	}
	for pass := range 2 { // a route process, then a restarted one
		p, _ := load(t, policy)
		stage := p.Stage(time.Now)
		var records int
		last := 0
		for _, k := range order {
			it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
			it.Post.ID = fmt.Sprint("copy", k)
			it.Enrichment.ClusterID, it.Enrichment.ClusterSize = "c1", k+1
			out, _ := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
			for _, o := range out.Items {
				if o.Alert.Reason == "" {
					records++
					last = max(last, o.Alert.IncidentSize)
				}
			}
		}
		if records != 12 || last != 300 {
			t.Errorf("pass %d: %d records, largest size %d; want 12 (sizes 1, 2, 4, … 256, 100, 200, 300) up to 300", pass, records, last)
		}
	}
}
