package route

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// BenchmarkRecentAtLimits measures the heap a route process's retraction
// state holds at its bounds (recentCapacity posts, incidentsCapacity
// incidents), with post keys as long as Bluesky's (about 80 bytes; X's are
// about 20) and 32-character alert ids, as the stage keeps them:
//
//   - alerts: recentCapacity posts that each raised an alert and a copy;
//   - incidents: recentCapacity posts of incidentsCapacity incidents;
//   - both: the incidents, then as many plain alerts, which push the
//     incidents' posts out of the alert list but not out of the incidents
//     (their members): the most the state holds.
//
// The number is "MB-held": live heap after a GC, less before (the
// comment on recentCapacity and docs/routing.md quote it).
func BenchmarkRecentAtLimits(b *testing.B) {
	key := func(kind string, i int) string {
		return fmt.Sprintf("bluesky:at://did:plc:%s%08d/app.bsky.feed.post/%s", kind, i, strings.Repeat("k", 13))
	}
	id := func(k string) string { return AlertID(k, "care") }
	fillIncidents := func(r *recent) {
		per := recentCapacity / incidentsCapacity
		for i := range recentCapacity {
			k := key("m", i)
			m := member{id: id(fmt.Sprint("incident", i/per)), size: per}
			var a *post.Alert
			var copies []copyRef
			if i%per == 0 { // the incident's first post raises its alert
				a = &post.Alert{ID: m.id, Queue: "care", Priority: "P2"}
				copies = []copyRef{{id(m.id + "legal"), "legal"}}
			}
			r.putMember(k, "jetstream", m, a, copies)
		}
	}
	fillAlerts := func(r *recent) {
		for i := range recentCapacity {
			k := key("a", i)
			r.put(k, "jetstream", id(k), "care", "P2", copyRef{id(k + "legal"), "legal"})
		}
	}
	for _, c := range []struct {
		name string
		fill func(*recent)
	}{
		{"alerts", fillAlerts},
		{"incidents", fillIncidents},
		{"both", func(r *recent) { fillIncidents(r); fillAlerts(r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var held float64
			for range b.N {
				before := heapLive()
				r := newRecent(recentCapacity)
				c.fill(r)
				held += float64(heapLive() - before)
				if r.order.Len() != recentCapacity || r.members > recentCapacity || len(r.incidents) > incidentsCapacity {
					b.Fatalf("%d alerts, %d members, %d incidents: not at the bounds", r.order.Len(), r.members, len(r.incidents))
				}
				runtime.KeepAlive(r)
			}
			b.ReportMetric(held/float64(b.N)/1e6, "MB-held")
		})
	}
}

func heapLive() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
